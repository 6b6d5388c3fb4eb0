"""Generates the sequence_model example's data: sequences of deposits and withdrawals.

Each sequence has 20 steps; at each step one of two channels may be 1: channel 0 is a
deposit, channel 1 a withdrawal (or neither). The target is the final balance, deposits
minus withdrawals, a quantity a recurrent network has to count along the sequence.
Stored as uint8 (x, shape (n, 20, 2)) and int8 (y, shape (n, 1)). Fixed seed: the files
are reproducible.

Run: python examples/sequence_model/generate_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
STEPS = 20


def make(n: int, rng: np.random.Generator):
    bias = rng.uniform(0.15, 0.55, size=(n, 1))  # some sequences mostly deposit, others withdraw
    u = rng.random((n, STEPS))
    deposit = u < bias
    withdraw = (u >= bias) & (u < 0.7)
    x = np.stack([deposit, withdraw], axis=-1).astype(np.uint8)
    y = (deposit.sum(axis=1) - withdraw.sum(axis=1)).astype(np.int8)[:, None]
    return x, y


def main() -> None:
    rng = np.random.default_rng(20)
    x, y = make(320, rng)
    np.savez_compressed(HERE / "balances_train.npz", x=x, y=y)
    x, y = make(80, rng)
    np.savez_compressed(HERE / "balances_test.npz", x=x, y=y)
    x, _ = make(6, rng)
    np.savez_compressed(HERE / "balances_new.npz", x=x)


if __name__ == "__main__":
    main()
