"""Tables larger than the memory budget stream in record batches (nndsl.data.stream).

A table forced over a tiny budget must give what the same table gives read whole: the same
schema, the same encoded rows in the same order, the same scaling and, trained with a seed and
without shuffling, the same model. The loaders need NumPy and pyarrow but not TensorFlow, so
most of these tests run in the fast suite; the runs carry the ``keras`` marker. Memory itself
is measured by benchmarks/stream_bench.py, not here.
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndsl.data import batches as record_batches
from nndsl.data import csv as csv_source
from nndsl.data import jsonl, parquet, schema
from nndsl.data.budget import default_budget, estimate, machine_memory, parse_size
from nndsl.data.stream import batches
from nndsl.errors import RunError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parent.parent
TINY = 1  # a budget every table is over


@pytest.fixture(autouse=True)
def _small_record_batches(monkeypatch):
    """Record batches of a few rows, so that a tiny table is read in many (as a large one is)."""
    monkeypatch.setattr(record_batches, "BATCH_BYTES", 2048)
    monkeypatch.setattr(record_batches, "BATCH_ROWS", 37)
    monkeypatch.setattr(csv_source, "SMALL_FILE", 0)  # the in-memory side through Arrow too


def fail(message, row=None, column=None, hint=None):
    return AssertionError(f"{message} (row {row}, column {column})")


def same_schema(a, b) -> bool:
    """Two schemas alike, but for the last bits of a fitted mean: the stream sums its batches'
    sums, NumPy sums the whole column pairwise (the fill becomes float32 when applied)."""
    if len(a.features) != len(b.features):
        return False
    for f, g in zip(a.features, b.features):
        if isinstance(f.fill, float) and isinstance(g.fill, float):
            if f.fill != pytest.approx(g.fill, rel=1e-12) or np.float32(f.fill) != np.float32(g.fill):
                return False
            g = dataclasses.replace(g, fill=f.fill)
        if f != g:
            return False
    return a.targets == b.targets and a.fitted.keys() == b.fitted.keys()


def messy_rows(n: int = 700, seed: int = 0) -> list[dict]:
    """Rows with missing numbers and categories, a text label, an id."""
    rng = random.Random(seed)
    return [{"id": f"r{i}", "age": None if i % 13 == 0 else round(rng.uniform(18, 80), 1),
             "usage": round(rng.gauss(5, 2), 3), "plan": None if i % 11 == 0 else rng.choice(["basic", "plus", "pro"]),
             "churned": rng.choice(["yes", "no"])} for i in range(n)]


def write_csv(path: Path, rows: list[dict]) -> None:
    cols = list(rows[0])
    path.write_text(",".join(cols) + "\n" + "".join(",".join("" if r[c] is None else str(r[c]) for c in cols) + "\n"
                                                   for r in rows))


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def write_parquet(path: Path, rows: list[dict]) -> None:
    pq.write_table(pa.Table.from_pylist(rows), path)


ARGS = {"target": "churned", "id": "id", "categorical": ["plan"]}
FORMATS = {"csv": (csv_source, write_csv, "t.csv"), "json": (jsonl, write_jsonl, "t.jsonl"),
           "parquet": (parquet, write_parquet, "t.parquet")}


def both(folder: Path, fmt: str, rows: list[dict], **args):
    """The table read whole, and streamed."""
    module, write, name = FORMATS[fmt]
    write(folder / name, rows)
    args = {"path": name, **ARGS, **args}
    whole = module.load(dict(args), name="t", base=folder)
    streamed = module.load(dict(args), name="t", base=folder, memory_budget=TINY)
    return whole, streamed


# ---------------------------------------------------------------- the budget


@pytest.mark.parametrize("text, size", [("512MB", 512 * 10**6), ("2GiB", 2 * 2**30), ("1.5G", int(1.5 * 2**30)),
                                        ("100 kb", 100_000), (4096, 4096), ("64", 64)])
def test_sizes_read_as_bytes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("value", ["lots", "12 MiBs", "-5MB", "0", 0, -1, True, 1.5, ""])
def test_other_sizes_are_described(value):
    problem = parse_size(value)
    assert isinstance(problem, str) and problem.startswith("expected a")


def test_the_default_budget_is_a_quarter_of_the_machine():
    total = machine_memory()
    assert total is None or default_budget() == total // 4
    assert default_budget() > 0


def test_a_table_is_estimated_before_it_is_read(tmp_path):
    rows = messy_rows(50)
    write_csv(tmp_path / "t.csv", rows)
    write_parquet(tmp_path / "t.parquet", rows)
    assert estimate([tmp_path / "t.csv"]) == (tmp_path / "t.csv").stat().st_size
    assert estimate([tmp_path / "t.parquet"], parquet=True) == 50 * 5 * 4  # rows x columns x 4 bytes, from the metadata


def check(text: str, tmp_path: Path) -> subprocess.CompletedProcess:
    (tmp_path / "m.nn").write_text(text)
    return subprocess.run([sys.executable, "-m", "nndsl", "check", "m.nn"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_the_budget_setting_is_checked_where_it_is_written(tmp_path):
    from nndsl.semantics.check import check as check_program
    from nndsl.syntax.parser import parse

    ok = check_program(parse('memory_budget "512MB"\n'))
    assert ok.settings["memory_budget"] == 512 * 10**6
    result = check('seed 1\nmemory_budget "12 MiBs"\n', tmp_path)
    assert result.returncode == 1
    assert ("m.nn:2:15: error: expected a memory size such as \"512MB\" (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB); "
            "received '12 MiBs' [bad-setting]") in result.stderr
    assert "^^^^^^^^^" in result.stderr and 'write memory_budget "512MB"' in result.stderr
    result = check("memory_budget 0\n", tmp_path)
    assert result.returncode == 1 and "m.nn:1:15: error: expected a positive memory size; received 0" in result.stderr


def test_the_command_line_budget_is_a_usage_error(tmp_path):
    (tmp_path / "m.nn").write_text("seed 1\n")
    result = subprocess.run([sys.executable, "-m", "nndsl", "run", "m.nn", "--memory-budget", "much"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "--memory-budget: expected a memory size such as \"512MB\"" in result.stderr


# ---------------------------------------------------------------- the same table, streamed


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_streamed_table_fits_and_encodes_as_the_whole_one(tmp_path, fmt):
    whole, streamed = both(tmp_path, fmt, messy_rows())
    assert whole.x is not None and streamed.x is None and streamed.streamed
    assert streamed.rows == whole.rows == 700
    assert streamed.missing == whole.missing == {"age": 54, "plan": 64}
    assert streamed.labels == whole.labels == ["churned"]
    fitted = schema.fit(whole, loss_kind="binary", fail=fail)
    assert same_schema(schema.fit(streamed, loss_kind="binary", fail=fail), fitted)
    assert fitted.classes == ("no", "yes") and fitted.fitted["plan"] == ""
    encoded = schema.encode(whole, fitted, fail)
    parts = list(streamed.stream.encoded_with(fitted).arrays())
    assert len(parts) > 3  # read in several record batches
    np.testing.assert_array_equal(np.concatenate([x for x, _, _ in parts]), encoded.x)
    np.testing.assert_array_equal(np.concatenate([y for _, y, _ in parts]), encoded.y)
    assert [i for _, _, raw in parts for i in raw.ids["id"]] == whole.ids["id"]


def test_the_scaling_of_a_streamed_table_is_that_of_its_encoded_rows(tmp_path):
    from nndsl.run.preprocess import fit_minmax, fit_moments, fit_standard

    whole, streamed = both(tmp_path, "csv", messy_rows())
    fitted = schema.fit(whole, loss_kind="binary", fail=fail)
    x = schema.encode(whole, fitted, fail).x
    features, targets = streamed.stream.encoded_with(fitted).encoded_moments()
    assert targets is None  # class labels are not scaled
    for kind, fit in (("standard", fit_standard), ("minmax", fit_minmax)):
        a, b = fit(x), fit_moments(kind, features)
        # the sums are taken in another order: equal to float32 rounding
        np.testing.assert_allclose(b.mean, a.mean, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(b.variance, a.variance, rtol=1e-5, atol=1e-7)
    assert fit_moments("robust", features) is False and fit_moments(None, features) is None


def test_dropped_rows_and_constants_stream_too(tmp_path):
    whole, streamed = both(tmp_path, "csv", messy_rows(), missing={"age": "drop", "plan": "basic"})
    assert streamed.rows == whole.rows == 700 - 54 and streamed.dropped == whole.dropped == 54
    fitted = schema.fit(whole, loss_kind="binary", fail=fail)
    assert same_schema(schema.fit(streamed, loss_kind="binary", fail=fail), fitted)
    x = np.concatenate([x for x, _, _ in streamed.stream.encoded_with(fitted).arrays()])
    np.testing.assert_array_equal(x, schema.encode(whole, fitted, fail).x)


def test_numeric_class_targets_and_several_parts(tmp_path):
    rng = random.Random(3)
    (tmp_path / "parts").mkdir()
    for k in range(3):
        write_csv(tmp_path / "parts" / f"p{k}.csv", [{"a": rng.random(), "b": rng.random(), "y": rng.choice([0, 1, 2])}
                                                      for _ in range(150)])
    args = {"path": "parts", "target": "y"}
    whole = csv_source.load(dict(args), name="t", base=tmp_path)
    streamed = csv_source.load(dict(args), name="t", base=tmp_path, memory_budget=TINY)
    fitted = schema.fit(whole, loss_kind="sparse", fail=fail)
    assert same_schema(schema.fit(streamed, loss_kind="sparse", fail=fail), fitted) and fitted.classes == ("0", "1", "2")
    assert streamed.fingerprint == whole.fingerprint
    stream = streamed.stream.encoded_with(fitted)
    # parts in another order: the rows of each part, in order
    x = np.concatenate([x for x, _, _ in stream.arrays(order=[2, 0, 1])])
    w = schema.encode(whole, fitted, fail).x
    np.testing.assert_array_equal(x, np.concatenate([w[300:], w[:300]]))


def bits(value: float) -> int:
    return int(np.array([value], dtype=np.float64).view(np.uint64)[0])


@pytest.mark.parametrize("gather", [1 << 20, 40, 0])  # the bucket gathered at once, after one histogram, never
@pytest.mark.parametrize("rows", [700, 699])  # an even and an odd count of values
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_streamed_median_and_most_frequent_value_are_those_of_the_table_read_whole(tmp_path, monkeypatch, fmt, rows, gather):
    from nndsl.data import select

    monkeypatch.setattr(select, "GATHER", gather)
    data = messy_rows(rows)
    for i, r in enumerate(data):
        r["usage"] = None if i % 17 == 0 else r["usage"] + 2**-20 * (i % 5)  # bits float32 rounds differently
    missing = {"age": "median", "usage": "median", "plan": "most_frequent"}
    whole, streamed = both(tmp_path, fmt, data, missing=missing)
    fitted = schema.fit(whole, loss_kind="binary", fail=fail)
    got = schema.fit(streamed, loss_kind="binary", fail=fail)
    assert got == fitted and got.fitted == fitted.fitted
    assert [bits(got.fitted[c]) for c in ("age", "usage")] == [bits(fitted.fitted[c]) for c in ("age", "usage")]
    assert fitted.fitted["plan"] in ("basic", "plus", "pro")
    ages = whole.x[:, 0][~np.isnan(whole.x[:, 0])]
    assert len(ages) % 2 == (rows == 699) and fitted.fitted["age"] == float(np.median(ages))
    whole, streamed = both(tmp_path, fmt, data, missing={"age": "most_frequent", "usage": "most_frequent"})
    fitted = schema.fit(whole, loss_kind="binary", fail=fail)
    assert schema.fit(streamed, loss_kind="binary", fail=fail) == fitted
    values, counts = np.unique(ages, return_counts=True)
    assert (counts == counts.max()).sum() > 1  # ties: the smallest of them, as in memory
    assert fitted.fitted["age"] == float(values[np.argmax(counts)])


def test_a_median_of_several_passes_in_float64(monkeypatch):
    """Four passes of 16 bits settle a float64 key; a bucket small enough is gathered sooner."""
    from nndsl.data import select

    rng = np.random.default_rng(1)
    for n, gather in ((1000, 0), (1001, 0), (1000, 50), (2, 0), (1, 1 << 20)):
        monkeypatch.setattr(select, "GATHER", gather)
        a = rng.normal(0, 1e3, n)
        a[rng.random(n) < 0.1] = np.nan
        a[:n // 4] = -np.round(np.abs(a[:n // 4]))  # repeated and negative values
        present = a[~np.isnan(a)]
        passes = []

        def chunks(a=a, passes=passes):
            passes.append(1)
            return (a[i : i + 33] for i in range(0, len(a), 33))

        got = select.median(chunks, len(present), np.float64)
        assert bits(got) == bits(float(np.median(present)))
        assert len(passes) <= (4 if gather == 0 else 2)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_too_many_distinct_values_for_a_streamed_most_frequent_is_located_at_missing(tmp_path, monkeypatch, fmt):
    from nndsl.data import select
    from nndsl.data.check import failure
    from nndsl.syntax.parser import parse

    monkeypatch.setattr(select, "MAX_DISTINCT", 50)
    module, write, name = FORMATS[fmt]
    write(tmp_path / name, messy_rows())
    text = f'data t = {fmt}("{name}", target="churned", id="id", categorical=["plan"], missing={{"age": "most_frequent"}})\n'
    decl = parse(text).statements[0]
    from nndsl.source import Source

    source = Source("m.nn", text)
    args = {"path": name, **ARGS, "missing": {"age": "most_frequent"}}
    streamed = module.load(args, name="t", base=tmp_path, decl=decl, source=source, memory_budget=TINY)
    with pytest.raises(RunError) as e:
        schema.fit(streamed, loss_kind="binary", fail=failure(streamed, decl, source))
    d = e.value.diagnostics[0]
    assert d.message == (f"{name}:column 'age': expected at most 50 distinct values in the numeric column 'age' to count "
                         "its most frequent value in a table streamed in record batches; received more")
    assert text[d.span.start : d.span.end] == 'missing={"age": "most_frequent"}'
    assert 'missing={"age": "median"}' in d.hint
    monkeypatch.setattr(select, "MAX_DISTINCT", 10**6)
    whole = module.load(dict(args), name="t", base=tmp_path)
    assert schema.fit(streamed, loss_kind="binary", fail=fail) == schema.fit(whole, loss_kind="binary", fail=fail)


def test_a_streamed_target_of_many_whole_numbers_is_classes_or_a_located_error(tmp_path, monkeypatch):
    """Whole numbers under a classification loss are classes, however many, as read whole; past
    the distinct values a stream keeps, a located error at target= rather than numbers."""
    from nndsl.data import stream
    from nndsl.data.check import failure
    from nndsl.source import Source
    from nndsl.syntax.parser import parse

    monkeypatch.setattr(stream, "MAX_TARGET_VALUES", 80)
    rows = [{"a": i % 7, "y": i % 60} for i in range(400)]
    whole, streamed = both(tmp_path, "csv", rows, target="y", id=None, categorical=[])
    fitted = schema.fit(whole, loss_kind="sparse", fail=fail)
    assert schema.fit(streamed, loss_kind="sparse", fail=fail) == fitted and len(fitted.classes) == 60
    rows = [{"a": i % 7, "y": i % 90} for i in range(400)]
    text = 'data t = csv("t.csv", target="y")\n'
    decl, source = parse(text).statements[0], Source("m.nn", text)
    whole, streamed = both(tmp_path, "csv", rows, target="y", id=None, categorical=[])
    assert len(schema.fit(whole, loss_kind="sparse", fail=fail).classes) == 90
    streamed = csv_source.load({"path": "t.csv", "target": "y"}, name="t", base=tmp_path, decl=decl, source=source,
                               memory_budget=TINY)
    with pytest.raises(RunError) as e:
        schema.fit(streamed, loss_kind="sparse", fail=failure(streamed, decl, source))
    d = e.value.diagnostics[0]
    assert d.message == ("t.csv:column 'y': expected at most 80 classes in the target column 'y' of a table streamed in "
                         "record batches; received more distinct whole numbers under a classification loss")
    assert text[d.span.start : d.span.end] == 'target="y"'
    assert schema.fit(streamed, loss_kind=None, fail=fail).classes == ()  # a regression loss: numbers, as read whole
    rows[350]["y"] = 0.5  # late in the table: no whole numbers, no classes, whatever the loss (as read whole)
    whole, streamed = both(tmp_path, "csv", rows, target="y", id=None, categorical=[])
    assert schema.fit(streamed, loss_kind="sparse", fail=fail) == schema.fit(whole, loss_kind="sparse", fail=fail)
    assert schema.fit(streamed, loss_kind="sparse", fail=fail).classes == ()


def test_a_bad_cell_is_located_in_its_file(tmp_path):
    rows = messy_rows()
    rows[500]["usage"] = "lots"
    write_csv(tmp_path / "t.csv", rows)
    messages = []
    for budget in (None, TINY):
        with pytest.raises(RunError) as e:
            csv_source.load({"path": "t.csv", **ARGS}, name="t", base=tmp_path, memory_budget=budget)
        messages.append(e.value.diagnostics[0].message)
    assert messages[0] == messages[1] == "t.csv:row 502, column 'usage': expected a number; received 'lots'"


def test_a_streamed_table_is_not_split(tmp_path):
    from nndsl.data import split

    _, streamed = both(tmp_path, "csv", messy_rows(50))
    with pytest.raises(RunError) as e:
        split.load({"source": "t", "fractions": [0.8]}, name="s", base=tmp_path, resolve=lambda _: streamed)
    assert "expected a table read whole to split; received 't', a table over the memory budget" in \
        e.value.diagnostics[0].message


def read_like_whole(load, folder: Path, args: dict):
    """A table read whole and streamed by ``load``: the same rows, names, arrays and classes (or
    the same error). Returns (whole, streamed), or (the error's message, None)."""
    results = []
    for budget in (None, TINY):
        try:
            results.append(load(dict(args), name="t", base=folder, memory_budget=budget))
        except RunError as exc:
            results.append(exc.diagnostics[0].message)
    whole, streamed = results
    if isinstance(whole, str) or isinstance(streamed, str):
        assert streamed == whole
        return whole, None
    assert streamed.rows == whole.rows and streamed.missing == whole.missing and streamed.labels == whole.labels
    assert streamed.feature_names == whole.feature_names and streamed.target_names == whole.target_names
    datasets = [ds for ds, _ in streamed.stream.datasets()]
    np.testing.assert_array_equal(np.concatenate([ds.x for ds in datasets]), whole.x)
    if whole.labels:
        name = whole.labels[0]
        assert [v for ds in datasets for v in ds.columns[name]] == whole.columns[name]
        assert streamed.stream.summary.labels(name) == {v.strip() for v in whole.columns[name]}  # the classes fitted
    elif whole.y is not None:
        np.testing.assert_array_equal(np.concatenate([ds.y for ds in datasets]), whole.y)
    return whole, streamed


def streamed_like_whole(folder: Path, args: dict):
    """The CSV table read whole and streamed: the same rows, arrays and labels (or the same error)."""
    return read_like_whole(csv_source.load, folder, args)


def test_true_and_false_in_a_feature_column_stream_as_1_and_0(tmp_path):
    rows = messy_rows()
    for i, cell in zip((3, 400, 401, 650), ("true", "FALSE", " True ", "false")):  # in the first record batch and later ones
        rows[i]["usage"] = cell
    write_csv(tmp_path / "t.csv", rows)
    whole, streamed = streamed_like_whole(tmp_path, {"path": "t.csv", **ARGS})
    assert streamed is not None and [whole.x[i, 1] for i in (3, 400, 401, 650)] == [1.0, 0.0, 1.0, 0.0]
    fitted = schema.fit(whole, loss_kind="binary", fail=fail)
    assert same_schema(schema.fit(streamed, loss_kind="binary", fail=fail), fitted)
    x = np.concatenate([x for x, _, _ in streamed.stream.encoded_with(fitted).arrays()])
    np.testing.assert_array_equal(x, schema.encode(whole, fitted, fail).x)


def test_true_and_false_in_one_of_several_targets_are_1_and_0(tmp_path):
    rows = [{"a": i, "y": i % 3, "z": ["true", "false", i][i % 3]} for i in range(300)]
    write_csv(tmp_path / "t.csv", rows)
    whole, streamed = streamed_like_whole(tmp_path, {"path": "t.csv", "target": ["y", "z"]})
    assert streamed is not None and whole.y[:3].tolist() == [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]


def test_a_number_python_reads_streams_as_in_memory(tmp_path):
    rows = messy_rows()
    rows[600]["usage"] = "1_000"
    write_csv(tmp_path / "t.csv", rows)
    whole, streamed = streamed_like_whole(tmp_path, {"path": "t.csv", **ARGS})
    assert streamed is not None and whole.x[600, 1] == 1000.0


def test_a_bad_cell_after_a_boolean_is_located_in_its_file(tmp_path):
    rows = messy_rows()
    rows[100]["usage"] = "true"
    rows[500]["usage"] = "lots"
    write_csv(tmp_path / "t.csv", rows)
    error, _ = streamed_like_whole(tmp_path, {"path": "t.csv", **ARGS})
    assert error == "t.csv:row 502, column 'usage': expected a number; received 'lots'"


@pytest.mark.parametrize("missing", [None, "error", "drop"])
def test_a_line_of_empty_cells_is_skipped_when_streamed(tmp_path, missing):
    rows = messy_rows()
    cols = list(rows[0])
    lines = [",".join("" if r[c] is None else str(r[c]) for c in cols) for r in rows]
    for i in (650, 300, 10):
        lines.insert(i, ",".join(" " if k % 2 else "" for k in range(len(cols))))
    if missing == "error":
        lines = [line for i, line in enumerate(lines) if ",," not in line or not line.strip(", ")]  # no missing cell
    (tmp_path / "t.csv").write_text(",".join(cols) + "\n" + "\n".join(lines) + "\n")
    args = {"path": "t.csv", **ARGS, **({"missing": missing} if missing else {})}
    whole, streamed = streamed_like_whole(tmp_path, args)
    assert streamed is not None and whole.rows == len([line for line in lines if line.strip(", ")]) - whole.dropped


@pytest.mark.parametrize("late", ["abc", "nan", ""])
def test_a_target_with_text_late_in_its_file_is_labels_as_written(tmp_path, late):
    """Class labels are decided for the whole file: record batches of numbers before the first
    text are labels as written too (1.0, not 1); an empty or NaN cell before it is a label."""
    lines = [f"{i},{['1.0', '2', '1e1'][i % 3]}" for i in range(1500)]
    lines[900] = f"900,{late}"  # in the fourth record batch of 2 KiB
    lines[1400] = "1400,cat"
    (tmp_path / "t.csv").write_text("a,y\n" + "\n".join(lines) + "\n")
    error, streamed = streamed_like_whole(tmp_path, {"path": "t.csv", "target": "y"})
    if late == "":
        assert error == "t.csv:row 902, column 'y': expected a class label; received an empty cell"
        return
    assert streamed.labels == ["y"] and streamed.stream.summary.labels("y") == {"1.0", "2", "1e1", late, "cat"}


def test_labels_of_several_parts_are_those_of_the_table_read_whole(tmp_path):
    """A part of numbers among parts with text: its labels are its numbers (1.0 reads 1), as when
    the parts are read whole; a part with text late in it: as written."""
    (tmp_path / "parts").mkdir()
    numbers = [f"{i},{['1.0', '2', '1e1'][i % 3]}" for i in range(1500)]
    (tmp_path / "parts" / "p0.csv").write_text("a,y\n" + "\n".join(numbers) + "\n")
    (tmp_path / "parts" / "p1.csv").write_text("a,y\n" + "\n".join([*numbers[:1400], "1400,cat", *numbers[1401:]]) + "\n")
    (tmp_path / "parts" / "p2.csv").write_text("a,y\n" + "\n".join(numbers[:700]) + "\n")
    _, streamed = streamed_like_whole(tmp_path, {"path": "parts", "target": "y"})
    assert streamed.stream.summary.labels("y") == {"1", "10", "2", "1.0", "1e1", "cat"}


def json_like_whole(folder: Path, args: dict):
    """The JSON lines table read whole and streamed: the same rows, columns, arrays and labels (or the same error)."""
    whole, streamed = read_like_whole(jsonl.load, folder, args)
    if streamed is None:
        return whole, None
    assert streamed.streamed and streamed.stream.roles.header == tuple(whole_header(folder / args["path"]))
    datasets = [ds for ds, _ in streamed.stream.datasets()]
    for name in whole.columns:
        assert [v for ds in datasets for v in ds.columns[name]] == whole.columns[name]
    return whole, streamed


def whole_header(path: Path) -> list[str]:
    """The columns of the file (the first part file of a folder) read whole by Arrow."""
    import pyarrow.json as pajson

    return pajson.read_json(sorted(path.iterdir())[0] if path.is_dir() else path).column_names


# A value seen first after a record batch without one: a key null or absent there, a number after whole numbers
LATE = {
    "null": lambda i: {"a": None if i < 200 else i / 4, "b": i % 5, "y": "yes" if i % 3 else "no"},
    "absent": lambda i: {"b": i % 5, "y": "yes" if i % 3 else "no", **({"a": i / 4} if i >= 200 else {})},
    "absent, text": lambda i: {"a": i / 4, "y": "yes" if i % 3 else "no", **({"c": "red"} if i >= 300 else {})},
    "fraction": lambda i: {"a": i if i < 200 else i / 4, "b": i % 5, "y": "yes" if i % 3 else "no"},
    "all null": lambda i: {"a": None, "b": i % 5, "y": "yes" if i % 3 else "no"},
    "text later": lambda i: {"a": None if i < 200 else ("x" if i == 250 else i), "b": i % 5, "y": "yes"},
    "kind change": lambda i: {"a": i if i < 200 else str(i), "b": i % 5, "y": "no"},
    "late target": lambda i: {"a": i, "b": i % 5, "y": None if i < 200 else "yes"},
}


@pytest.mark.parametrize("missing", [None, "drop", "mean"])
@pytest.mark.parametrize("case", sorted(LATE))
def test_streamed_json_lines_type_a_column_from_the_whole_file(tmp_path, case, missing):
    """Arrow's streaming reader types a column from the file's first block; the table read whole,
    from all of it: streamed, a key without a value in the first record batches reads as read whole."""
    write_jsonl(tmp_path / "t.jsonl", [LATE[case](i) for i in range(400)])
    args = {"path": "t.jsonl", "target": "y", **({"missing": missing} if missing else {})}
    whole, streamed = json_like_whole(tmp_path, args)
    if case == "null" and missing == "mean":
        assert streamed is not None and streamed.missing == {"a": 200}
    if case == "all null":
        assert whole == "t.jsonl:column 'a': expected a column of numbers; received a column of type null"
    if case == "kind change":
        assert whole == "t.jsonl:line 201, column 'a': expected a number like line 1; received text (\"200\")"


@pytest.mark.parametrize("late", [False, True], ids=["keys-in-the-first-piece", "a-key-met-later"])
def test_a_streamed_json_file_is_parsed_once_to_load_unless_a_key_comes_late(tmp_path, monkeypatch, late):
    """The table's first file is opened with the keys of its first piece: the one pass that loads
    it parses every piece once. A key first met further on makes it look the file through for
    every key and open it again, with the columns the table read whole has."""
    write_jsonl(tmp_path / "t.jsonl", [LATE["absent" if late else "fraction"](i) for i in range(400)])
    monkeypatch.setattr(jsonl, "_SURVEYED", {})
    monkeypatch.setattr(jsonl, "_FIRST_KEYS", {})
    parsed: list[int] = []
    parse = jsonl._parse
    monkeypatch.setattr(jsonl, "_parse", lambda piece: parsed.append(len(piece)) or parse(piece))
    ds = jsonl.load({"path": "t.jsonl", "target": "y"}, name="t", base=tmp_path, memory_budget=TINY)
    size = (tmp_path / "t.jsonl").stat().st_size
    if late:
        assert ds.feature_names == ["b", "a"] and sum(parsed) > 2 * size
    else:
        assert ds.feature_names == ["a", "b"] and sum(parsed) == parsed[0] + size  # the first piece for its keys, then one pass
    json_like_whole(tmp_path, {"path": "t.jsonl", "target": "y"})


def test_a_json_key_named_in_the_arguments_but_met_late_is_no_error(tmp_path):
    """The first piece's keys are a guess only where they hold every column the arguments name."""
    write_jsonl(tmp_path / "t.jsonl", [{"b": i % 5, "y": i % 2, **({"a": i / 4, "c": "x"} if i >= 300 else {})}
                                       for i in range(400)])
    for args in ({"categorical": ["c"]}, {"exclude": ["c"], "missing": {"a": 0}}):
        _, streamed = json_like_whole(tmp_path, {"path": "t.jsonl", "target": "y", **args})
        assert streamed is not None and "a" in streamed.feature_names


def test_a_json_part_file_with_a_key_first_met_late_is_checked_as_read_whole(tmp_path):
    (tmp_path / "parts").mkdir()
    write_jsonl(tmp_path / "parts" / "p0.jsonl", [{"a": i, "y": i % 2} for i in range(300)])
    write_jsonl(tmp_path / "parts" / "p1.jsonl", [{"a": i, "y": i % 2, **({"b": 1} if i > 250 else {})} for i in range(300)])
    error, _ = json_like_whole(tmp_path, {"path": "parts", "target": "y"})
    assert "p1.jsonl: expected the same columns as the first file (a, y); received columns a, y, b (extra b)" in error
    write_jsonl(tmp_path / "parts" / "p0.jsonl", [{"a": i, "y": i % 2, **({"b": 1} if i > 250 else {})} for i in range(300)])
    write_jsonl(tmp_path / "parts" / "p1.jsonl", [{"y": i % 2, **({"b": 1, "a": 2} if i > 250 else {})} for i in range(300)])
    _, streamed = json_like_whole(tmp_path, {"path": "parts", "target": "y", "missing": "drop"})
    assert streamed.rows == 2 * 49


def test_the_command_line_names_a_json_tables_columns_as_its_loader_does(tmp_path, monkeypatch):
    from nndsl.cli.tables import header

    write_jsonl(tmp_path / "t.jsonl", [LATE["absent"](i) for i in range(400)])
    monkeypatch.chdir(tmp_path)
    assert header("t.jsonl", "jsonl") == whole_header(tmp_path / "t.jsonl") == ["b", "y", "a"]
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\n[2]\n')
    assert header("bad.jsonl", "jsonl") == []


def test_a_json_line_longer_than_a_record_batch_streams(tmp_path):
    rows = [{"id": f"r{i}", "a": i, "y": "yes" if i % 3 else "no"} for i in range(300)]
    rows[5]["id"] = "x" * 9000  # over four record batches of 2 KiB, in the first one
    rows[290]["id"] = "y" * 5000
    write_jsonl(tmp_path / "t.jsonl", rows)
    whole, streamed = json_like_whole(tmp_path, {"path": "t.jsonl", "target": "y", "id": "id"})
    assert streamed is not None and [i for ds, _ in streamed.stream.datasets() for i in ds.ids["id"]][5] == "x" * 9000


def test_a_json_line_longer_than_arrows_block_is_read_whole(tmp_path):
    rows = [{"id": "x" * (3 << 20) if i == 2 else f"r{i}", "a": i, "y": i % 2} for i in range(10)]
    write_jsonl(tmp_path / "t.jsonl", rows)  # a line of 3 MiB: Arrow's blocks are 1 MiB
    ds = jsonl.load({"path": "t.jsonl", "target": "y", "id": "id"}, name="t", base=tmp_path)
    assert ds.rows == 10 and len(ds.ids["id"][2]) == 3 << 20


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_part_of_many_numbers_among_parts_of_labels_streams_its_labels(tmp_path, monkeypatch, fmt):
    """A part file of more whole numbers than a stream keeps as classes, read before a part whose
    target holds text: its numbers are class labels, as when the parts are read whole."""
    from nndsl.data import stream

    monkeypatch.setattr(stream, "MAX_TARGET_VALUES", 50)
    module, write, name = FORMATS[fmt]
    suffix = Path(name).suffix
    (tmp_path / "parts").mkdir()
    write(tmp_path / "parts" / f"p0{suffix}", [{"a": i, "y": i} for i in range(300)])
    write(tmp_path / "parts" / f"p1{suffix}", [{"a": i, "y": "cat" if i % 2 else "dog"} for i in range(300)])
    args = {"path": "parts", "target": "y"}
    whole = module.load(dict(args), name="t", base=tmp_path)
    streamed = module.load(dict(args), name="t", base=tmp_path, memory_budget=TINY)
    assert streamed.labels == whole.labels == ["y"]
    assert streamed.stream.summary.labels("y") == set(whole.columns["y"]) and len(set(whole.columns["y"])) == 302
    fitted = schema.fit(whole, loss_kind="sparse", fail=fail)
    assert schema.fit(streamed, loss_kind="sparse", fail=fail).classes == fitted.classes


CELLS = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.floats(-1e3, 1e3, allow_nan=False).map(lambda v: f"{v:.3g}"),
    st.sampled_from(["", " ", "nan", "inf", "true", "False", "1_0", " 2", "abc", "1.0"]),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), min_size=1, max_size=40), missing=st.sampled_from([None, "error", "drop"]))
def test_streamed_and_in_memory_csv_readers_agree(tmp_path, monkeypatch, rows, missing):
    """On any small file, read in record batches of a few rows: the same features, targets or
    class labels, or the same located error."""
    monkeypatch.setattr(record_batches, "BATCH_BYTES", 64)  # a row or a few per record batch
    (tmp_path / "t.csv").write_text("a,b,y\n" + "".join(",".join(r) + "\n" for r in rows))
    streamed_like_whole(tmp_path, {"path": "t.csv", "target": "y", **({"missing": missing} if missing else {})})


# A value of a key is left out of its line (JSON) or null (Parquet) as often as written: a column
# may lead with nulls or absent keys for record batches, hold none at all, mix whole numbers and fractions.
ROWS = st.lists(st.fixed_dictionaries({"y": st.sampled_from(["no", "yes", "maybe"])}, optional={
    "a": st.one_of(st.none(), st.floats(-1e3, 1e3, allow_nan=False, width=32), st.integers(-50, 50)),
    "b": st.one_of(st.none(), st.integers(-50, 50)),
    "c": st.one_of(st.none(), st.sampled_from(["red", "green", " blue", "x y"])),
}), min_size=1, max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, fmt=st.sampled_from(["json", "parquet"]), missing=st.sampled_from([None, "drop", "median", "most_frequent"]),
       leading=st.integers(0, 12))
def test_streamed_and_in_memory_parquet_and_json_readers_agree(tmp_path, monkeypatch, rows, fmt, missing, leading):
    """On any small Parquet or JSON-lines file, read in record batches of a few rows: the same
    rows and missing cells, the same schema fitted, the same encoded rows, or the same located error.

    ``leading`` lines without ``a`` and ``c`` come first: Arrow's streaming JSON reader would type
    them from the first block, where they have no value.
    """
    monkeypatch.setattr(record_batches, "BATCH_BYTES", 128)  # a few lines a record batch
    monkeypatch.setattr(record_batches, "BATCH_ROWS", 3)
    module, write, name = FORMATS[fmt]
    rows = [*({"y": "yes", "b": i} for i in range(leading)), *rows]
    if fmt == "parquet":  # a Parquet file has every column in every row
        rows = [{k: r.get(k) for k in ("a", "b", "c", "y")} for r in rows]
    write(tmp_path / name, rows)
    args = {"path": name, "target": "y", "categorical": ["c"], **({"missing": missing} if missing else {})}
    results = []
    for budget in (None, TINY):
        try:
            ds = module.load(dict(args), name="t", base=tmp_path, memory_budget=budget)
            results.append((ds, schema.fit(ds, loss_kind="sparse", fail=fail)))
        except (RunError, AssertionError) as exc:
            results.append(exc.diagnostics[0].message if isinstance(exc, RunError) else str(exc))
    (whole, streamed) = results
    if isinstance(whole, str) or isinstance(streamed, str):
        assert streamed == whole
        return
    (whole, fitted), (streamed, got) = whole, streamed
    assert streamed.streamed and streamed.rows == whole.rows and streamed.missing == whole.missing
    assert streamed.feature_names == whole.feature_names and streamed.labels == whole.labels == ["y"]
    if missing in ("median", "most_frequent"):
        assert got == fitted and got.fitted == fitted.fitted  # selected and counted exactly
    else:
        # a mean is summed in another order: equal but for the last bits (of a mean of 0, say)
        unfilled = [dataclasses.replace(f, fill=None) if isinstance(f.fill, float) else f for f in got.features]
        assert unfilled == [dataclasses.replace(f, fill=None) if isinstance(f.fill, float) else f for f in fitted.features]
        assert got.targets == fitted.targets and got.fitted.keys() == fitted.fitted.keys()
        for f, g in zip(got.features, fitted.features):
            if isinstance(f.fill, float):
                assert f.fill == pytest.approx(g.fill, rel=1e-9, abs=1e-9)
    encoded = schema.encode(whole, fitted, fail)
    parts = list(streamed.stream.encoded_with(fitted).arrays())
    np.testing.assert_array_equal(np.concatenate([x for x, _, _ in parts]), encoded.x)
    np.testing.assert_array_equal(np.concatenate([y for _, y, _ in parts]), encoded.y)


# ---------------------------------------------------------------- batches of rows


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=12), st.integers(1, 17), st.booleans(), st.integers(1, 60))
def test_batches_hold_every_row_once(sizes, batch_size, shuffle, buffer_rows):
    start = np.cumsum([0, *sizes])
    chunks = [(np.arange(a, b, dtype=np.float32).reshape(-1, 1), np.arange(a, b, dtype=np.float32).reshape(-1, 1))
              for a, b in zip(start[:-1], start[1:])]
    rng = np.random.default_rng(0) if shuffle else None
    out = list(batches(iter(chunks), batch_size=batch_size, rng=rng, buffer_rows=buffer_rows))
    x = np.concatenate([b[0] for b in out])[:, 0]
    assert all(len(b[0]) == batch_size for b in out[:-1]) and 0 < len(out[-1][0]) <= batch_size
    assert all(np.array_equal(b[0], b[1]) for b in out)  # rows keep their targets
    if shuffle:
        assert sorted(x.tolist()) == list(range(int(start[-1])))
    else:
        assert x.tolist() == list(range(int(start[-1])))  # the rows read whole, in the same batches


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.one_of(st.floats(-1e6, 1e6, width=32), st.just(float("nan"))), min_size=3, max_size=3),
                min_size=1, max_size=60), st.integers(1, 9))
def test_moments_merged_by_batch_are_those_of_the_column(rows, cut):
    from nndsl.data.stream import Moments

    a = np.array(rows, dtype=np.float32)
    m = Moments(3)
    for start in range(0, len(a), cut):
        m.add(a[start : start + cut])
    for j in range(3):
        present = a[:, j][~np.isnan(a[:, j])].astype(np.float64)
        assert m.count[j] == len(present)
        if len(present):
            scale = max(1.0, float(np.abs(present).max()))
            assert m.mean[j] == pytest.approx(present.mean(), abs=1e-9 * scale)
            assert m.m2[j] / len(present) == pytest.approx(present.var(), rel=1e-7, abs=1e-9 * scale**2)
            assert (m.lo[j], m.hi[j]) == (present.min(), present.max())


def test_the_shuffle_buffer_holds_fewer_wide_rows():
    from nndsl.data.stream import SHUFFLE_BYTES, SHUFFLE_ROWS, buffer_rows

    assert buffer_rows(10, 32) == SHUFFLE_ROWS
    assert buffer_rows(5000, 32) == SHUFFLE_BYTES // (4 * 5000) < SHUFFLE_ROWS
    assert buffer_rows(10**7, 256) == 256  # a batch at least


# ---------------------------------------------------------------- runs

PROGRAM = """seed 5
BUDGET
data train = csv("train.csv", target="churned", id="id", categorical=["plan"])
data new = csv("new.csv", id="id", categorical=["plan"])

model m {
    Dense(8, activation=relu)
    Dense(1, activation=sigmoid)
    loss binary_crossentropy
    optimizer Adam(learning_rate=0.01)
    metrics [accuracy]
    scale_features standard
}

train m on train epochs=2 batch_size=16 SHUFFLE
test m on train
predict m on new to "OUT" probabilities=true
"""


def run(folder: Path, *, budget: str = "", shuffle: str = "shuffle=false", out: str = "p.csv", text: str = PROGRAM):
    from nndsl.run.runner import run as run_program

    path = folder / "m.nn"
    path.write_text(text.replace("BUDGET", budget).replace("SHUFFLE", shuffle).replace("OUT", out))
    printed = io.StringIO()
    state = run_program(path, out=printed, err=io.StringIO(), progress="plain")
    return state, printed.getvalue()


def tables(folder: Path) -> None:
    rows = messy_rows(600, seed=1)
    write_csv(folder / "train.csv", rows)
    new = messy_rows(90, seed=2)
    new[4]["plan"] = "enterprise"  # unseen in training: the [UNK] slot
    write_csv(folder / "new.csv", [{k: v for k, v in r.items() if k != "churned"} for r in new])


@pytest.mark.keras
def test_a_streamed_table_trains_the_same_model(tmp_path):
    tables(tmp_path)
    whole, _ = run(tmp_path)
    expected = (tmp_path / "p.csv").read_text()
    streamed, printed = run(tmp_path, budget='memory_budget "1KB"')
    assert "train: about " in printed and "over the memory budget of 1 KB: streamed in record batches (600 rows)" in printed
    assert "new: about " in printed
    assert streamed.datasets["train"].streamed and streamed.datasets["new"].streamed
    assert same_schema(streamed.models["m"].schema, whole.models["m"].schema)
    # the same batches in the same order; the fills and the scaling are summed in another order, so
    # they may differ in the last bits of float32: the weights agree to float32 rounding
    for a, b in zip(whole.models["m"].keras_model.get_weights(), streamed.models["m"].keras_model.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    for key, value in whole.results["m:train"].items():
        assert streamed.results["m:train"][key] == pytest.approx(value, rel=1e-5)
    got = (tmp_path / "p.csv").read_text().splitlines()
    want = expected.splitlines()
    assert got[0] == want[0] == "id,churned,no,yes" and len(got) == len(want) == 91
    for g, w in zip(got[1:], want[1:]):
        g, w = g.split(","), w.split(",")
        assert g[:2] == w[:2] and float(g[3]) == pytest.approx(float(w[3]), abs=1e-5)
    assert streamed.record.data["data"]["train"]["streamed"] is True


@pytest.mark.keras
def test_streamed_shuffling_repeats_with_the_seed(tmp_path):
    tables(tmp_path)
    first, _ = run(tmp_path, budget='memory_budget "1KB"', shuffle="", out="p.npy")
    second, _ = run(tmp_path, budget='memory_budget "1KB"', shuffle="", out="p2.npy")
    for a, b in zip(first.models["m"].keras_model.get_weights(), second.models["m"].keras_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), np.load(tmp_path / "p2.npy"))
    assert np.load(tmp_path / "p.npy").shape == (90, 1)


@pytest.mark.keras
def test_options_a_stream_cannot_honour_are_located(tmp_path, monkeypatch):
    tables(tmp_path)
    with pytest.raises(RunError) as e:
        run(tmp_path, budget='memory_budget "1KB"', shuffle="validation_split=0.2")
    d = e.value.diagnostics[0]
    assert d.code == "unsupported-option"
    assert d.message == ("expected no validation_split for 'train', a table over the memory budget streamed in record "
                         "batches; received validation_split=0.2")
    assert d.source.text[d.span.start:d.span.end] == "validation_split=0.2"
    from nndsl.data import select

    monkeypatch.setattr(select, "MAX_DISTINCT", 100)
    with pytest.raises(RunError) as e:
        frequent = PROGRAM.replace('data train = csv("train.csv"', 'data train = csv("train.csv", missing="most_frequent"')
        run(tmp_path, budget='memory_budget "1KB"', text=frequent)
    d = e.value.diagnostics[0]
    assert d.message.startswith("train.csv:column 'age': expected at most 100 distinct values in the numeric column 'age'")
    assert d.source.text[d.span.start:d.span.end] == 'missing="most_frequent"'


@pytest.mark.keras
@pytest.mark.parametrize("budget", ["", 'memory_budget "1KB"'])
def test_a_class_target_is_not_scaled_in_memory_or_streamed(tmp_path, budget):
    """Class indices scaled are no longer classes: a located error at scale_target, whether the
    table is read whole (which scaled them) or streamed (which left them as they were)."""
    tables(tmp_path)
    text = PROGRAM.replace("scale_features standard", "scale_features standard\n    scale_target standard")
    with pytest.raises(RunError) as e:
        run(tmp_path, budget=budget, text=text)
    d = e.value.diagnostics[0]
    assert d.code == "cannot-scale"
    assert d.message == ("expected a numeric target for scale_target standard; received the target 'churned' of 'train', "
                         "whose values are the classes no, yes")
    assert d.source.text[d.span.start:d.span.end] == "scale_target standard"
    assert not (tmp_path / "p.csv").exists()


JAX_RUNS = """
import io, sys
from pathlib import Path
from nndsl.run.runner import run
for name in ("whole", "streamed"):
    state = run(Path(name + ".nn"), out=io.StringIO(), err=io.StringIO(), progress="plain")
    print(name, state.results["m:train"]["loss"], state.datasets["train"].streamed)
"""


@pytest.mark.keras
def test_a_streamed_table_trains_on_the_jax_backend_as_read_whole(tmp_path):
    """Keras on JAX takes the stream's tf.data batches as it takes them on TensorFlow: the same
    model as the table read whole on JAX, and the same predicted rows."""
    import os

    pytest.importorskip("jax", reason="the JAX backend is an optional extra: pip install 'nndsl[jax]'")
    tables(tmp_path)
    for name, budget in (("whole", ""), ("streamed", 'memory_budget "1KB"')):
        text = PROGRAM.replace("BUDGET", "backend jax\n" + budget).replace("SHUFFLE", "shuffle=false")
        (tmp_path / f"{name}.nn").write_text(text.replace("OUT", f"{name}.csv"))
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run([sys.executable, "-c", JAX_RUNS], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (_, whole_loss, whole_streamed), (_, loss, streamed) = (line.split() for line in proc.stdout.splitlines()[-2:])
    assert (whole_streamed, streamed) == ("False", "True")
    assert float(loss) == pytest.approx(float(whole_loss), rel=1e-5)
    got, want = ((tmp_path / f"{name}.csv").read_text().splitlines() for name in ("streamed", "whole"))
    assert got[0] == want[0] == "id,churned,no,yes" and len(got) == len(want) == 91
    for g, w in zip(got[1:], want[1:]):
        g, w = g.split(","), w.split(",")
        assert g[:2] == w[:2] and float(g[3]) == pytest.approx(float(w[3]), abs=1e-5)


@pytest.mark.keras
def test_an_error_met_while_streaming_is_raised_located(tmp_path):
    tables(tmp_path)
    rows = messy_rows(300, seed=4)
    rows[250]["churned"] = "maybe"  # a class the model never saw, deep in the test table
    write_csv(tmp_path / "test.csv", rows)
    text = PROGRAM.replace('data new = csv("new.csv"', 'data test = csv("test.csv", target="churned", id="id", categorical=["plan"])\n'
                           'data new = csv("new.csv"').replace("test m on train", "test m on test")
    with pytest.raises(RunError) as e:
        run(tmp_path, budget='memory_budget "1KB"', text=text)
    d = e.value.diagnostics[0]
    assert d.message == "test.csv:row 252, column 'churned': expected one of the training data's classes (no, yes); received 'maybe'"


@pytest.mark.keras
def test_validation_data_streams_beside_rows_in_memory(tmp_path):
    tables(tmp_path)
    write_csv(tmp_path / "val.csv", messy_rows(3000, seed=6))  # about 100 KB: over the budget, train.csv is not
    text = PROGRAM.replace('data new = csv("new.csv"', 'data val = csv("val.csv", target="churned", id="id", categorical=["plan"])\n'
                           'data new = csv("new.csv"').replace("SHUFFLE", "shuffle=false validation_data=val")
    whole, _ = run(tmp_path, text=text)
    mixed, printed = run(tmp_path, budget='memory_budget "50KB"', text=text)
    assert not mixed.datasets["train"].streamed and mixed.datasets["val"].streamed
    assert "val: about " in printed and "train: about" not in printed
    streamed, _ = run(tmp_path, budget='memory_budget "1KB"', text=text)
    assert streamed.datasets["train"].streamed
    for state in (mixed, streamed):
        history = state.models["m"].history
        assert len(history["val_loss"]) == 2
        assert history["val_loss"] == pytest.approx(whole.models["m"].history["val_loss"], rel=1e-4)


@pytest.mark.keras
def test_the_predict_command_streams_a_csv_over_the_budget(tmp_path, capsys, monkeypatch):
    from nndsl.cli import main

    tables(tmp_path)
    run(tmp_path, text=PROGRAM + 'save m to "m.keras"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "m.keras", "new.csv", "-o", "whole.csv", "--keep", "id"]) == 0
    assert main(["predict", "m.keras", "new.csv", "-o", "streamed.csv", "--keep", "id", "--memory-budget", "1"]) == 0
    assert main(["predict", "m.keras", "new.csv", "-o", "streamed.npy", "--memory-budget", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == ["wrote 90 predictions to streamed.csv", "wrote 90 predictions to streamed.npy"]
    whole = (tmp_path / "whole.csv").read_text().splitlines()
    assert whole[0] == "id,churned" and len(whole) == 91
    assert (tmp_path / "streamed.csv").read_text().splitlines() == whole  # the class of each row, in order
    assert np.load(tmp_path / "streamed.npy").shape[0] == 90
    for out, budget in (("p_whole.csv", []), ("p_streamed.csv", ["--memory-budget", "1"])):
        assert main(["predict", "m.keras", "new.csv", "-o", out, "--probabilities", *budget]) == 0
    a, b = ([line.split(",") for line in (tmp_path / name).read_text().splitlines()] for name in ("p_whole.csv", "p_streamed.csv"))
    assert [r[0] for r in b] == [r[0] for r in a] and len(a[0]) > 1
    np.testing.assert_allclose(np.array([r[1:] for r in b[1:]], dtype=float), np.array([r[1:] for r in a[1:]], dtype=float),
                               rtol=1e-5)
    capsys.readouterr()
    assert main(["predict", "m.keras", "new.csv", "--memory-budget", "1"]) == 0  # the first rows shown
    assert capsys.readouterr().out.splitlines() == ["churned", *[line.split(",")[1] for line in whole[1:11]]]
    assert main(["predict", "m.keras", "new.csv", "--keep", "nope", "--memory-budget", "1"]) == 2


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A folder with the tables and the model trained on them, saved to m.keras."""
    folder = tmp_path_factory.mktemp("saved")
    tables(folder)
    regression = """
data usage = csv("train.csv", target="usage", id="id", categorical=["plan"], exclude=["churned"])
model r {
    Dense(4, activation=relu)
    Dense(1)
    loss mse
    optimizer Adam(learning_rate=0.01)
}
train r on usage epochs=2 batch_size=16 shuffle=false
save r to "r.keras"
"""
    run(folder, text=PROGRAM + 'save m to "m.keras"\n' + regression)
    return folder


@pytest.mark.keras
def test_the_predict_command_streams_parquet_json_lines_and_part_files(saved, capsys, monkeypatch):
    from nndsl.cli import main

    monkeypatch.chdir(saved)
    new = [{k: v for k, v in r.items() if k != "churned"} for r in messy_rows(90, seed=2)]
    new[4]["plan"] = "enterprise"
    write_parquet(saved / "new.parquet", new)
    write_jsonl(saved / "new.jsonl", new)
    (saved / "parts").mkdir()
    (saved / "jparts").mkdir()
    for i in range(3):
        write_parquet(saved / "parts" / f"p{i}.parquet", new[30 * i : 30 * (i + 1)])
        write_jsonl(saved / "jparts" / f"p{i}.jsonl", new[30 * i : 30 * (i + 1)])
        write_csv(saved / f"new-{i}.csv", new[30 * i : 30 * (i + 1)])
    assert main(["predict", "m.keras", "new.csv", "-o", "whole.csv", "--keep", "id", "--probabilities"]) == 0
    whole = (saved / "whole.csv").read_text().splitlines()
    assert whole[0] == "id,churned,no,yes" and len(whole) == 91
    for data in ("new.parquet", "new.jsonl", "parts", "parts/", "jparts", "new-*.csv", "parts/p*.parquet"):
        for budget in ([], ["--memory-budget", "1KB"]):
            capsys.readouterr()
            assert main(["predict", "m.keras", data, "-o", "out.csv", "--keep", "id", "--probabilities", *budget]) == 0, data
            assert capsys.readouterr().out.splitlines()[-1] == "wrote 90 predictions to out.csv"
            got = [line.split(",") for line in (saved / "out.csv").read_text().splitlines()]
            want = [line.split(",") for line in whole]
            assert [r[:2] for r in got] == [r[:2] for r in want], (data, budget)
            np.testing.assert_allclose(np.array([r[2:] for r in got[1:]], dtype=float),
                                       np.array([r[2:] for r in want[1:]], dtype=float), rtol=1e-5, atol=1e-7)
    assert main(["predict", "m.keras", "new.parquet", "-o", "out.npy", "--memory-budget", "1KB"]) == 0
    assert np.load(saved / "out.npy").shape == (90, 1)
    # a bad cell of a streamed file is located in its file, as read whole
    bad = [dict(r) for r in new]
    bad[70]["usage"] = "lots"
    write_jsonl(saved / "jparts" / "p2.jsonl", bad[60:])
    for budget in ([], ["--memory-budget", "1KB"]):
        capsys.readouterr()
        assert main(["predict", "m.keras", "jparts", "-o", "bad.csv", *budget]) == 1
        assert "jparts/p2.jsonl:line 11, column 'usage'" in capsys.readouterr().err
    assert not (saved / "bad.csv").exists()


@pytest.mark.keras
def test_the_evaluate_command_streams_a_table_over_the_budget(saved, capsys, monkeypatch):
    from nndsl.cli import main
    from nndsl.run import evaluation

    monkeypatch.chdir(saved)
    shown = []
    original = evaluation.print_table
    monkeypatch.setattr(evaluation, "print_table", lambda ev, out, console=None: (shown.append(ev), original(ev, out, console)))
    write_parquet(saved / "train.parquet", messy_rows(600, seed=1))
    for model, data, exclude in (("m.keras", "train.csv", ["id"]), ("r.keras", "train.csv", ["id", "churned"]),
                                 ("m.keras", "train.parquet", ["id"])):
        shown.clear()
        printed = []
        for budget in ([], ["--memory-budget", "1KB"]):
            assert main(["evaluate", model, data, *[f"--exclude={c}" for c in exclude], *budget]) == 0
            printed.append(capsys.readouterr().out)
        whole, streamed = shown
        assert streamed.kind == whole.kind and streamed.class_names == whole.class_names
        assert streamed.table == whole.table  # counts: the same predicted class for every row
        assert streamed.summary == pytest.approx(whole.summary, rel=1e-5)
        if whole.kind == "regression":
            np.testing.assert_allclose(streamed.predicted, whole.predicted, rtol=1e-5, atol=1e-6)
            np.testing.assert_array_equal(streamed.actual, whole.actual)
        else:
            assert whole.class_names == ["no", "yes"]
            np.testing.assert_allclose(streamed.scores, whole.scores, rtol=1e-5, atol=1e-6)
            assert printed[1] == printed[0]
    with pytest.raises(SystemExit) as e:  # argparse's usage error
        main(["evaluate", "m.keras", "train.csv", "--memory-budget", "lots"])
    assert e.value.code == 2
    assert "--memory-budget: expected a memory size such as \"512MB\"" in capsys.readouterr().err
    rows = messy_rows(600, seed=1)
    rows[400]["churned"] = "maybe"  # a class the model never saw, deep in the table
    write_csv(saved / "bad.csv", rows)
    for budget in ([], ["--memory-budget", "1KB"]):
        assert main(["evaluate", "m.keras", "bad.csv", "--exclude", "id", *budget]) == 1
        assert "bad.csv:row 402, column 'churned': expected one of the training data's classes (no, yes); received 'maybe'" \
            in capsys.readouterr().err


@pytest.mark.keras
def test_the_evaluate_command_picks_the_models_columns_by_name(saved, capsys, monkeypatch):
    """A table with an id column, a column the model never saw and its columns in another order
    gives the figures of the table holding only the model's columns, read whole and streamed."""
    from nndsl.cli import main
    from nndsl.run import evaluation

    monkeypatch.chdir(saved)
    shown = []
    original = evaluation.print_table
    monkeypatch.setattr(evaluation, "print_table", lambda ev, out, console=None: (shown.append(ev), original(ev, out, console)))
    rows = messy_rows(300, seed=3)
    order = ["churned", "plan", "note", "usage", "id", "age"]
    write_csv(saved / "shuffled.csv", [{c: "x" if c == "note" else r[c] for c in order} for r in rows])
    write_jsonl(saved / "shuffled.jsonl", [{c: "x" if c == "note" else r[c] for c in order} for r in rows])
    for model, clean in (("m.keras", ["age", "usage", "plan", "churned"]), ("r.keras", ["age", "plan", "usage"])):
        write_csv(saved / "clean.csv", [{c: r[c] for c in clean} for r in rows])
        for budget in ([], ["--memory-budget", "1KB"]):
            shown.clear()
            for data in ("clean.csv", "shuffled.csv", "shuffled.jsonl"):
                assert main(["evaluate", model, data, *budget]) == 0, (model, data, budget)
            err = capsys.readouterr().err
            assert "note: shuffled.csv has columns the model was not trained on, left out: " in err
            want, *got = shown
            for ev in got:
                assert ev.kind == want.kind and ev.class_names == want.class_names and ev.table == want.table
                assert ev.summary == pytest.approx(want.summary, rel=1e-5)
                if want.kind == "regression":
                    np.testing.assert_allclose(ev.predicted, want.predicted, rtol=1e-5, atol=1e-6)
                    np.testing.assert_array_equal(ev.actual, want.actual)
                else:
                    np.testing.assert_allclose(ev.scores, want.scores, rtol=1e-5, atol=1e-6)
    # a feature column the table lacks: predict's located error, whole and streamed
    write_csv(saved / "short.csv", [{c: r[c] for c in ("id", "plan", "age", "churned")} for r in rows])
    for command in (["evaluate", "m.keras", "short.csv"], ["predict", "m.keras", "short.csv"]):
        for budget in ([], ["--memory-budget", "1KB"]):
            assert main([*command, *budget]) == 1
            assert "short.csv: expected the feature column 'usage' the model was trained on; received a file without it " \
                   "(the model's feature columns: age, usage)" in capsys.readouterr().err
