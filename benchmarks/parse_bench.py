"""Parse throughput: generates .nn files of 1k, 10k and 100k lines and prints lines per second.

Run: python benchmarks/parse_bench.py [--rounds N]
Targets: at least 50,000 lines/s, and the 100k-line rate at least 80% of the 1k-line rate.

The machine's speed drifts while the benchmark runs (on a shared 2-CPU machine a fixed
pure-Python loop varies by up to 1.5x from one second to the next, in spells that can last
most of a run). So the sizes are timed in rounds, each round timing every size once (a small
file several times, taking the median), and each size is reported by its best round: as
Python's timeit says of its repeats, the fastest is a lower bound on what the machine can do,
and slower ones are caused by other processes rather than by the code. The median and the
range of the rounds are printed beside it. The 100k/1k ratio is the ratio of the best rounds,
with the median of each round's own ratio (rates measured moments apart) beside it. The
reference loop's time is printed before and after, to tell a slow machine from a slow parser.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import nndsl
from nndsl.collector import parsing_phase

_LAYERS = [
    "    Dense({n}, activation=relu)",
    "    Conv2D({n}, (3, 3), padding=same, kernel_initializer=HeNormal(seed={n}))",
    "    Dropout(0.{d})",
    "    Dense(hidden * 2, activation=relu, kernel_regularizer=L2(1e-4))",
    "    # a comment line",
    "    BatchNormalization()",
    "    conv_block({n}, kernel=(3, 3))",
    "    Dense({n},",
    "          activation=tanh,",
    "          use_bias=false)",
]

SIZES = (1_000, 10_000, 100_000)


def generate(lines: int) -> str:
    """A valid program of about ``lines`` lines: models of 60 layers plus steps."""
    out = [
        "# generated benchmark input",
        "seed 1",
        "let hidden = 64",
        'data train = csv("train.csv", target="y")',
        "block conv_block(filters, kernel=(3, 3)) {",
        "    Conv2D(filters, kernel, padding=same, activation=relu)",
        "    MaxPooling2D((2, 2))",
        "}",
    ]
    i = 0
    while len(out) < lines:
        out.append(f"model m{i} {{")
        out.append("    Input(shape=(32, 32, 3))")
        for j in range(60):
            out.append(_LAYERS[j % len(_LAYERS)].format(n=(j % 7 + 1) * 8, d=j % 9 + 1))
        out.append("    loss sparse_categorical_crossentropy")
        out.append("    optimizer Adam(learning_rate=1e-3)")
        out.append("    metrics [accuracy]")
        out.append("}")
        out.append(f"train m{i} on train epochs=10 batch_size=32 validation_split=0.1")
        i += 1
    text = "\n".join(out[:lines]) + "\n"
    # Files end mid-model; close it so every size is a valid program.
    if text.count("{") > text.count("}"):
        text += "}\n"
    return text


def parse_seconds(text: str) -> float:
    """Seconds of one ``nndsl.parse`` as the command line runs it, with the young collection the
    caller's next allocation may start.

    The command line parses under :func:`nndsl.collector.parsing_phase`, which pauses the
    collector while the tree is built (it makes no cycles) and then hands the tree to the oldest
    generation, so that this collection has nothing of it to walk. It is still timed, as
    ``gc.collect(0)`` while the tree is alive, so that a tree left young would show here as the
    walk it costs.
    """
    gc.collect()
    t0 = time.perf_counter()
    with parsing_phase():
        tree = nndsl.parse(text, filename="bench.nn")
    gc.collect(0)
    seconds = time.perf_counter() - t0
    del tree
    return seconds


def _loop(n: int) -> tuple:
    a, b = 1000, 2000
    x = ()
    for i in range(n):
        x = (a, b, i, a, b)
    return x


def reference_ms() -> float:
    """Milliseconds of a fixed pure-Python loop (best of 5): how fast the machine runs Python now."""
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        _loop(300_000)
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="rounds of timing every size (default 5)")
    args = ap.parse_args()
    nndsl.parse("seed 1\n")  # warm: load the parse tables
    texts = {size: generate(size) for size in SIZES}
    lines = {size: text.count("\n") for size, text in texts.items()}
    # Within a round a small file is parsed several times and its median taken, so that
    # each size is timed for a comparable while.
    runs = {size: max(1, 30_000 // size) for size in SIZES}
    print(f"reference loop before: {reference_ms():.1f} ms")
    rates: dict = {size: [] for size in SIZES}
    for _ in range(max(1, args.rounds)):
        for size in SIZES:
            seconds = statistics.median(parse_seconds(texts[size]) for _ in range(runs[size]))
            rates[size].append(lines[size] / seconds)
    print(f"reference loop after:  {reference_ms():.1f} ms")
    best = {size: max(rates[size]) for size in SIZES}
    for size in SIZES:
        print(f"{size:>7} lines: {best[size]:>10,.0f} lines/s, best round "
              f"(median {statistics.median(rates[size]):,.0f}; rounds: {min(rates[size]):,.0f} to {max(rates[size]):,.0f})")
    ratios = [big / small for big, small in zip(rates[100_000], rates[1_000])]
    print(f"100k/1k rate ratio: {best[100_000] / best[1_000]:.2f}, best rounds "
          f"(each round's own: median {statistics.median(ratios):.2f}; {min(ratios):.2f} to {max(ratios):.2f})")
    print(f"parse throughput (lines/s, 10k file): {best[10_000]:.0f}")

if __name__ == "__main__":
    main()
