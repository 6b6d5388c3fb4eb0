"""Table sources read by Arrow: csv, parquet and json (JSON lines), one file or many, errors located.

The loaders need NumPy and pyarrow but not TensorFlow, so these tests run in the fast suite; the
end-to-end runs at the bottom carry the ``keras`` marker.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
import tomllib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndsl.builtins import data as builtin_sources
from nndsl.data import csv as csv_source
from nndsl.data import jsonl, parquet
from nndsl.data.columns import assign_roles
from nndsl.data.csv_scan import scan_rows
from nndsl.data.parts import part_failure
from nndsl.errors import RunError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parent.parent


def message(exc: RunError) -> str:
    return exc.diagnostics[0].message


def hint(exc: RunError) -> str | None:
    return exc.diagnostics[0].hint


@pytest.fixture(autouse=True)
def _arrow_for_every_file(monkeypatch):
    """Tiny files go through Arrow here, as large ones do in use (small ones are read row by row)."""
    monkeypatch.setattr(csv_source, "SMALL_FILE", 0)


def test_small_files_are_read_without_importing_arrow(tmp_path):
    import subprocess
    import sys

    (tmp_path / "d.csv").write_text("a,b,y\n1,2,3\n4,,6\n")
    code = ("import sys; from pathlib import Path; from nndsl.data.csv import load\n"
            f"ds = load({{'path': 'd.csv', 'target': 'y', 'missing': 0}}, name='d', base=Path({str(tmp_path)!r}))\n"
            "print(ds.x.tolist(), 'pyarrow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), timeout=60)
    # the missing cell stays NaN: the fill is fitted and applied with the model's encoding (nndsl.data.schema)
    assert result.stdout.strip() == "[[1.0, 2.0], [4.0, nan]] False", result.stderr


def load_csv(folder: Path, **args):
    return csv_source.load(args, name="d", base=folder)


def write_parquet(path: Path, columns: dict) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


# ---------------------------------------------------------------- csv through Arrow


def test_csv_reads_numbers_text_and_ids(tmp_path):
    (tmp_path / "d.csv").write_text("id,a,b,note,y\nk1,1,2.5,hello,0\nk2,-3,1e3,\"x, y\",1\n")
    ds = load_csv(tmp_path, path="d.csv", target="y", id=["id"], exclude=["note"])
    assert ds.feature_names == ["a", "b"] and ds.target_names == ["y"]
    assert ds.x.dtype.name == "float32" and ds.x.tolist() == [[1.0, 2.5], [-3.0, 1000.0]]
    assert ds.y.tolist() == [[0.0], [1.0]]
    assert ds.ids == {"id": ["k1", "k2"]}
    assert ds.columns == {"id": ["k1", "k2"], "note": ["hello", "x, y"]}
    assert ds.fingerprint.startswith("xxh3_128:") and ds.path == tmp_path / "d.csv"


def test_csv_keeps_text_ids_as_written(tmp_path):
    """An id column of digits stays text: leading zeros survive into predictions."""
    (tmp_path / "d.csv").write_text("id,a\n007,1\n010,2\n")
    ds = load_csv(tmp_path, path="d.csv", id="id")
    assert ds.ids == {"id": ["007", "010"]}


@pytest.mark.parametrize("text", [
    'a,b,y\n1,2,3\n\n4,5,6\n',  # a blank line
    'a,b,y\n1,2,3\n,,\n4,5,6\n',  # a line of empty fields, skipped as before
    'a,b,y\n1,1_000,3\n4,5,6\n',  # a number Python reads and Arrow does not
    'a,b,y,n\n1,2,3,"two\nlines"\n4,5,6,z\n',  # a quoted line break
    '\n\na,b,y\n1,2,3\n4,5,6\n',  # blank lines before the header
    ' a , b ,y\n1,2,3\n4,5,6\n',  # spaces around the names
    '\ufeffa,b,y\n1,2,3\n4,5,6\n',  # a byte order mark
])
def test_csv_files_arrow_refuses_read_as_the_row_by_row_reader_does(tmp_path, text):
    (tmp_path / "d.csv").write_text(text, encoding="utf-8")
    args = {"path": "d.csv", "target": "y", "exclude": ["n"] if ",n\n" in text else None}
    ds = csv_source.load(args, name="d", base=tmp_path)
    assert ds.feature_names == ["a", "b"] and len(ds.x) == 2
    assert ds.x[1].tolist() == [4.0, 5.0] and ds.y[:, 0].tolist() == [3.0, 6.0]


CELLS = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.floats(-1e3, 1e3, allow_nan=False).map(lambda v: f"{v:.3e}"),
    st.sampled_from([" 1", "2 ", "+3", "-.5", "5.", "1E2", "0x1", "", "nan", "inf", "-Infinity", "1_0", "abc"]),
)


@pytest.mark.parametrize("sniffed", [csv_source.SNIFF_ROWS, 0])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), min_size=1, max_size=6))
def test_arrow_and_the_row_by_row_reader_agree(tmp_path, monkeypatch, sniffed, rows):
    """On any file, both readers give the same arrays, or the same located error.

    With no rows sniffed the target is always read as numbers first, as a file whose text
    targets come after its first rows is: where Arrow refuses one, it is read again as text.
    """
    monkeypatch.setattr(csv_source, "SNIFF_ROWS", sniffed)
    path = tmp_path / "p.csv"
    path.write_text("a,b,y\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    args = {"path": "p.csv", "target": "y", "missing": "error"}
    fail = part_failure("p.csv", None, None)
    try:
        expected = scan_rows(path, assign_roles(args, ["a", "b", "y"], fail), ",", fail)
    except RunError as exc:
        expected = message(exc)
    if not isinstance(expected, str) and len(expected.x) == 0:
        # every line was a line of empty fields, which both skip: the loader then refuses a file without rows
        expected = "p.csv: expected data rows after the header; received the header only"
    if not isinstance(expected, str) and expected.labels and any(not v.strip() for v in expected.texts["y"]):
        # class labels with an empty one: the loader refuses it, as its missing= policy says
        with pytest.raises(RunError) as e:
            csv_source.load(args, name="d", base=tmp_path)
        assert message(e.value).endswith("column 'y': expected a class label; received an empty cell")
        return
    try:
        got = csv_source.load(args, name="d", base=tmp_path)
    except RunError as exc:
        assert message(exc) == expected
        return
    assert not isinstance(expected, str), expected
    assert got.x.tolist() == expected.x.tolist()
    if expected.labels:  # a target with text: class labels, kept as text by both
        assert got.labels == ["y"] and got.y is None and got.columns["y"] == expected.texts["y"]
    else:
        assert got.y.tolist() == expected.y.tolist()


TEXT_CELLS = st.sampled_from(["", " ", "x", "z", "yes"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(TEXT_CELLS, min_size=3, max_size=3), min_size=1, max_size=6),
       missing=st.sampled_from([None, "drop", "error"]))
def test_arrow_and_the_row_by_row_reader_agree_on_a_table_of_text(tmp_path, monkeypatch, rows, missing):
    """Every column categorical or a class label: a line of blank cells is skipped by both readers,
    and an error names the same row."""

    def read(small: int):
        monkeypatch.setattr(csv_source, "SMALL_FILE", small)
        try:
            ds = csv_source.load({"path": "p.csv", "target": "y", "categorical": ["a", "b"], "missing": missing}, name="d",
                                 base=tmp_path)
        except RunError as exc:
            return message(exc)
        return ds.columns, ds.labels, ds.dropped

    (tmp_path / "p.csv").write_text("a,b,y\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    assert read(0) == read(1 << 30)


@pytest.mark.parametrize("content, where, text", [
    ("a,b,y\n1,2,3\n4,five,6\n", "d.csv:row 3, column 'b'", "expected a number; received 'five'"),
    ("a,b,y\n1,2,3\n\n4,,6\n", "d.csv:row 4, column 'b'", "expected a number; received an empty cell"),
    ("a,b,y\n1,2,3\n4,5,nan\n", "d.csv:row 3, column 'y'", "expected a finite number; received 'nan'"),
    ("a,b,y\n1,2,3\n4,5\n", "d.csv:row 3", "expected 3 fields like the header; received 2"),
    ("a,b,y\n1,2,3\n4,\"5,6\n", "d.csv:row 3", "expected 3 fields like the header; received 2"),
])
def test_csv_errors_name_the_row_and_column_arrow_does_not(tmp_path, content, where, text):
    (tmp_path / "d.csv").write_text(content)
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y", missing="error")
    assert message(e.value) == f"{where}: {text}"


def test_csv_delimiter_of_several_characters_is_located(tmp_path):
    (tmp_path / "d.csv").write_text("a;;y\n1;;2\n")
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y", delimiter=";;")
    assert message(e.value) == "d.csv: expected a delimiter of one character; received ';;'"


def test_csv_not_utf8_names_the_byte_in_a_large_file(tmp_path):
    body = "".join(f"{i},{i},{i}\n" for i in range(200_000))
    data = ("a,b,y\n" + body).encode() + b"\xff,1,2\n"
    (tmp_path / "d.csv").write_bytes(data)
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y")
    assert message(e.value) == f"d.csv: expected UTF-8 text; received bytes that are not (at byte {len(data) - 6})"


# ---------------------------------------------------------------- many files


def part_files(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def test_glob_reads_part_files_in_sorted_order(tmp_path):
    part_files(tmp_path / "data", {"part-2.csv": "a,y\n3,1\n", "part-1.csv": "a,y\n1,0\n2,0\n", "other.csv": "a,y\n9,9\n"})
    ds = load_csv(tmp_path, path="data/part-*.csv", target="y")
    assert ds.x[:, 0].tolist() == [1.0, 2.0, 3.0]
    assert ds.path == tmp_path / "data" / "part-*.csv"


def test_folder_reads_every_part_file_and_columns_may_be_reordered(tmp_path):
    part_files(tmp_path / "data", {"b.csv": "y,a,id\n1,3,r3\n", "a.csv": "a,y,id\n1,0,r1\n", "notes.txt": "not a table"})
    ds = load_csv(tmp_path, path="data", target="y", id="id")
    assert ds.x[:, 0].tolist() == [1.0, 3.0] and ds.y[:, 0].tolist() == [0.0, 1.0]
    assert ds.ids == {"id": ["r1", "r3"]}
    again = load_csv(tmp_path, path="data/", target="y", id="id")
    assert again.fingerprint == ds.fingerprint and again.fingerprint.startswith("xxh3_128:")


def test_part_files_may_hold_no_rows_but_not_all_of_them(tmp_path):
    part_files(tmp_path / "data", {"a.csv": "a,y\n", "b.csv": "a,y\n1,2\n"})
    assert load_csv(tmp_path, path="data", target="y").rows == 1
    (tmp_path / "data" / "b.csv").write_text("a,y\n")
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="data", target="y")
    assert message(e.value) == "data: expected data rows; received none in 2 files"


def test_an_error_in_a_part_file_names_that_file(tmp_path):
    part_files(tmp_path / "data", {"p1.csv": "a,y\n1,0\n", "p2.csv": "a,y\n1,0\nx,1\n"})
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="data/p*.csv", target="y")
    assert message(e.value) == "data/p2.csv:row 3, column 'a': expected a number; received 'x'"


def test_part_files_with_other_columns_are_an_error(tmp_path):
    part_files(tmp_path / "data", {"p1.csv": "a,b,y\n1,2,0\n", "p2.csv": "a,c,y\n1,2,0\n"})
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="data", target="y")
    assert message(e.value) == ("data/p2.csv: expected the same columns as the first file (a, b, y); "
                                "received columns a, c, y (missing b; extra c)")


def test_a_file_whose_name_looks_like_a_pattern_is_that_file(tmp_path):
    (tmp_path / "d[1].csv").write_text("a,y\n1,2\n")
    (tmp_path / "d1.csv").write_text("a,y\n5,6\n")
    assert load_csv(tmp_path, path="d[1].csv", target="y").x.tolist() == [[1.0]]


def test_a_pattern_without_match_is_located(tmp_path):
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="data/part-*.csv", target="y")
    assert message(e.value) == "data/part-*.csv: expected CSV files matching the pattern; received no match"


def test_a_folder_without_part_files_keeps_its_message(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y")
    assert message(e.value) == "d.csv: expected a CSV file; received a folder"
    assert hint(e.value) == "a folder is read as one table when it holds part files (.csv)"


# ---------------------------------------------------------------- parquet


def test_parquet_reads_typed_columns(tmp_path):
    write_parquet(tmp_path / "t.parquet", {"a": [1.5, 2.0], "n": pa.array([1, 2], pa.int8()), "ok": [True, False],
                                           "city": ["Oslo", "Rome"], "y": [0, 1]})
    ds = parquet.load({"path": "t.parquet", "target": "y", "categorical": ["city"]}, name="t", base=tmp_path)
    assert ds.feature_names == ["a", "n", "ok"] and ds.categorical == ["city"]
    assert ds.x.tolist() == [[1.5, 1.0, 1.0], [2.0, 2.0, 0.0]] and ds.y.tolist() == [[0.0], [1.0]]
    assert ds.columns == {"city": ["Oslo", "Rome"]}


def test_parquet_folder_and_glob_of_parts(tmp_path):
    (tmp_path / "parts").mkdir()
    write_parquet(tmp_path / "parts" / "b.parquet", {"a": [3.0], "y": [1]})
    write_parquet(tmp_path / "parts" / "a.parquet", {"a": [1.0, 2.0], "y": [0, 0]})
    for path in ("parts", "parts/*.parquet"):
        ds = parquet.load({"path": path, "target": "y"}, name="t", base=tmp_path)
        assert ds.x[:, 0].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("columns, where, text", [
    ({"a": [1.0, None, 3.0], "y": [0, 1, 2]}, "t.parquet:row 2, column 'a'", "expected a number; received a missing value"),
    ({"a": [1.0, 2.0, math.inf], "y": [0, 1, 2]}, "t.parquet:row 3, column 'a'", "expected a finite number; received 'inf'"),
    ({"a": ["1", "2", "x"], "y": [0, 1, 2]}, "t.parquet:row 3, column 'a'", "expected a number; received 'x'"),
    ({"a": [1.0, 2.0, 3.0], "y": [0.0, math.nan, 1.0]}, "t.parquet:row 2, column 'y'", "expected a finite number; received 'nan'"),
    ({"a": [[1], [2], [3]], "y": [0, 1, 2]}, "t.parquet:column 'a'",
     "expected a column of numbers; received a column of type list<element: int64>"),
])
def test_parquet_bad_values_are_located(tmp_path, columns, where, text):
    write_parquet(tmp_path / "t.parquet", columns)
    with pytest.raises(RunError) as e:
        parquet.load({"path": "t.parquet", "target": "y", "missing": "error"}, name="t", base=tmp_path)
    assert message(e.value) == f"{where}: {text}"


def test_parquet_numbers_written_as_text_are_read(tmp_path):
    write_parquet(tmp_path / "t.parquet", {"a": ["1.5", "2"], "y": [0, 1]})
    assert parquet.load({"path": "t.parquet", "target": "y"}, name="t", base=tmp_path).x[:, 0].tolist() == [1.5, 2.0]


def test_truncated_parquet_file_is_located(tmp_path):
    data = write_parquet(tmp_path / "full.parquet", {"a": [1.0, 2.0], "y": [0, 1]}).read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(RunError) as e:
        parquet.load({"path": "cut.parquet", "target": "y"}, name="t", base=tmp_path)
    assert message(e.value).startswith("cut.parquet: expected a Parquet file; received a file Arrow cannot read (")
    assert str(tmp_path) not in message(e.value)


def test_parquet_parts_with_other_columns_are_an_error(tmp_path):
    (tmp_path / "parts").mkdir()
    write_parquet(tmp_path / "parts" / "1.parquet", {"a": [1.0], "y": [0]})
    write_parquet(tmp_path / "parts" / "2.parquet", {"a": [1.0], "b": [2.0], "y": [0]})
    with pytest.raises(RunError) as e:
        parquet.load({"path": "parts", "target": "y"}, name="t", base=tmp_path)
    assert message(e.value) == "parts/2.parquet: expected the same columns as the first file (a, y); received columns a, b, y (extra b)"


def test_parquet_column_names_are_checked_like_csv(tmp_path):
    write_parquet(tmp_path / "t.parquet", {"price": [1.0], "size": [2.0]})
    with pytest.raises(RunError) as e:
        parquet.load({"path": "t.parquet", "target": "prices"}, name="t", base=tmp_path)
    assert message(e.value) == "t.parquet: expected a column 'prices' (target); received columns price, size"
    assert hint(e.value) == "did you mean 'price'?"


# ---------------------------------------------------------------- json lines


def test_json_lines_read_with_blank_lines_and_missing_text(tmp_path):
    (tmp_path / "r.jsonl").write_text('{"a": 1, "b": 2.5, "name": "x", "y": 0}\n\n{"a": 2, "b": -1, "y": 1}\n')
    ds = jsonl.load({"path": "r.jsonl", "target": "y", "id": ["name"]}, name="r", base=tmp_path)
    assert ds.x.tolist() == [[1.0, 2.5], [2.0, -1.0]] and ds.y.tolist() == [[0.0], [1.0]]
    assert ds.ids == {"name": ["x", ""]}


@pytest.mark.parametrize("text, where, error", [
    ('{"a": 1, "y": 0}\n{"a": 2, "y": 1\n', "r.jsonl:line 2",
     "expected a JSON object; received text that is not JSON (Expecting ',' delimiter at column 16)"),
    ('{"a": 1, "y": 0}\n\n[1, 2]\n', "r.jsonl:line 3", "expected a JSON object; received a list"),
    ('{"a": 1, "y": 0}\n{"a": "two", "y": 1}\n', "r.jsonl:line 2, column 'a'", 'expected a number like line 1; received text ("two")'),
    ('{"a": 1, "y": 0}\n\n{"y": 1}\n', "r.jsonl:line 3, column 'a'", "expected a number; received a missing value"),
    ('{"a": 1, "y": 0}\n{"a": null, "y": 1}\n', "r.jsonl:line 2, column 'a'", "expected a number; received a missing value"),
    ("", "r.jsonl", "expected JSON objects, one per line; received an empty file"),
])
def test_json_lines_errors_name_the_file_and_line(tmp_path, text, where, error):
    (tmp_path / "r.jsonl").write_text(text)
    with pytest.raises(RunError) as e:
        jsonl.load({"path": "r.jsonl", "target": "y", "missing": "error"}, name="r", base=tmp_path)
    assert message(e.value) == f"{where}: {error}"


def test_json_lines_folder_of_parts(tmp_path):
    part_files(tmp_path / "rows", {"2.jsonl": '{"a": 3, "y": 1}\n', "1.jsonl": '{"a": 1, "y": 0}\n{"a": 2, "y": 0}\n'})
    ds = jsonl.load({"path": "rows", "target": "y"}, name="r", base=tmp_path)
    assert ds.x[:, 0].tolist() == [1.0, 2.0, 3.0]


# ---------------------------------------------------------------- specs and entry points


def test_table_sources_share_the_column_parameters():
    csv_params = [p.name for p in builtin_sources.CSV.params]
    for spec in (builtin_sources.PARQUET, builtin_sources.JSON):
        assert [p.name for p in spec.params] == [n for n in csv_params if n != "delimiter"]


def test_every_builtin_data_source_is_an_entry_point():
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["nndsl.data_sources"]
    specs = {name: value for name, value in vars(builtin_sources).items() if isinstance(value, builtin_sources.DataSourceSpec)}
    assert {v.split(":")[1] for v in table.values()} == set(specs)
    assert all(specs[v.split(":")[1]].name == k for k, v in table.items())


def register_table_sources():
    """The new sources, for a checkout whose installed metadata predates them."""
    from nndsl.plugins.registry import registry

    for spec in (builtin_sources.PARQUET, builtin_sources.JSON):
        registry("data_sources").register(spec.name, spec, origin="nndsl", replace=True)


def test_parquet_and_json_arguments_are_checked_without_reading(tmp_path):
    import nndsl
    from nndsl.errors import NndslCheckError

    register_table_sources()
    text = ('data a = parquet("t.parquet", target="y", delimiter=";")\n'
            'data b = json("r.jsonl", taget="y")\n'
            "model m {\n    Input(shape=(2,))\n    Dense(1)\n    loss mse\n}\ntrain m on a epochs=1\n")
    with pytest.raises(NndslCheckError) as e:
        nndsl.check(text, filename="m.nn", keras=False)
    rendered = "\n".join(d.message for d in e.value.diagnostics)
    assert "delimiter" in rendered and "taget" in rendered


# ---------------------------------------------------------------- end to end

MODEL = """
model m {
    Input(shape=(2,))
    Dense(4, activation="relu")
    Dense(1)
    loss mse
    optimizer Adam(learning_rate=0.01)
}
"""


@pytest.mark.keras
def test_train_and_predict_on_parquet_json_and_csv_parts(tmp_path):
    from nndsl.run.runner import run

    register_table_sources()
    rows = [(i / 10, (i % 7) / 7, i / 5) for i in range(40)]
    write_parquet(tmp_path / "train.parquet", {"a": [r[0] for r in rows], "b": [r[1] for r in rows], "y": [r[2] for r in rows]})
    (tmp_path / "test.jsonl").write_text("".join(f'{{"a": {a}, "b": {b}, "y": {y}}}\n' for a, b, y in rows[:10]))
    part_files(tmp_path / "new", {"p1.csv": "id,a,b\nr1,1,2\n", "p2.csv": "id,a,b\nr2,3,4\n"})
    program = tmp_path / "m.nn"
    program.write_text('data train = parquet("train.parquet", target="y")\ndata test = json("test.jsonl", target="y")\n'
                       'data new = csv("new/p*.csv", id=["id"])\n' + MODEL
                       + 'train m on train epochs=2 batch_size=8\ntest m on test\npredict m on new to "out.csv" keep=["id"]\n')
    state = run(program, out=io.StringIO(), err=io.StringIO(), progress="none")
    assert state.datasets["train"].rows == 40 and state.datasets["test"].rows == 10
    out = (tmp_path / "out.csv").read_text().splitlines()
    assert out[0].startswith("id,") and [line.split(",")[0] for line in out[1:]] == ["r1", "r2"]


# ---------------------------------------------------------------- missing values

MESSY = "a,b,y\n1,,3\n4,5,6\n,,\n7,8,9\n2,1_0,1\n3,,2\n"  # one line of empty cells, skipped as ever


def test_missing_values_are_an_error_under_error(tmp_path):
    (tmp_path / "d.csv").write_text(MESSY)
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y", missing="error")
    assert message(e.value) == "d.csv:row 2, column 'b': expected a number; received an empty cell"
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y", missing={"b": "error"})
    assert message(e.value) == "d.csv:row 2, column 'b': expected a number; received an empty cell"


def fitted(ds, loss_kind=None):
    from nndsl.data.schema import fit
    from nndsl.data.table import data_error

    return fit(ds, loss_kind=loss_kind, fail=lambda m, row=None, column=None, hint=None: data_error(m, where=f"{row}/{column}", hint=hint))


def encoded(ds, schema):
    from nndsl.data.schema import encode
    from nndsl.data.table import data_error

    return encode(ds, schema, lambda m, row=None, column=None, hint=None: data_error(m, where=f"{row}/{column}", hint=hint))


def test_missing_numbers_are_filled_with_the_training_mean_by_default(tmp_path):
    (tmp_path / "d.csv").write_text(MESSY)
    ds = load_csv(tmp_path, path="d.csv", target="y")
    assert ds.missing == {"b": 2} and [math.isnan(v) for v in ds.x[:, 1]] == [True, False, False, False, True]
    schema = fitted(ds)
    assert [f.fill for f in schema.features] == [pytest.approx(17 / 5), pytest.approx(23 / 3)]
    assert encoded(ds, schema).x[:, 1].tolist() == pytest.approx([23 / 3, 5.0, 8.0, 10.0, 23 / 3])
    from nndsl.data.missing import filled_line

    assert filled_line(ds, schema.fitted) == "d: filled 2 missing cells: b 2 (7.66667)"


def test_missing_drop_leaves_out_the_rows(tmp_path):
    (tmp_path / "d.csv").write_text(MESSY)
    ds = load_csv(tmp_path, path="d.csv", target="y", missing="drop")
    assert ds.x.tolist() == [[4.0, 5.0], [7.0, 8.0], [2.0, 10.0]] and ds.y[:, 0].tolist() == [6.0, 9.0, 1.0]
    assert ds.dropped == 2
    from nndsl.data.missing import dropped_line

    assert dropped_line(ds) == "d: dropped 2 rows with missing values"


def test_missing_constant_fills_features(tmp_path):
    (tmp_path / "d.csv").write_text(MESSY)
    ds = load_csv(tmp_path, path="d.csv", target="y", missing=-1)
    assert ds.missing == {"b": 2}
    assert encoded(ds, fitted(ds)).x[:, 1].tolist() == [-1.0, 5.0, 8.0, 10.0, -1.0]


def test_missing_policies_per_column(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,c,y\n1,,x,3\n,5,,6\n7,8,x,9\n3,,z,2\n")
    ds = load_csv(tmp_path, path="d.csv", target="y", categorical=["c"], missing={"a": "median", "b": 0, "c": "most_frequent"})
    schema = fitted(ds)
    assert [f.fill for f in schema.features] == [3.0, 0.0, "x"]
    x = encoded(ds, schema)
    assert x.feature_names == ["a", "b", "c=[UNK]", "c=x", "c=z"]
    assert x.x.tolist() == [[1, 0, 0, 1, 0], [3, 5, 0, 1, 0], [7, 8, 0, 1, 0], [3, 0, 0, 0, 1]]
    ds = load_csv(tmp_path, path="d.csv", target="y", categorical=["c"], missing={"b": "drop", "c": "unknown"})
    assert ds.rows == 2 and ds.dropped == 2
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y", categorical=["c"], missing={"c": "error"})
    assert message(e.value) == "d.csv:row 3, column 'c': expected a category; received an empty cell"
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y", categorical=["c"], missing={"colour": "mean"})
    assert message(e.value) == "d.csv: expected columns of the table in missing=; received 'colour'"


def test_missing_categories_get_a_category_of_their_own_and_unseen_ones_a_slot(tmp_path):
    (tmp_path / "train.csv").write_text("plan,y\nbasic,1\n,0\npro,1\n")
    (tmp_path / "new.csv").write_text("id,plan\n1,pro\n2,enterprise\n3,\n")
    train = load_csv(tmp_path, path="train.csv", target="y", categorical="plan")
    schema = fitted(train)
    (plan,) = schema.features
    assert plan.categories == ("", "basic", "pro") and plan.fill == "" and plan.width == 4
    assert plan.encoded_names() == ["plan=[UNK]", "plan=(missing)", "plan=basic", "plan=pro"]
    assert schema.contributions() == "plan: 4 ((missing), basic, pro, [UNK])"
    new = load_csv(tmp_path, path="new.csv", categorical="plan", id="id")
    assert encoded(new, schema).x.tolist() == [[0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]]
    strict = load_csv(tmp_path, path="train.csv", target="y", categorical="plan", unknown="error")
    with pytest.raises(RunError) as e:
        encoded(new, fitted(strict))
    assert message(e.value) == "1/plan: expected one of the training data's categories ((missing), basic, pro); received 'enterprise'"


@pytest.mark.parametrize("policy, value, a_value", [("mean", 23 / 3, 3.4), ("median", 8.0, 3.0), ("most_frequent", 5.0, 1.0)])
def test_fitted_policies_fill_with_the_training_data_values(tmp_path, policy, value, a_value):
    (tmp_path / "d.csv").write_text(MESSY)
    ds = load_csv(tmp_path, path="d.csv", target="y", missing=policy)
    assert ds.missing == {"b": 2}
    schema = fitted(ds)
    fills = {f.name: f.fill for f in schema.features}
    assert fills["b"] == pytest.approx(value) and fills["a"] == pytest.approx(a_value)  # a tie: the smallest
    filled = encoded(ds, schema)
    assert filled.x[:, 1].tolist() == pytest.approx([value, 5.0, 8.0, 10.0, value])
    assert not math.isnan(filled.x.sum())


def test_a_missing_target_is_filled_by_no_policy(tmp_path):
    (tmp_path / "d.csv").write_text("a,y\n1,2\n3,\n")
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y", missing="mean")
    assert message(e.value) == "d.csv:row 3, column 'y': expected a number; received an empty cell"
    assert hint(e.value) == 'missing= fills features only: leave out the rows without a target with missing="drop"'
    write_parquet(tmp_path / "t.parquet", {"a": [1.0, None], "y": [None, 1.0]})
    with pytest.raises(RunError) as e:
        parquet.load({"path": "t.parquet", "target": "y", "missing": 0}, name="t", base=tmp_path)
    assert message(e.value) == "t.parquet:row 1, column 'y': expected a number; received a missing value"
    assert hint(e.value) == 'missing= fills features only: leave out the rows without a target with missing="drop"'


def test_nan_written_in_the_file_is_not_a_missing_value(tmp_path):
    (tmp_path / "d.csv").write_text("a,y\n,2\nnan,3\n")
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y", missing="mean")
    assert message(e.value) == "d.csv:row 3, column 'a': expected a finite number; received 'nan'"


def test_dropping_every_row_is_an_error(tmp_path):
    (tmp_path / "d.csv").write_text("a,y\n,2\n,3\n")
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y", missing="drop")
    assert message(e.value) == 'd.csv: expected rows without missing values; received none (missing="drop" dropped all 2)'


def test_fitting_a_column_without_values_is_an_error(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,,2\n3,,4\n")
    ds = load_csv(tmp_path, path="d.csv", target="y", missing="median")
    with pytest.raises(RunError) as e:
        fitted(ds)
    assert message(e.value) == "None/b: expected values to fit the median of column 'b'; received only missing ones"


def test_missing_values_in_parquet_and_json_lines(tmp_path):
    write_parquet(tmp_path / "t.parquet", {"a": [1.0, None, 3.0], "s": ["1", " ", "3"], "y": [0, 1, 2]})
    ds = parquet.load({"path": "t.parquet", "target": "y", "missing": 0}, name="t", base=tmp_path)
    assert encoded(ds, fitted(ds)).x.tolist() == [[1.0, 1.0], [0.0, 0.0], [3.0, 3.0]] and ds.missing == {"a": 1, "s": 1}
    (tmp_path / "r.jsonl").write_text('{"a": 1, "b": 2, "y": 0}\n{"b": null, "y": 1}\n{"a": 5, "b": 6, "y": 1}\n')
    ds = jsonl.load({"path": "r.jsonl", "target": "y", "missing": "drop"}, name="r", base=tmp_path)
    assert ds.x.tolist() == [[1.0, 2.0], [5.0, 6.0]] and ds.dropped == 1


def test_missing_policy_is_checked_with_the_program():
    import nndsl
    from nndsl.errors import NndslCheckError

    register_table_sources()
    head = "model m {\n    Input(shape=(2,))\n    Dense(1)\n    loss mse\n}\ntrain m on d epochs=1\n"
    nndsl.check('data d = csv("d.csv", target="y", missing="median")\n' + head, filename="m.nn", keras=False)
    nndsl.check('data d = parquet("d.parquet", target="y", missing=0.5)\n' + head, filename="m.nn", keras=False)
    nndsl.check('data d = csv("d.csv", target="y", missing={"a": "median", "b": 0})\n' + head, filename="m.nn", keras=False)
    with pytest.raises(NndslCheckError) as e:
        nndsl.check('data d = csv("d.csv", target="y", missing="average")\n' + head, filename="m.nn", keras=False)
    assert "expected one of error, drop, mean, median, most_frequent, or a number" in e.value.diagnostics[0].message


@pytest.mark.keras
def test_training_means_fill_test_and_prediction_data_and_travel_with_the_model(tmp_path):
    from nndsl.run.modelmeta import read as read_meta
    from nndsl.run.runner import run

    rows = "".join(f"{i},{'' if i % 5 == 0 else i % 3},{i / 10}\n" for i in range(1, 41))
    (tmp_path / "train.csv").write_text("a,b,y\n" + rows)
    (tmp_path / "test.csv").write_text("a,b,y\n1,,0.1\n2,2,0.2\n")
    (tmp_path / "new.csv").write_text("a,b\n3,\n")
    program = tmp_path / "m.nn"
    program.write_text('data train = csv("train.csv", target="y")\n'
                       'data test = csv("test.csv", target="y")\n'
                       'data new = csv("new.csv")\n' + MODEL
                       + 'train m on train epochs=1 batch_size=8\ntest m on test\nsave m to "m.keras"\n'
                       'load again from "m.keras"\npredict again on new to "out.csv"\n')
    out = io.StringIO()
    state = run(program, out=out, err=io.StringIO(), progress="plain")
    present = [i % 3 for i in range(1, 41) if i % 5 != 0]
    mean_b = sum(present) / len(present)
    assert state.models["m"].schema.features[1].fill == pytest.approx(mean_b)
    assert read_meta(tmp_path / "m.keras")["table"]["features"][1]["fill"] == pytest.approx(mean_b)
    assert state.models["again"].schema == state.models["m"].schema
    text = out.getvalue()
    assert f"train: filled 8 missing cells: b 8 ({mean_b:.6g}), fitted on model 'm''s training data" in text
    assert f"test: filled 1 missing cell: b 1 ({mean_b:.6g}), with model 'm''s training values" in text
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 2


@pytest.mark.keras
def test_data_is_never_filled_with_its_own_statistics(tmp_path):
    from nndsl.run.runner import run

    (tmp_path / "train.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i / 10}\n" for i in range(16)))
    (tmp_path / "test.csv").write_text("a,b,y\n1,,0.1\n2,2,0.2\n")
    program = tmp_path / "m.nn"
    program.write_text('data train = csv("train.csv", target="y")\ndata test = csv("test.csv", target="y", missing="median")\n'
                       + MODEL + "train m on train epochs=1\ntest m on test\n")
    out = io.StringIO()
    run(program, out=out, err=io.StringIO(), progress="plain")
    # the model's fill is the training data's mean of b (15 rows of i % 3), not the test data's median (2)
    assert f"test: filled 1 missing cell: b 1 ({sum(i % 3 for i in range(16)) / 16:.6g})" in out.getvalue()


def test_empty_cells_under_a_policy_need_no_second_reading(tmp_path, monkeypatch):
    """Only a file Arrow refuses is read again row by row; empty cells are Arrow's nulls."""
    calls = []
    monkeypatch.setattr(csv_source, "scan_rows", lambda *a, **k: calls.append(a) or scan_rows(*a, **k))
    (tmp_path / "d.csv").write_text("a,b,y\n1,,3\n4,5,6\n")
    assert load_csv(tmp_path, path="d.csv", target="y", missing=0).missing == {"b": 1}
    assert calls == []
    (tmp_path / "d.csv").write_text("a,b,y\n1,,3\n,,\n4,5,6\n")  # a line of empty cells: skipped by both readers
    ds = load_csv(tmp_path, path="d.csv", target="y", missing=0)
    assert (ds.rows, ds.missing, calls) == (2, {"b": 1}, [])


# ---------------------------------------------------------------- column roles and class labels


def test_boolean_columns_read_as_zero_and_one(tmp_path):
    (tmp_path / "d.csv").write_text("a,flag,y\n1,true,3\n2,False,4\n")
    ds = load_csv(tmp_path, path="d.csv", target="y")
    assert ds.x.tolist() == [[1.0, 1.0], [2.0, 0.0]]
    write_parquet(tmp_path / "t.parquet", {"a": [1.0, 2.0], "flag": [True, False], "y": [3, 4]})
    assert parquet.load({"path": "t.parquet", "target": "y"}, name="t", base=tmp_path).x.tolist() == [[1.0, 1.0], [2.0, 0.0]]
    (tmp_path / "r.jsonl").write_text('{"a": 1, "flag": true, "y": 3}\n{"a": 2, "flag": false, "y": 4}\n')
    assert jsonl.load({"path": "r.jsonl", "target": "y"}, name="r", base=tmp_path).x.tolist() == [[1.0, 1.0], [2.0, 0.0]]


@pytest.mark.parametrize("small", [True, False])
def test_a_target_of_text_holds_class_labels(tmp_path, monkeypatch, small):
    if small:
        monkeypatch.setattr(csv_source, "SMALL_FILE", 1 << 30)
    (tmp_path / "d.csv").write_text("a,y\n1,yes\n2,no\n3, yes\n")
    ds = load_csv(tmp_path, path="d.csv", target="y")
    assert ds.labels == ["y"] and ds.y is None and ds.target_names == ["y"] and ds.x.tolist() == [[1.0], [2.0], [3.0]]
    schema = fitted(ds)
    assert schema.classes == ("no", "yes") and encoded(ds, schema).y.tolist() == [[1.0], [0.0], [1.0]]
    (tmp_path / "e.csv").write_text("a,y\n1,yes\n2,\n")
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="e.csv", target="y")
    assert message(e.value) == "e.csv:row 3, column 'y': expected a class label; received an empty cell"
    assert load_csv(tmp_path, path="e.csv", target="y", missing="drop").rows == 1


def test_class_labels_after_rows_of_numbers_are_read_again_as_text_by_arrow(tmp_path, monkeypatch):
    """The first rows' targets are numbers, so Arrow reads the targets as numbers; it refuses the
    label further down, and the file is read again with them as text, not row by row."""
    calls = []
    monkeypatch.setattr(csv_source, "scan_rows", lambda *a, **k: calls.append(a) or scan_rows(*a, **k))
    rows = [f"{i},{i % 2}" for i in range(csv_source.SNIFF_ROWS + 20)] + ["7, maybe", "8,1"]
    (tmp_path / "d.csv").write_text("a,y\n" + "\n".join(rows) + "\n")
    ds = load_csv(tmp_path, path="d.csv", target="y")
    assert ds.labels == ["y"] and ds.y is None and ds.columns["y"][-3:] == ["1", " maybe", "1"]
    assert fitted(ds).classes == ("0", "1", "maybe") and calls == []
    (tmp_path / "d.csv").write_text("a,y\n" + "\n".join(rows[:-2]) + "\n7,1_0\n")  # a number Arrow refuses
    ds = load_csv(tmp_path, path="d.csv", target="y")
    assert ds.labels == [] and ds.y[-1, 0] == 10.0 and len(calls) == 1


def test_class_labels_in_parquet_json_lines_and_part_files(tmp_path):
    write_parquet(tmp_path / "t.parquet", {"a": [1.0, 2.0, 3.0], "y": ["setosa", "virginica", "setosa"]})
    ds = parquet.load({"path": "t.parquet", "target": "y"}, name="t", base=tmp_path)
    assert fitted(ds).classes == ("setosa", "virginica") and ds.columns["y"] == ["setosa", "virginica", "setosa"]
    (tmp_path / "r.jsonl").write_text('{"a": 1, "y": "b"}\n{"a": 2, "y": "a"}\n')
    assert jsonl.load({"path": "r.jsonl", "target": "y"}, name="r", base=tmp_path).labels == ["y"]
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "1.csv").write_text("a,y\n1,2\n")  # numbers in one part, text in the other
    (tmp_path / "parts" / "2.csv").write_text("a,y\n3,two\n")
    ds = load_csv(tmp_path, path="parts", target="y")
    assert ds.labels == ["y"] and ds.columns["y"] == ["2", "two"]


def test_one_of_several_targets_with_text_is_an_error(tmp_path):
    (tmp_path / "d.csv").write_text("a,y,z\n1,2,cat\n")
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target=["y", "z"])
    assert message(e.value) == "d.csv:row 2, column 'z': expected a number; received 'cat'"


def test_numeric_names_the_numeric_features(tmp_path):
    (tmp_path / "d.csv").write_text("id,a,b,note,plan,y\nk1,1,2,hi,x,3\nk2,4,5,yo,z,6\n")
    ds = load_csv(tmp_path, path="d.csv", target="y", numeric=["b", "a"], categorical=["plan"])
    assert ds.feature_names == ["b", "a"] and ds.categorical == ["plan"] and ds.x.tolist() == [[2.0, 1.0], [5.0, 4.0]]
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y", numeric=["a"], categorical=["a"])
    assert message(e.value) == "d.csv: expected a column to be numeric or categorical; received 'a' in both numeric= and categorical="
    with pytest.raises(RunError) as e:
        load_csv(tmp_path, path="d.csv", target="y", numeric=["ab"])
    assert message(e.value) == "d.csv: expected a column 'ab' (numeric); received columns id, a, b, note, plan, y"
