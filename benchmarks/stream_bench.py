"""Memory stays flat as a streamed table grows: peak memory training one epoch, 1M rows against 10M.

Run: python benchmarks/stream_bench.py [--rows 1000000 10000000] [--batch-size 1024] [--budget 16MB]

Writes (into a temporary folder) a numeric CSV table of 10 columns, 9 features and a target, for
each row count (10M rows is about 800 MB of CSV), then trains a small model one epoch on each in a
process of its own, the table over the memory budget (``memory_budget``) so that it streams in
record batches, and reads the process's peak resident memory (``getrusage``'s ``ru_maxrss``).
The figure: the peak on the largest table is at most 1.2x the peak on the smallest, both measured
in the same run. For context it also trains on the smallest table read whole (the default within
the budget), and prints each run's wall time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = 10
TARGET = 1.2  # the largest table's peak over the smallest's, at most

PROGRAM = """seed 1
BUDGET
data t = csv("FILE", target="y")

model m {
    Dense(16, activation=relu)
    Dense(1)
    loss mse
    optimizer Adam(learning_rate=0.001)
}

train m on t epochs=1 batch_size=BATCH
"""

# Run in a process of its own: its peak memory is that of one training alone.
CHILD = """
import io, json, resource, sys, time
from pathlib import Path
from nndsl.run.runner import run
start = time.perf_counter()
state = run(Path(sys.argv[1]), out=io.StringIO(), err=io.StringIO(), progress="none")
ds = state.datasets["t"]
print(json.dumps({"peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "seconds": time.perf_counter() - start,
                  "rows": ds.rows, "streamed": ds.stream is not None, "loss": state.models["m"].history["loss"][-1]}))
"""


def write_table(path: Path, rows: int, chunk: int = 1_000_000) -> None:
    """Random values with 6 significant digits, written a million rows at a time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(0)
    names = [f"x{i}" for i in range(COLUMNS - 1)] + ["y"]
    schema = pa.schema([(n, pa.float64()) for n in names])
    with pacsv.CSVWriter(path, schema) as writer:
        for start in range(0, rows, chunk):
            values = np.round(rng.normal(size=(min(chunk, rows - start), COLUMNS)) * 100, 3)
            writer.write_table(pa.table({n: values[:, i] for i, n in enumerate(names)}, schema=schema))


def train(folder: Path, table: Path, *, budget: str | None, batch: int) -> dict:
    program = folder / f"{table.stem}_{'streamed' if budget else 'whole'}.nn"
    text = PROGRAM.replace("FILE", table.name).replace("BATCH", str(batch))
    program.write_text(text.replace("BUDGET", f'memory_budget "{budget}"' if budget else ""))
    result = subprocess.run([sys.executable, "-c", CHILD, str(program)], capture_output=True, text=True, cwd=str(ROOT),
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"})
    if result.returncode != 0:
        sys.exit(f"training on {table.name} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--budget", default="16MB", help="the memory budget the tables are over (default 16MB)")
    args = parser.parse_args()
    rows = sorted(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = {}
        for n in rows:
            table = folder / f"t{n}.csv"
            began = time.perf_counter()
            write_table(table, n)
            print(f"{n:,} rows x {COLUMNS} columns: {table.stat().st_size / 2**20:.0f} MiB of CSV "
                  f"(written in {time.perf_counter() - began:.0f} s)", flush=True)
            results[n] = train(folder, table, budget=args.budget, batch=args.batch_size)
            r = results[n]
            assert r["streamed"] and r["rows"] == n, r
            print(f"  streamed, one epoch: peak {r['peak_kib'] / 2**10:.0f} MiB, {r['seconds']:.0f} s", flush=True)
            if n == rows[0]:
                whole = train(folder, table, budget=None, batch=args.batch_size)
                print(f"  read whole (for context): peak {whole['peak_kib'] / 2**10:.0f} MiB, {whole['seconds']:.0f} s",
                      flush=True)
            table.unlink()
        small, large = results[rows[0]], results[rows[-1]]
        ratio = large["peak_kib"] / small["peak_kib"]
        print(f"peak memory, one epoch streamed: {rows[-1]:,} rows {large['peak_kib'] / 2**10:.0f} MiB   "
              f"{rows[0]:,} rows {small['peak_kib'] / 2**10:.0f} MiB   ratio {ratio:.2f}x  target <= {TARGET:.2f}x  "
              f"{'met' if ratio <= TARGET else 'NOT MET'}")


if __name__ == "__main__":
    main()
