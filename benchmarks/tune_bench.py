"""What a search costs: the `tune` step on the sales example, measured side by side in one run.

Run: python benchmarks/tune_bench.py [--trials 20] [--epochs 30] [--worker-trials 12]

Prints three comparisons, each a pair of whole processes run one after the other:

1. a search of --trials trials with `nndsl run` against a hand-written Optuna + Keras script
   doing the same trials (`benchmarks/tune_keras.py`: same seeded random sampler, so the same
   values; same data, model and training), both without pruning: the wall-clock ratio
   (target: at most 1.1);
2. the same nndsl search with median pruning against it without: the epochs trained and the
   best objective of each (target: at least 30 % of the epochs saved, best objective within 5 %);
3. a study of --worker-trials trials with `--workers 1` and `--workers 2` (target: two faster).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sales"


def program(folder: Path, *, trials: int, epochs: int, pruner: str) -> Path:
    """The tuning example, with a random sampler (which the hand-written script can follow) and the given budget."""
    for f in EXAMPLE.glob("*.csv"):
        shutil.copy(f, folder / f.name)
    text = (EXAMPLE / "sales_tune.nn").read_text(encoding="utf-8")
    text = text.replace("let epochs        = 30", f"let epochs        = {epochs}")
    text = text.replace("let trials        = 20", f"let trials        = {trials}")
    text = text.replace("direction=minimize", f"direction=minimize sampler=random pruner={pruner}")
    # the search alone: what follows the best model's training is the same in both and not measured
    text = "\n".join(line for line in text.splitlines() if not line.startswith(("test ", "save ", "predict ")))
    path = folder / "tune_bench.nn"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def env() -> dict:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=path)


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env(), timeout=7200)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return seconds, proc.stdout


def nndsl_search(trials: int, epochs: int, pruner: str, workers: int = 1) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = program(Path(tmp), trials=trials, epochs=epochs, pruner=pruner)
        seconds, _ = timed([sys.executable, "-m", "nndsl", "run", path.name, "--progress", "none", "--workers", str(workers)],
                           Path(tmp))
        record = json.loads(path.with_suffix(".run.json").read_text())["tune"]["sales"]
    trials_done = [t for t in record["trials"] if t["state"] in ("complete", "pruned")]
    return {"seconds": seconds, "best": record["best"]["objective"], "trials": len(trials_done),
            "epochs": sum(t["epochs"] for t in trials_done),
            "pruned": sum(t["state"] == "pruned" for t in trials_done)}


def hand_search(trials: int, epochs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        seconds, out = timed([sys.executable, str(ROOT / "benchmarks" / "tune_keras.py"), "--trials", str(trials),
                              "--epochs", str(epochs)], Path(tmp))
    result = json.loads(out.strip().splitlines()[-1])
    return {"seconds": seconds, "best": result["best"], "trials": len(result["objectives"]), "epochs": result["epochs"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--worker-trials", type=int, default=12)
    args = parser.parse_args()
    print(f"sales example, {os.cpu_count()} CPUs; {args.trials} trials of {args.epochs} epochs, random sampler, seed 42",
          flush=True)

    hand = hand_search(args.trials, args.epochs)
    plain = nndsl_search(args.trials, args.epochs, "none")
    ratio = plain["seconds"] / hand["seconds"]
    print(f"1. search without pruning: nndsl {plain['seconds']:.1f} s, hand-written Optuna + Keras {hand['seconds']:.1f} s, "
          f"ratio {ratio:.3f} (target <= 1.1: {'met' if ratio <= 1.1 else 'NOT met'}); "
          f"best val_loss {plain['best']:.6g} and {hand['best']:.6g}", flush=True)

    pruned = nndsl_search(args.trials, args.epochs, "median")
    saved = 1 - pruned["epochs"] / plain["epochs"]
    gap = abs(pruned["best"] - plain["best"]) / plain["best"]
    print(f"2. median pruning: {pruned['epochs']} of {plain['epochs']} epochs ({saved:.0%} saved, {pruned['pruned']} trials pruned, "
          f"target >= 30 %: {'met' if saved >= 0.30 else 'NOT met'}); best val_loss {pruned['best']:.6g} against "
          f"{plain['best']:.6g} ({gap:.1%} apart, target <= 5 %: {'met' if gap <= 0.05 else 'NOT met'})", flush=True)

    one = nndsl_search(args.worker_trials, args.epochs, "none", workers=1)
    two = nndsl_search(args.worker_trials, args.epochs, "none", workers=2)
    print(f"3. {args.worker_trials}-trial study: 1 process {one['seconds']:.1f} s, 2 processes {two['seconds']:.1f} s "
          f"({one['seconds'] / two['seconds']:.2f}x; {two['trials']} trials done; target: 2 faster: "
          f"{'met' if two['seconds'] < one['seconds'] else 'NOT met'})", flush=True)


if __name__ == "__main__":
    main()
