"""The CSV loader's two readers give the same float32 arrays, and its fingerprint is the file's XXH3-128.

Arrow reads a large file in blocks that several threads parse, and the float32 arrays are filled
from its float64 columns a band of rows at a time, on several threads; the row-by-row reader
(:mod:`nndsl.data.csv_scan`) reads each cell with Python's ``float`` and stores it as float32.
These tests make the blocks and the bands tiny so that a small table crosses many of both, and
hold the two readers to the same bytes. No TensorFlow is needed: they run in the fast suite.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
import xxhash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndsl.data import blocks
from nndsl.data import csv as csv_source
from nndsl.data.columns import assign_roles
from nndsl.data.csv_scan import scan_rows
from nndsl.data.parts import part_failure
from nndsl.data.paths import fingerprint_parts, resolve_parts

pa = pytest.importorskip("pyarrow")


@pytest.fixture(autouse=True)
def _tiny_blocks_and_bands(monkeypatch):
    """Every file through Arrow, in blocks of 1 KiB; arrays filled 7 rows at a time, on threads."""
    monkeypatch.setattr(csv_source, "SMALL_FILE", 0)
    monkeypatch.setattr(csv_source, "BLOCK_SIZE", 1024)
    monkeypatch.setattr(blocks, "BAND_ROWS", 7)
    monkeypatch.setattr(blocks, "THREADED_CELLS", 0)
    monkeypatch.setattr(blocks, "_threads", lambda: 3)


def near_midpoint(value: float, above: bool) -> str:
    """A decimal a hair above or below the midpoint of ``value``'s float32 and the next one up.

    Python reads it as the float64 midpoint, which float32 then rounds to even; a float32 parser
    (Arrow's, asked for float32 columns) rounds it to the nearer neighbour, which for half of
    them is the other one. The two readers must agree on these too.
    """
    low = np.float32(value)
    high = np.nextafter(low, np.float32(np.inf))
    with localcontext() as ctx:
        ctx.prec = 80
        middle = (Decimal(float(low)) + Decimal(float(high))) / 2
        hair = Decimal(10) ** (middle.adjusted() - 30)
        return str(middle + hair if above else middle - hair)


FINITE32 = st.floats(allow_nan=False, allow_infinity=False, width=32).filter(lambda v: abs(v) < 3e38)
NUMBERS = st.one_of(
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: abs(v) < 3e38).map(repr),
    st.decimals(-10**6, 10**6, allow_nan=False, allow_infinity=False, places=12).map(str),
    st.builds(lambda d, e: f"{d}e{e}", st.integers(-10**9, 10**9), st.integers(-45, 30)),
    st.builds(near_midpoint, FINITE32, st.booleans()),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(NUMBERS, min_size=3, max_size=3), min_size=1, max_size=120))
def test_arrow_gives_the_row_by_row_readers_float32_bytes(tmp_path, rows):
    """Random numeric tables, across many Arrow blocks and many bands: the same bytes, -0.0 included."""
    path = tmp_path / "p.csv"
    path.write_text("a,b,y\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    args = {"path": "p.csv", "target": "y"}
    fail = part_failure("p.csv", None, None)
    expected = scan_rows(path, assign_roles(args, ["a", "b", "y"], fail), ",", fail)
    got = csv_source.load(args, name="d", base=tmp_path)
    assert got.x.dtype == np.float32 and got.x.flags.c_contiguous and got.x.shape == (len(rows), 2)
    assert got.x.tobytes() == expected.x.tobytes() and got.y.tobytes() == expected.y.tobytes()


def test_a_decimal_between_two_float32_values_rounds_as_python_reads_it(tmp_path):
    """1 + 2**-24 + 1e-32 is read as the float64 1 + 2**-24, a tie float32 rounds to 1.0 (even)."""
    cell = near_midpoint(1.0, above=True)
    assert cell.startswith("1.0000000596046447753906250")
    (tmp_path / "d.csv").write_text(f"a,y\n{cell},0\n1.5,1\n")
    ds = csv_source.load({"path": "d.csv", "target": "y"}, name="d", base=tmp_path)
    assert ds.x[:, 0].tolist() == [1.0, 1.5]


def test_missing_cells_become_nan_across_blocks_and_bands(tmp_path):
    lines = [f"{i},{'' if i % 5 == 0 else i / 4},{i % 2}" for i in range(200)]
    (tmp_path / "d.csv").write_text("a,b,y\n" + "\n".join(lines) + "\n")
    ds = csv_source.load({"path": "d.csv", "target": "y", "missing": "mean"}, name="d", base=tmp_path)
    b = ds.x[:, 1]
    assert np.isnan(b[::5]).all() and not np.isnan(np.delete(b, np.arange(0, 200, 5))).any()
    assert ds.x[:, 0].tolist() == list(range(200)) and ds.missing == {"b": 40}


# ---------------------------------------------------------------- the float32 array from Arrow's chunks


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("threads", [1, 3])
def test_stack_matches_numpy_for_columns_chunked_differently_and_with_nulls(monkeypatch, threads):
    monkeypatch.setattr(blocks, "_threads", lambda: threads)
    a = pa.chunked_array([[1.5, 2.5, None], [4.0], [5.0, 6.0, 7.0, 8.0]])
    b = pa.chunked_array([[10.0, 20.0], [30.0, 40.0, 50.0, 60.0, 70.0, 1e300]])
    out = blocks._stack([a, b], 8)
    expected = np.column_stack([a.to_numpy(), b.to_numpy()]).astype(np.float32)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    assert out.tobytes() == expected.tobytes()  # NaN for the null, infinity for 1e300, in place
    assert blocks._stack([], 3).shape == (3, 0) and blocks._stack([pa.chunked_array([], pa.float64())], 0).shape == (0, 1)


# ---------------------------------------------------------------- the fingerprint


def xxh3_of(path: Path) -> str:
    return "xxh3_128:" + xxhash.xxh3_128(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("text", [
    "a,y\n" + "".join(f"{i},{i % 3}\n" for i in range(500)),  # read by Arrow
    "a,y\n1,2\n1_000,3\n",  # refused by Arrow, read row by row
    "\ufeffa,y\n1,2\n",  # a byte order mark is hashed as a byte like the others
])
def test_the_fingerprint_is_the_files_xxh3_whichever_reader_reads_it(tmp_path, text):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    ds = csv_source.load({"path": "d.csv", "target": "y"}, name="d", base=tmp_path)
    assert ds.fingerprint == xxh3_of(path)


def test_the_fingerprint_changes_with_one_byte(tmp_path):
    path = tmp_path / "d.csv"
    body = "".join(f"{i},{i % 3}\n" for i in range(500))
    path.write_text("a,y\n" + body)
    first = csv_source.load({"path": "d.csv", "target": "y"}, name="d", base=tmp_path).fingerprint
    path.write_text("a,y\n" + body.replace("499,", "498,"))
    assert csv_source.load({"path": "d.csv", "target": "y"}, name="d", base=tmp_path).fingerprint not in (first, "")


def test_part_files_read_by_either_reader_give_the_fingerprint_of_their_parts(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.csv").write_text("a,y\n" + "".join(f"{i},0\n" for i in range(300)))
    (folder / "b.csv").write_text("a,y\n1,0\n2_0,1\n")  # refused by Arrow
    ds = csv_source.load({"path": "data", "target": "y"}, name="d", base=tmp_path)
    parts = resolve_parts("data", base=tmp_path, what="CSV", suffixes=(".csv",))
    assert ds.fingerprint == fingerprint_parts(parts) and ds.rows == 302
