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
    with stderr_silenced():
        import keras  # noqa: F401

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.get_logger().setLevel("ERROR")
    with contextlib.suppress(Exception):
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)


@contextlib.contextmanager
def stderr_silenced(stream=None):
    """Send file descriptor 2 (or ``stream``'s) to /dev/null while the C++ runtime loads (it logs
    before Python can filter)."""
    stream = stream or sys.stderr
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    stream.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow now, its start-up lines off the screen, if it is installed and not yet
    imported. Called before Keras calls that import it even on another backend (saving and
    loading models); ``--verbose`` (no ``TF_CPP_MIN_LOG_LEVEL=3``) leaves the lines visible."""
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3":
        return
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        return
    with stderr_silenced():
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
