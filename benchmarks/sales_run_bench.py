"""The sales example's whole ``nndsl run``, this tree against an earlier revision, in one session.

    python benchmarks/sales_run_bench.py                   # against BEFORE (below), 5 rounds
    python benchmarks/sales_run_bench.py --against REV --rounds 7

Both trees run ``examples/sales/sales.nn`` from a copy of the example folder (the same data, the
same seed), in turn, so that a change in the machine's load falls on both alike. Printed: each
tree's median wall time and CPU time of the whole process, and the median of the per-round
ratios (the target: at most 1.0x, i.e. not slower than before). The earlier revision is read
with ``git archive`` into a temporary folder; nothing in the working tree changes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The last revision before tables were encoded by a fitted schema and saved as named-input models.
BEFORE = "05d5882"


def checkout(rev: str, folder: Path) -> Path:
    """The tree of ``rev`` under ``folder`` (read with git archive)."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run_once(tree: Path, work: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole ``nndsl run`` of the sales example with ``tree``'s code."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(tree / "examples" / "sales", work)
    env = dict(os.environ, PYTHONPATH=str(tree), TF_CPP_MIN_LOG_LEVEL="3")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nndsl", "run", "sales.nn", "--progress", "none"], cwd=work, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"the run with {tree} failed:\n{done.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default=BEFORE, help=f"the earlier revision (default {BEFORE})")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nndsl-sales-bench-") as tmp:
        tmp = Path(tmp)
        trees = {"now": ROOT, args.against: checkout(args.against, tmp / "before")}
        run_once(ROOT, tmp / "warm")  # first start-up: bytecode compiled, files in the page cache
        run_once(trees[args.against], tmp / "warm")
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in trees}
        for _ in range(args.rounds):
            for label, tree in trees.items():
                times[label].append(run_once(tree, tmp / f"work-{len(times[label])}"))
    ratios = [a[0] / b[0] for a, b in zip(times["now"], times[args.against])]
    cpu_ratios = [a[1] / b[1] for a, b in zip(times["now"], times[args.against])]
    print(f"sales example, whole `nndsl run`, {args.rounds} rounds, medians:")
    for label, t in times.items():
        print(f"  {label:>10}: {statistics.median(w for w, _ in t):6.2f} s wall, {statistics.median(c for _, c in t):6.2f} s CPU")
    print(f"  ratio now / {args.against}: {statistics.median(ratios):.3f}x wall, {statistics.median(cpu_ratios):.3f}x CPU "
          "(target: at most 1.0x)")


if __name__ == "__main__":
    main()
