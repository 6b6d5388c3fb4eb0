"""The Keras callback of the ``hold_later_trainings`` test plugin."""

import time
from pathlib import Path

import keras

_trainings = 0  # in this process


class HoldLaterTrainings(keras.callbacks.Callback):
    def __init__(self, timeout: float = 120.0):
        super().__init__()
        self.timeout = timeout

    def on_train_begin(self, logs=None):
        global _trainings
        _trainings += 1
        deadline = time.monotonic() + self.timeout
        while _trainings > 1 and Path("hold").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
