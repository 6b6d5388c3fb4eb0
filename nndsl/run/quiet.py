"""Importing TensorFlow quietly: its start-up noise on stderr is hidden unless --verbose."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings


def prepare(verbose: bool = False) -> None:
    """Set the environment before TensorFlow is imported, then import Keras."""
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
        warnings.filterwarnings("ignore", category=UserWarning, module="keras")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "keras" in sys.modules:
        return
    if verbose:
        import keras  # noqa: F401

        return
    with _stderr_silenced():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
    with contextlib.suppress(Exception):
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 to /dev/null while the C++ runtime loads (it logs before Python can filter)."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
