"""A test plugin: at exit, the process writes which of TensorFlow and JAX it imported.

``modules-at-exit.json`` in the working folder holds the list, so a test of a real ``nndsl``
command can tell whether a path imported TensorFlow. It registers nothing in nndsl's registries.
"""

import atexit
import json
import sys


def _write() -> None:
    with open("modules-at-exit.json", "w") as fh:
        json.dump([m for m in ("tensorflow", "jax") if m in sys.modules], fh)


atexit.register(_write)
