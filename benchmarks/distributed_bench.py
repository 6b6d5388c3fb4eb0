"""What training on several processes costs: the sales example on each backend and group size.

Run: python benchmarks/distributed_bench.py [--epochs N]

Prints the median seconds per epoch (the first epoch, which compiles, left out) of the sales
example run as: TensorFlow in one process, JAX in one process, JAX as a group of one process
(the multi-process code path), and JAX as two processes on 127.0.0.1 (`nndsl launch -n 2`).
Each process of a group computes half of every batch and the gradients are summed over
loopback after every batch, so on one machine the group measures the synchronisation's cost,
not a speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _copy_example(folder: Path, epochs: int) -> Path:
    for f in (ROOT / "examples" / "sales").iterdir():
        if f.suffix == ".csv":
            shutil.copy(f, folder / f.name)
    text = (ROOT / "examples" / "sales" / "sales.nn").read_text().replace("let epochs = 50", f"let epochs = {epochs}")
    (folder / "sales.nn").write_text(text)
    return folder / "sales.nn"


def _free_port() -> int:
    sys.path.insert(0, str(ROOT))
    from nndsl.run.launch import free_port

    return free_port()


def measure(label: str, args: list[str], epochs: int) -> tuple[str, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        nn = _copy_example(Path(tmp), epochs)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
        cmd = [sys.executable, "-m", "nndsl", *[a.replace("FILE", str(nn)) for a in args], "--log-format", "json"]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, env=env, timeout=1800)
        if proc.returncode != 0:
            raise SystemExit(f"{label} failed:\n{proc.stderr[-2000:]}")
        seconds = [json.loads(line)["seconds"] for line in proc.stdout.splitlines() if '"epoch_end"' in line]
        losses = [json.loads(line)["loss"] for line in proc.stdout.splitlines() if '"epoch_end"' in line]
    return label, statistics.median(seconds[1:]), losses[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    runs = [
        ("tensorflow, 1 process", ["run", "FILE"]),
        ("jax, 1 process", ["run", "FILE", "--backend", "jax"]),
        ("jax, group of 1 process",
         ["run", "FILE", "--num-processes", "1", "--process-id", "0", "--coordinator", f"127.0.0.1:{_free_port()}"]),
        ("jax, 2 processes (launch -n 2)", ["launch", "-n", "2", "FILE"]),
    ]
    results = [measure(label, argv, args.epochs) for label, argv in runs]
    base = results[1][1]
    print(f"sales example, {args.epochs} epochs, batch_size 32, {os.cpu_count()} CPUs; median s/epoch without the first")
    print(f"{'run':34} {'s/epoch':>9} {'vs jax 1':>9} {'final loss':>11}")
    for label, sec, loss in results:
        print(f"{label:34} {sec:9.4f} {sec / base:9.2f} {loss:11.5f}")


if __name__ == "__main__":
    main()
