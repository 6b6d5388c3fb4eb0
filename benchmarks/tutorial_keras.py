"""The sales model written by hand in the tutorial's style: numpy arrays, a min-max scaler,
``fit(verbose=1)``, evaluate, save, load, predict. The reference the harness compares against.

Prints one JSON line: per-epoch seconds, final training loss, test loss.
"""

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "examples" / "sales"


def load(name):
    rows = np.loadtxt(DATA / name, delimiter=",", skiprows=1, ndmin=2).astype("float32")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--out", default=str(HERE / "tutorial_model.keras"))
    args = ap.parse_args()
    keras.utils.set_random_seed(42)

    train = load("sales_data_training.csv")
    test = load("sales_data_test.csv")
    x, y = train[:, :-1], train[:, -1:]
    lo, hi = x.min(axis=0), x.max(axis=0)
    ylo, yhi = y.min(axis=0), y.max(axis=0)
    scale = lambda a: (a - lo) / np.where(hi > lo, hi - lo, 1)  # noqa: E731
    yscale = lambda a: (a - ylo) / (yhi - ylo)  # noqa: E731
    X, Y = scale(x), yscale(y)
    Xt, Yt = scale(test[:, :-1]), yscale(test[:, -1:])

    model = keras.models.Sequential()
    model.add(keras.Input(shape=(9,)))
    model.add(keras.layers.Dense(50, activation="relu"))
    model.add(keras.layers.Dense(100, activation="relu"))
    model.add(keras.layers.Dense(50, activation="relu"))
    model.add(keras.layers.Dense(1, activation="linear"))
    model.compile(loss="mean_squared_error", optimizer="adam")

    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    history = model.fit(X, Y, epochs=args.epochs, batch_size=args.batch, shuffle=True, verbose=1, callbacks=[Timer()])
    error_rate = model.evaluate(Xt, Yt, verbose=0)
    model.save(args.out)
    model = keras.models.load_model(args.out)
    new = scale(load("proposed_new_product.csv"))
    prediction = model.predict(new)[0][0] * (yhi - ylo)[0] + ylo[0]
    print(json.dumps({"epoch_seconds": times, "loss": history.history["loss"][-1], "test_loss": float(error_rate),
                      "prediction": float(prediction)}))


if __name__ == "__main__":
    main()
