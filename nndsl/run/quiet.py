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


def _lazy_tensorflow():
    """Keras's lazy handle on the TensorFlow module, where TensorFlow is not imported yet; None where
    it is, or where this Keras has no such handle (TensorFlow is then imported, quietly, as before)."""
    if "tensorflow" in sys.modules:
        return None
    try:
        from keras.src.utils import module_utils

        lazy = module_utils.tensorflow
        lazy._available  # noqa: B018 - the attribute this module sets: another Keras may lack it
    except (ImportError, AttributeError):
        import_tensorflow_quietly()
        return None
    return lazy


@contextlib.contextmanager
def _unavailable(lazy):
    """Keras told that TensorFlow is unavailable (``lazy``: its handle), and set back after."""
    before = lazy._available
    lazy._available = False
    try:
        yield
    finally:
        lazy._available = before


@contextlib.contextmanager
def serializing_without_tensorflow():
    """Around a Keras ``save`` (or a ``get_compile_config``): on a backend other than TensorFlow,
    TensorFlow stays unimported.

    Keras's serializer asks of each object it writes whether it is a TensorFlow ``TensorShape``,
    ``DType`` or ``TypeSpec``, and imports TensorFlow to ask whenever it is installed, on any
    backend: on JAX that cost a run 7 CPU-seconds and hundreds of MiB for a question whose answer
    is known, since no object can be TensorFlow's while TensorFlow is not imported. Keras's lazy
    handle on the module is told it is unavailable for the save, and set back after. A model that
    needs TensorFlow (a ``StringLookup``) imported it when it was built, and then nothing changes.
    """
    lazy = _lazy_tensorflow()
    if lazy is None:
        yield
        return
    with _unavailable(lazy):
        yield


def load_without_tensorflow(load):
    """``load()`` (a Keras ``load_model``) on a backend other than TensorFlow, TensorFlow left
    unimported where the model does not need it.

    Keras's reader asks the questions its writer asks (see :func:`serializing_without_tensorflow`),
    but some layers need TensorFlow itself on any backend (``StringLookup``, in the model of a
    table with categories), which only the file tells. The model is read with Keras told that
    TensorFlow is unavailable; where that fails, it is read again with TensorFlow imported, and a
    file that cannot be loaded at all raises from that second reading, as it always did.
    """
    lazy = _lazy_tensorflow()
    if lazy is None:
        return load()
    try:
        with _unavailable(lazy):
            return load()
    except Exception:  # noqa: BLE001 - read again below, with TensorFlow: its error is the one raised
        pass
    import_tensorflow_quietly()
    return load()
