"""The sales search written by hand: Optuna and Keras, the trials of `tune_bench.nn` one by one.

The same spaces, suggested in the same order with the same seeded random sampler, so the trials
draw the same values as `nndsl run tune_bench.nn`; the same data, scaling, model, training
(epochs, batch size, validation split, shuffling seed) and objective (the last epoch's
val_loss); an in-memory study, as a script written for one search would keep it. Then, as the
`tune` step does, the model is built with the best values and trained once more.

Prints one JSON line: the trials' objectives, the best objective and the epochs trained.
"""

import argparse
import json
from pathlib import Path

import keras
import numpy as np
import optuna
import tensorflow as tf

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "examples" / "sales"


def load():
    train = np.loadtxt(DATA / "sales_data_training.csv", delimiter=",", skiprows=1, ndmin=2).astype("float32")
    x, y = train[:, :-1], train[:, -1:]
    low, high = x.min(0), x.max(0)
    x = (x - low) / np.where(high > low, high - low, 1)
    y = (y - y.min(0)) / (y.max(0) - y.min(0))
    cut = int(len(x) * 0.8)  # validation_split=0.2: the last fifth, before shuffling
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    (x, y), (vx, vy) = load()

    def objective(trial):
        hidden = trial.suggest_categorical("hidden", [32, 64, 128])
        depth = trial.suggest_int("depth", 1, 3)
        dropout = trial.suggest_float("dropout", 0.0, 0.3)
        learning_rate = trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
        keras.utils.set_random_seed(42)
        model = keras.Sequential([keras.Input(shape=(9,))] + [keras.layers.Dense(hidden, activation="relu") for _ in range(depth)]
                                 + [keras.layers.Dropout(dropout), keras.layers.Dense(1)])
        model.compile(loss="mean_squared_error", optimizer=keras.optimizers.Adam(learning_rate=learning_rate), metrics=["mae"])
        data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=42).batch(32).prefetch(2)
        val = tf.data.Dataset.from_tensor_slices((vx, vy)).batch(1024)
        history = model.fit(data, validation_data=val, epochs=args.epochs, verbose=0)
        return history.history["val_loss"][-1]

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(seed=42))
    study.optimize(objective, n_trials=args.trials)
    objective(optuna.trial.FixedTrial(study.best_params))  # the best model, trained again
    print(json.dumps({"objectives": [t.value for t in study.trials], "best": study.best_value,
                      "epochs": args.epochs * len(study.trials)}))


if __name__ == "__main__":
    main()
