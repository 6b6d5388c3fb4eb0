"""A test plugin: the callback ``WaitForPeers(count=N)`` holds each process's first training until N
processes have started one, so a test of processes sharing a search knows every one trains a trial.

Each process marks its arrival with a file ``peer-<pid>`` in the working folder, then waits (at most
``timeout`` seconds) for N such files. Trials can then be as short as the test likes, rather than
long enough for a second process to import TensorFlow before the first has done them all.
"""

import os
import time
from pathlib import Path

import keras

from nndsl.plugins.registry import registry
from nndsl.plugins.spec import LayerSpec, param


class WaitForPeers(keras.callbacks.Callback):
    def __init__(self, count: int = 2, timeout: float = 120.0):
        super().__init__()
        self.count, self.timeout = count, timeout

    def on_train_begin(self, logs=None):
        Path(f"peer-{os.getpid()}").touch()
        deadline = time.monotonic() + self.timeout
        while len(list(Path().glob("peer-*"))) < self.count and time.monotonic() < deadline:
            time.sleep(0.05)


registry("callbacks").register("WaitForPeers", LayerSpec(
    name="WaitForPeers", doc="Wait until COUNT processes have started training.", impl="wait_for_peers:WaitForPeers",
    params=(param("count", "int", 2), param("timeout", "float", 120.0))))
