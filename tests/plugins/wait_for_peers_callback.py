"""The Keras callback of the ``wait_for_peers`` test plugin."""

import os
import time
from pathlib import Path

import keras


class WaitForPeers(keras.callbacks.Callback):
    def __init__(self, count: int = 2, timeout: float = 120.0):
        super().__init__()
        self.count, self.timeout = count, timeout

    def on_train_begin(self, logs=None):
        Path(f"peer-{os.getpid()}").touch()
        deadline = time.monotonic() + self.timeout
        while len(list(Path().glob("peer-*"))) < self.count and time.monotonic() < deadline:
            time.sleep(0.05)
