"""How fast nndsl reads a table into training arrays, beside pandas reading the same file.

Run: python benchmarks/data_bench.py [--rows N] [--rounds N]

Writes (into a temporary folder) a numeric table of N rows (default 1,000,000) and 10 columns,
9 features and a target, as CSV and as Parquet, then times, the best of ``--rounds`` rounds
(each round times every reader in turn), and the ratios of the medians:

- nndsl's ``csv`` loader, from the file to float32 feature and target arrays, against
  ``pandas.read_csv`` on the same file (the target: at most 1.0x pandas);
- nndsl's ``parquet`` loader on the same table, against nndsl's CSV time (the target: at most 0.5x);
- Arrow's CSV reader alone on the same file, with the options nndsl's loader gives it, against pandas:
  the parsing nndsl's CSV figure is built on, before the fingerprint and the float32 arrays.

Every figure is measured in the same run, beside its reference, as wall time and as the CPU time
of the process's threads (the work done, which the load of a shared machine changes less). pandas is used here only; where
it is not installed the CSV figure is printed without its reference.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = 10
NAMES = [f"x{i}" for i in range(COLUMNS - 1)] + ["y"]  # 9 features and the target


def write_tables(folder: Path, rows: int) -> tuple[Path, Path]:
    """The table as ``table.csv`` and ``table.parquet``: random values with 6 significant digits."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    values = np.round(rng.normal(size=(rows, COLUMNS)) * 100, 3)
    table = pa.table({n: values[:, i] for i, n in enumerate(NAMES)})
    csv_path, parquet_path = folder / "table.csv", folder / "table.parquet"
    pacsv.write_csv(table, csv_path)
    pq.write_table(table, parquet_path)
    return csv_path, parquet_path


def best(fns: dict, rounds: int) -> dict:
    """Each function's fastest of ``rounds`` calls: (wall seconds, CPU seconds of all threads),
    then the medians of the two.

    timeit's convention on a shared machine; the functions take turns within each round, so a
    change in the machine's load falls on all of them alike. The CPU time (this process's, every
    thread's) shows the work done, which other processes' load changes less than the wall time.
    """
    times: dict = {label: [] for label in fns}
    for _ in range(rounds):
        for label, fn in fns.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            times[label].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {label: (min(w for w, _ in t), min(c for _, c in t), statistics.median(w for w, _ in t),
                    statistics.median(c for _, c in t)) for label, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from nndsl.data.csv import BLOCK_SIZE
    from nndsl.data.csv import load as load_csv
    from nndsl.data.parquet import load as load_parquet

    try:
        import pandas
    except ImportError:
        pandas = None
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, parquet_path = write_tables(Path(tmp), args.rows)
        size = csv_path.stat().st_size / 2**20
        print(f"{args.rows:,} rows x {COLUMNS} columns: {size:.0f} MiB of CSV, "
              f"{parquet_path.stat().st_size / 2**20:.0f} MiB of Parquet; best of {args.rounds}")
        fns = {
            "csv": lambda: load_csv({"path": str(csv_path), "target": "y"}, name="d", base=Path(tmp)),
            "parquet": lambda: load_parquet({"path": str(parquet_path), "target": "y"}, name="d", base=Path(tmp)),
        }
        parse = {"read_options": pacsv.ReadOptions(block_size=BLOCK_SIZE),
                 "convert_options": pacsv.ConvertOptions(column_types={n: pa.float64() for n in NAMES}, null_values=[""])}
        fns["arrow"] = lambda: pacsv.read_csv(csv_path, **parse)
        if pandas is not None:
            fns["pandas"] = lambda: pandas.read_csv(csv_path)
        times = best(fns, args.rounds)

        def figure(label):
            wall, cpu = times[label][:2]
            return f"{wall:5.2f} s (cpu {cpu:5.2f} s)"

        def ratio(label, reference, median=False):
            (w, c), (rw, rc) = (times[k][2:] if median else times[k][:2] for k in (label, reference))
            return f"{w / rw:4.2f}x (cpu {c / rc:4.2f}x)"

        if pandas is not None:
            print(f"csv      nndsl {figure('csv')}   pandas.read_csv {figure('pandas')}   ratio {ratio('csv', 'pandas')}  target <= 1.00x")
        else:
            print(f"csv      nndsl {figure('csv')}   (pandas is not installed: no reference)")
        print(f"parquet  nndsl {figure('parquet')}   nndsl csv       {figure('csv')}   ratio {ratio('parquet', 'csv')}  target <= 0.50x")
        if pandas is not None:
            print(f"parsing  arrow {figure('arrow')}   pandas.read_csv {figure('pandas')}   ratio {ratio('arrow', 'pandas')}  "
                  "(Arrow's CSV reader alone: no fingerprint, no float32 arrays)")
        medians = [("csv/pandas", "csv", "pandas"), ("parquet/csv", "parquet", "csv"), ("arrow/pandas", "arrow", "pandas")]
        print("medians  " + "   ".join(f"{name} {ratio(label, ref, median=True)}" for name, label, ref in medians
                                       if ref in times))

if __name__ == "__main__":
    main()
