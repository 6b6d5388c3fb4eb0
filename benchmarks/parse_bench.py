"""Parse throughput: generates .nn files of 1k, 10k and 100k lines and prints lines per second.

Run: python benchmarks/parse_bench.py [--repeat N]
Targets: at least 50,000 lines/s, and the 100k-line rate at least 80% of the 1k-line rate.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import nndsl

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
    return "\n".join(out[:lines]) + "\n"


def rate(text: str, repeat: int) -> float:
    """Lines per second of ``nndsl.parse``, including the one garbage collection of the new tree.

    ``parse`` pauses the collector while it builds the tree (it makes no cycles), so the first
    allocation after it returns starts a collection of the young generation, which walks every
    new node once. A caller pays that either way; it is timed here as ``gc.collect(0)`` while
    the tree is still alive.
    """
    n = text.count("\n")
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        tree = nndsl.parse(text, filename="bench.nn")
        gc.collect(0)
        times.append(time.perf_counter() - t0)
        del tree
    return n / statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    nndsl.parse("seed 1\n")  # warm: build or load the cached parser
    rates = {}
    for lines in (1_000, 10_000, 100_000):
        text = generate(lines)
        # Files end mid-model; close it so every size is a valid program.
        if text.count("{") > text.count("}"):
            text += "}\n"
        rates[lines] = rate(text, args.repeat if lines < 100_000 else max(1, args.repeat // 2))
        print(f"{lines:>7} lines: {rates[lines]:>10,.0f} lines/s")
    ratio = rates[100_000] / rates[1_000]
    print(f"100k/1k rate ratio: {ratio:.2f}")
    print(f"parse throughput (lines/s, 10k file): {rates[10_000]:.0f}")


if __name__ == "__main__":
    main()
