"""The side-by-side performance harness: nndsl against the same work written by hand in Keras.

    python benchmarks/perf.py                 # everything (several minutes on 2 cores)
    python benchmarks/perf.py --quick         # fewer pairs and epochs, no million-row run

Runs are alternated A/B in one session so drift on the machine hits both sides; it prints the
median of each side and the median of the per-pair ratios. The ratios are what the targets
(docs/performance.md) are written against:

1. per-epoch time and final loss, `nndsl run` vs the tutorial-style script; whole process too;
2. per-epoch time, `nndsl run` vs the best hand-tuned script;
3. `nndsl check` whole process vs `python -c "import tensorflow"`;
4. parse throughput (benchmarks/parse_bench.py);
5. prediction throughput on 100,000 rows vs Keras's default `model.predict`;
6. the rich progress display's overhead vs no progress;
7. peak memory of training on 1,000,000 rows, in copies of the data set.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
ENV.pop("PYTHONDONTWRITEBYTECODE", None)  # measure start-up as users get it, with cached bytecode


def sh(args, cwd=HERE, env=None) -> tuple[str, float, int]:
    """(stdout, wall seconds, peak RSS of the child in KiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env or ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, args))}\n{err[-2000:]}")
    return out, wall, 0


def nndsl_run(epochs: int, progress: str = "json", nn: str = "sales_bench.nn", extra=()) -> dict:
    args = [PY, "-m", "nndsl", "run", nn, "--set", f"epochs={epochs}", "--record", str(Path(tempfile.gettempdir()) / "bench.run.json")]
    if progress == "json":
        args += ["--log-format", "json"]
    else:
        args += ["--progress", progress]
    out, wall, _ = sh(args + list(extra))
    result = {"wall": wall}
    if progress == "json":
        events = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        ends = [e for e in events if e["event"] == "epoch_end"]
        result["epoch"] = statistics.median(e["seconds"] for e in ends[2:] or ends)
        result["loss"] = ends[-1]["loss"]
    else:
        record = json.loads((Path(tempfile.gettempdir()) / "bench.run.json").read_text())
        result["loss"] = record["history"]["sales"]["loss"][-1]
    return result


def script(name: str, epochs: int) -> dict:
    out, wall, _ = sh([PY, name, "--epochs", str(epochs)])
    data = json.loads(out.strip().splitlines()[-1])
    times = data["epoch_seconds"]
    return {"wall": wall, "epoch": statistics.median(times[2:] or times), "loss": data["loss"]}


def ratio_row(name, a, b, key, pairs_a, pairs_b, target):
    ratios = [x[key] / y[key] for x, y in zip(pairs_a, pairs_b)]
    return (name, statistics.median(x[key] for x in pairs_a), statistics.median(y[key] for y in pairs_b), statistics.median(ratios), target)


def bench_training(pairs: int, epochs: int) -> list:
    nn, tut, tuned = [], [], []
    for _ in range(pairs):
        nn.append(nndsl_run(epochs))
        tut.append(script("tutorial_keras.py", epochs))
        tuned.append(script("tuned_keras.py", epochs))
    return [
        ratio_row("per-epoch s: nndsl / tutorial-style Keras", "nndsl", "tutorial", "epoch", nn, tut, "<= 0.30"),
        ratio_row("final loss: nndsl / tutorial-style Keras", "nndsl", "tutorial", "loss", nn, tut, "<= 1.05"),
        ratio_row("whole process s: nndsl run / tutorial script", "nndsl", "tutorial", "wall", nn, tut, "<= 0.75"),
        ratio_row("per-epoch s: nndsl / best hand-tuned Keras", "nndsl", "tuned", "epoch", nn, tuned, "<= 1.05"),
    ]


def nndsl_command() -> list[str]:
    """The installed ``nndsl`` console script (what users run), else ``python -m nndsl``."""
    script = Path(sys.executable).with_name("nndsl")
    return [str(script)] if script.exists() else [PY, "-m", "nndsl"]


def bench_check(pairs: int) -> list:
    check, tf = [], []
    target = str(ROOT / "examples" / "sales" / "sales.nn")
    for _ in range(pairs):
        for _ in range(5):
            check.append({"wall": sh(nndsl_command() + ["check", "-q", target])[1]})
        tf.append({"wall": sh([PY, "-c", "import tensorflow"])[1]})
    c = statistics.median(x["wall"] for x in check)
    t = statistics.median(x["wall"] for x in tf)
    return [("nndsl check s (whole process) vs import tensorflow", c, t, c / t, "<= 0.15 s, >= 15x faster")]


def bench_parse() -> list:
    out, _, _ = sh([PY, str(HERE / "parse_bench.py"), "--rounds", "3"])
    rates = {}
    ratio = None
    for line in out.splitlines():
        if "lines:" in line:
            n, rate = line.split("lines:")
            rates[int(n.strip().replace(",", ""))] = float(rate.split()[0].replace(",", ""))
        elif line.startswith("100k/1k rate ratio:"):
            ratio = float(line.split(":")[1].split(",")[0])  # the ratio of the best rounds
    return [("parse lines/s (10k-line file)", rates[10_000], None, None, ">= 50,000"),
            ("parse rate 100k / 1k lines", rates[100_000], rates[1_000], ratio, ">= 0.80")]


PREDICT_CODE = r"""
import json, os, sys, time, statistics
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, keras
sys.path.insert(0, {root!r})
from nndsl.run.steps import predict_array
keras.utils.set_random_seed(1)
model = keras.Sequential([keras.Input(shape=(9,)), keras.layers.Dense(50, activation="relu"), keras.layers.Dense(100, activation="relu"),
                          keras.layers.Dense(50, activation="relu"), keras.layers.Dense(1)])
x = np.random.rand({rows}, 9).astype("float32")
predict_array(model, x[:1000]); model.predict(x[:1000], verbose=0)
ours, theirs = [], []
for _ in range({pairs}):
    t = time.perf_counter(); predict_array(model, x); ours.append(time.perf_counter() - t)
    t = time.perf_counter(); model.predict(x, verbose=0); theirs.append(time.perf_counter() - t)
print(json.dumps({{"ours": ours, "theirs": theirs}}))
"""


def bench_predict(pairs: int, rows: int = 100_000) -> list:
    out, _, _ = sh([PY, "-c", PREDICT_CODE.format(root=str(ROOT), rows=rows, pairs=pairs)])
    d = json.loads(out.strip().splitlines()[-1])
    ours = statistics.median(rows / t for t in d["ours"])
    theirs = statistics.median(rows / t for t in d["theirs"])
    ratios = [b / a for a, b in zip(d["ours"], d["theirs"])]
    return [(f"predict rows/s on {rows:,} rows: nndsl vs model.predict default", ours, theirs, statistics.median(ratios), ">= 10x")]


def bench_progress(pairs: int, epochs: int) -> list:
    rich, none = [], []
    env = dict(ENV, FORCE_COLOR="1", COLUMNS="100")
    for _ in range(pairs):
        for mode, bucket in (("rich", rich), ("none", none)):
            out, wall, _ = sh([PY, "-m", "nndsl", "run", "sales_bench.nn", "--set", f"epochs={epochs}", "--progress", mode,
                               "--record", str(Path(tempfile.gettempdir()) / "bench.run.json")], env=env)
            record = json.loads((Path(tempfile.gettempdir()) / "bench.run.json").read_text())
            secs = record["epoch_seconds"]["sales"]
            bucket.append({"epoch": statistics.median(secs[2:] or secs)})
    r = statistics.median(a["epoch"] / b["epoch"] for a, b in zip(rich, none))
    return [("per-epoch s: rich progress / no progress", statistics.median(a["epoch"] for a in rich),
             statistics.median(b["epoch"] for b in none), r, "<= 1.03")]


MEMORY_CODE = r"""
import csv, random
rows = {rows}
random.seed(0)
with open({path!r}, "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["critic_rating", "is_action", "is_exclusive_to_us", "is_portable", "is_role_playing", "is_sequel",
                "is_sports", "suitable_for_kids", "unit_price", "total_earnings"])
    for i in range(rows):
        r = [round(random.uniform(1, 5), 1)] + [random.randint(0, 1) for _ in range(7)] + [random.choice([19.99, 39.99, 59.99])]
        w.writerow(r + [round(r[0] * 1e6 + r[8] * 1e4 + random.random() * 1e5, 2)])
"""


def peak_rss_kib(args, env) -> int:
    proc = subprocess.run([PY, "-c", "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
                           "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
                           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)", *args],
                          capture_output=True, text=True, env=env, cwd=HERE)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return int(proc.stdout.strip())


def bench_memory(rows: int) -> list:
    tmp = Path(tempfile.mkdtemp(prefix="nndsl-mem-"))
    results = {}
    for n in (1000, rows):
        sh([PY, "-c", MEMORY_CODE.format(rows=n, path=str(tmp / f"d{n}.csv"))])
        nn = tmp / f"m{n}.nn"
        nn.write_text(
            f'seed 1\ndata d = csv("d{n}.csv", target="total_earnings")\n'
            "model m {\n    Input(shape=(9,))\n    Dense(50, activation=relu)\n    Dense(100, activation=relu)\n"
            "    Dense(50, activation=relu)\n    Dense(1)\n    loss mse\n    optimizer adam\n"
            "    scale_features minmax\n    scale_target minmax\n}\n"
            "train m on d epochs=1 batch_size=32\n"
        )
        results[n] = peak_rss_kib([PY, "-m", "nndsl", "run", str(nn), "--progress", "none"], ENV)
    data_mib = rows * 10 * 4 / 2**20
    extra_mib = (results[rows] - results[1000]) / 1024
    return [(f"peak memory training on {rows:,} rows (MiB over a 1,000-row run)", extra_mib, data_mib, extra_mib / data_mib,
             "<= 2 (the data + one copy)")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=50, help="the tutorial trains for 50")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--memory-rows", type=int, default=1_000_000)
    ap.add_argument("--only", nargs="*", choices=("training", "check", "parse", "predict", "progress", "memory"))
    args = ap.parse_args()
    if args.quick:
        args.pairs, args.epochs, args.memory_rows = 2, 10, 100_000
    only = set(args.only or ("training", "check", "parse", "predict", "progress", "memory"))
    rows = []
    if "training" in only:
        rows += bench_training(args.pairs, args.epochs)
    if "check" in only:
        rows += bench_check(args.pairs)
    if "parse" in only:
        rows += bench_parse()
    if "predict" in only:
        rows += bench_predict(args.pairs)
    if "progress" in only:
        rows += bench_progress(args.pairs, args.epochs)
    if "memory" in only:
        rows += bench_memory(args.memory_rows)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{'measure':<66} {'nndsl':>10} {'reference':>10} {'ratio':>8}  target")
    for name, a, b, r, target in rows:
        fa = f"{a:.4g}" if a is not None else "-"
        fb = f"{b:.4g}" if b is not None else "-"
        fr = f"{r:.3f}" if r is not None else "-"
        print(f"{name:<66} {fa:>10} {fb:>10} {fr:>8}  {target}")


if __name__ == "__main__":
    main()
