"""An error found after a table was read (an unseen category under ``unknown="error"``, a class the
model was not trained on, a missing cell the model refuses) names the file and the row the value
was read from, whatever happened to the rows before: ``missing="drop"`` left some out, ``split``
picked some, several part files were joined, blank lines hold none. For CSV and JSON lines, read
whole and streamed in record batches."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndsl.data.check import encodes, failure
from nndsl.data.csv import load as load_csv
from nndsl.data.jsonl import load as load_json
from nndsl.data.schema import fit
from nndsl.data.split import load as load_split
from nndsl.errors import RunError

TRAIN = "a,plan,y\n1,x,yes\n2,z,no\n3,x,yes\n"
UNSEEN = "expected one of the training data's categories (x, z); received 'w'"


@pytest.fixture(params=[None, 1], ids=["whole", "streamed"])
def budget(request, monkeypatch):
    """The memory budget: None reads every table whole; 1 byte streams it, in record batches of two rows."""
    if request.param is not None:
        from nndsl.data import batches
        from nndsl.data import csv as csv_source

        monkeypatch.setattr(batches, "BATCH_BYTES", 64)
        monkeypatch.setattr(batches, "BATCH_ROWS", 2)
        monkeypatch.setattr(csv_source, "SMALL_FILE", 0)
    return request.param


def schema_of(tmp_path: Path, **args):
    """The schema a model trained on TRAIN (plan categories x and z, classes no and yes) has."""
    (tmp_path / "train.csv").write_text(TRAIN, encoding="utf-8")
    train = load_csv({"path": "train.csv", "target": "y", "categorical": ["plan"], "unknown": "error", **args}, name="train",
                     base=tmp_path)
    return fit(train, loss_kind="sparse", fail=failure(train, None, None))


def write(path: Path, rows: list[dict | None]) -> None:
    """``rows`` as a CSV or JSON lines file (by its suffix); None is a blank line, a None value an empty cell."""
    if path.suffix == ".csv":
        lines = ["a,plan,y"] + ["" if r is None else ",".join("" if r[k] is None else str(r[k]) for k in ("a", "plan", "y"))
                                for r in rows]
    else:
        lines = ["" if r is None else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def error_of(ds, schema) -> str:
    with pytest.raises(RunError) as info:
        encodes(ds, schema, failure(ds, None, None))
    return info.value.diagnostics[0].message


def load(path: str, base: Path, budget, suffix: str, **args):
    reader = load_csv if suffix == ".csv" else load_json
    return reader({"path": path, "target": "y", "categorical": ["plan"], **args}, name="new", base=base, memory_budget=budget)


ROWS = [{"a": 1, "plan": "x", "y": "yes"}, {"a": None, "plan": "z", "y": "no"}, {"a": None, "plan": "z", "y": "no"},
        {"a": 4, "plan": "w", "y": "yes"}]


@pytest.mark.parametrize("file,where", [("new.csv", "new.csv:row 5"), ("new.jsonl", "new.jsonl:line 4")])
def test_an_error_after_dropped_rows_names_the_offending_row(tmp_path, budget, file, where):
    write(tmp_path / file, ROWS)
    ds = load(file, tmp_path, budget, Path(file).suffix, missing="drop")
    assert ds.dropped == 2
    assert error_of(ds, schema_of(tmp_path)) == f"{where}, column 'plan': {UNSEEN}"


@pytest.mark.parametrize("file,where", [("new.csv", "new.csv:row 6"), ("new.jsonl", "new.jsonl:line 5")])
def test_a_class_never_trained_on_after_dropped_rows_and_a_blank_line(tmp_path, budget, file, where):
    rows = [dict(r, plan="x") for r in ROWS]
    rows[3]["y"] = "maybe"
    write(tmp_path / file, rows[:2] + [None] + rows[2:])
    ds = load(file, tmp_path, budget, Path(file).suffix, missing="drop")
    assert error_of(ds, schema_of(tmp_path)) == (f"{where}, column 'y': expected one of the training data's classes (no, yes); "
                                                 "received 'maybe'")


@pytest.mark.parametrize("file,where", [("new.csv", "new.csv:row 4"), ("new.jsonl", "new.jsonl:line 3")])
def test_a_missing_value_the_model_refuses_after_a_blank_line(tmp_path, budget, file, where):
    rows = [{"a": 1, "plan": "x", "y": "yes"}, None, {"a": None, "plan": "x", "y": "no"}]
    write(tmp_path / file, rows)
    ds = load(file, tmp_path, budget, Path(file).suffix)
    message = error_of(ds, schema_of(tmp_path, missing={"a": "error"}))
    assert message.startswith(f"{where}, column 'a': expected a number in column 'a'; received a missing value")


@pytest.mark.parametrize("suffix,word", [(".csv", "row"), (".jsonl", "line")])
def test_a_part_file_read_whole_is_named_with_its_own_row_as_streamed(tmp_path, budget, suffix, word):
    folder = tmp_path / ("cparts" if suffix == ".csv" else "jparts")
    folder.mkdir()
    write(folder / f"p1{suffix}", [{"a": i, "plan": "x", "y": "yes"} for i in range(5)])
    rows = [{"a": i, "plan": "w" if i == 3 else "z", "y": "no"} for i in range(5)]
    write(folder / f"p2{suffix}", rows[:1] + [None] + rows[1:])
    ds = load(folder.name, tmp_path, budget, suffix)
    number = 5 + (suffix == ".csv")  # the fourth row after a blank line; a CSV's header is row 1
    assert error_of(ds, schema_of(tmp_path)) == f"{folder.name}/p2{suffix}:{word} {number}, column 'plan': {UNSEEN}"


@pytest.mark.parametrize("file,first", [("new.csv", 2), ("new.jsonl", 1)])
def test_an_error_in_a_split_names_the_row_of_its_file(tmp_path, file, first):
    rows = [{"a": i, "plan": "x", "y": "yes"} for i in range(40)]
    rows[29]["plan"] = "w"
    write(tmp_path / file, [None] + rows[:10] + [None] + rows[10:])  # two blank lines before the bad row
    parent = load(file, tmp_path, None, Path(file).suffix)
    schema = schema_of(tmp_path)
    found = []
    for part in (0, 1):
        split = load_split({"source": "new", "fractions": [0.5, 0.5], "part": part, "seed": 3}, name="s", base=tmp_path,
                           resolve=lambda _: parent)
        try:
            encodes(split, schema, failure(split, None, None))
        except RunError as exc:
            found.append(exc.diagnostics[0].message)
    word = "row" if file.endswith(".csv") else "line"
    assert found == [f"{file}:{word} {29 + 2 + first}, column 'plan': {UNSEEN}"]


ROW = st.fixed_dictionaries({"a": st.one_of(st.none(), st.integers(0, 9)), "plan": st.sampled_from(["x", "z"]),
                             "y": st.sampled_from(["yes", "no"])})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(st.none(), ROW), min_size=1, max_size=30), bad=st.integers(0, 40),
       suffix=st.sampled_from([".csv", ".jsonl"]), streamed=st.booleans(), parts=st.integers(1, 3))
def test_the_offending_row_is_named_whatever_was_dropped_skipped_or_joined(rows, bad, suffix, streamed, parts, monkeypatch):
    """Rows with a missing ``a`` are dropped, blank lines skipped, the rows spread over part files:
    the one unseen category is located in its file, on its own row."""
    from nndsl.data import batches
    from nndsl.data import csv as csv_source

    if streamed:
        monkeypatch.setattr(batches, "BATCH_BYTES", 64)
        monkeypatch.setattr(batches, "BATCH_ROWS", 2)
        monkeypatch.setattr(csv_source, "SMALL_FILE", 0)
    bad = bad % (len(rows) + 1)
    rows = rows[:bad] + [{"a": 5, "plan": "w", "y": "yes"}] + rows[bad:]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        schema = schema_of(base)
        folder = base / "parts"
        folder.mkdir()
        cut = [k * len(rows) // parts for k in range(parts + 1)]
        expected = None
        for k in range(parts):
            # each file starts with a row of every column, so that none is empty or holds only nulls
            mine = [{"a": 0, "plan": "x", "y": "no"}, *rows[cut[k] : cut[k + 1]]]
            write(folder / f"p{k}{suffix}", mine)
            if cut[k] <= bad < cut[k + 1]:
                number = bad - cut[k] + 1 + (2 if suffix == ".csv" else 1)  # blank lines count
                expected = f"parts/p{k}{suffix}:{'row' if suffix == '.csv' else 'line'} {number}"
        reader = load_csv if suffix == ".csv" else load_json
        ds = reader({"path": "parts", "target": "y", "categorical": ["plan"], "missing": "drop"}, name="new", base=base,
                    memory_budget=1 if streamed else None)
        assert error_of(ds, schema) == f"{expected}, column 'plan': {UNSEEN}"


@pytest.mark.parametrize("suffix,fmt,where", [(".csv", "csv", "parts/p2.csv:row 4"), (".jsonl", "jsonl", "parts/p2.jsonl:line 3")])
def test_the_predict_and_evaluate_commands_name_the_part_file_of_a_table_read_whole(tmp_path, suffix, fmt, where):
    """The commands encode a table read whole with the failure of nndsl.cli.tables: it places the row as the loader does."""
    from nndsl.cli.tables import row_failure
    from nndsl.data.schema import encode

    (tmp_path / "parts").mkdir()
    write(tmp_path / "parts" / f"p1{suffix}", [{"a": 1, "plan": "x", "y": "yes"}, {"a": None, "plan": "x", "y": "no"}])
    write(tmp_path / "parts" / f"p2{suffix}", [{"a": None, "plan": "z", "y": "no"}, None, {"a": 2, "plan": "w", "y": "no"}])
    ds = load("parts", tmp_path, None, suffix, missing="drop")
    with pytest.raises(RunError) as info:
        encode(ds, schema_of(tmp_path), row_failure("parts", fmt, ds))
    assert info.value.diagnostics[0].message == f"{where}, column 'plan': {UNSEEN}"


# ---------------------------------------------------------------- the first bad cell, whatever its kind


def _nan_before_missing(tmp_path: Path, suffix: str) -> str:
    """A table whose column b holds 'nan' in its second row, and column a nothing in its third."""
    name = "t" + suffix
    if suffix == ".csv":
        (tmp_path / name).write_text("a,b,y\n1,1,1\n2,nan,2\n,3,3\n")
    elif suffix == ".jsonl":
        (tmp_path / name).write_text('{"a": 1, "b": "1", "y": 1}\n{"a": 2, "b": "nan", "y": 2}\n{"a": null, "b": "3", "y": 3}\n')
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"a": [1.0, 2.0, None], "b": [1.0, float("nan"), 3.0], "y": [1, 2, 3]}), tmp_path / name)
    return name


@pytest.mark.parametrize("suffix,where", [(".csv", "t.csv:row 3"), (".jsonl", "t.jsonl:line 2"), (".parquet", "t.parquet:row 2")])
def test_a_nan_is_reported_before_a_later_missing_cell_of_another_column(tmp_path, budget, suffix, where):
    """The row-by-row reader stops at the first bad cell; Arrow's readers find a column's missing
    cells before its NaN, and used to report the later missing cell of column a."""
    from nndsl.data import parquet

    name = _nan_before_missing(tmp_path, suffix)
    loader = {".csv": load_csv, ".jsonl": load_json, ".parquet": parquet.load}[suffix]
    with pytest.raises(RunError) as info:
        loader({"path": name, "target": "y", "missing": "error"}, name="d", base=tmp_path, memory_budget=budget)
    assert info.value.diagnostics[0].message == f"{where}, column 'b': expected a finite number; received 'nan'"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_missing_label_in_a_part_file_of_numbers_is_missing_not_nan(tmp_path, budget, suffix):
    """One part file's labels are text, another's look like numbers: its labels are text too, and
    its empty one is a missing label, which missing="drop" drops (it used to become the class "nan")."""
    (tmp_path / "parts").mkdir()
    write(tmp_path / "parts" / f"1{suffix}", [{"a": 1, "plan": "x", "y": "yes"}, {"a": 2, "plan": "z", "y": "no"}])
    write(tmp_path / "parts" / f"2{suffix}", [{"a": 3, "plan": "x", "y": 1}, {"a": 4, "plan": "x", "y": None},
                                              {"a": 5, "plan": "z", "y": 0}])
    ds = load("parts", tmp_path, budget, suffix, target="y", categorical=["plan"], missing="drop")
    assert (ds.rows, ds.dropped) == (4, 1)
    classes = fit(ds, loss_kind="sparse", fail=failure(ds, None, None)).classes
    assert classes == ("0", "1", "no", "yes")
    with pytest.raises(RunError) as info:
        load("parts", tmp_path, budget, suffix, target="y", categorical=["plan"])
    word = "row 3" if suffix == ".csv" else "line 2"  # without drop, refused where it is: read alone, the file holds numbers
    assert info.value.diagnostics[0].message.startswith(f"parts/2{suffix}:{word}, column 'y': expected a number; received ")
