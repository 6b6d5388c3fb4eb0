"""On a backend other than TensorFlow, Keras's saving and loading leave TensorFlow unimported
where the model does not need it (a whole run on JAX is checked in ``test_distributed.py``)."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.keras


@pytest.fixture
def unimported(monkeypatch):
    """This process as one that never imported TensorFlow: its module is out of sys.modules, and
    importing it is recorded instead of done. Returns (Keras's lazy handle on it, the imports)."""
    from keras.src.utils import module_utils

    from nndsl.run import quiet

    imports: list[bool] = []
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.setattr(quiet, "import_tensorflow_quietly", lambda: imports.append(True))
    monkeypatch.setattr(module_utils.tensorflow, "_available", None)
    return module_utils.tensorflow, imports


def test_a_model_that_needs_no_tensorflow_loads_without_it(unimported):
    from nndsl.run.quiet import load_without_tensorflow

    lazy, imports = unimported
    asked = []
    assert load_without_tensorflow(lambda: asked.append(lazy._available) or "model") == "model"
    assert asked == [False] and imports == [] and lazy._available is None  # told unavailable, then set back


def test_a_model_that_needs_tensorflow_loads_again_with_it(unimported):
    """A StringLookup refuses to be built without TensorFlow: the file is read again, TensorFlow imported."""
    from nndsl.run.quiet import load_without_tensorflow

    lazy, imports = unimported
    asked = []

    def load():
        asked.append(lazy._available)
        if lazy._available is False:
            raise ImportError("Layer StringLookup requires TensorFlow")
        return "model"

    assert load_without_tensorflow(load) == "model"
    assert asked == [False, None] and imports == [True]


def test_a_file_that_cannot_be_loaded_raises_the_error_of_the_reading_with_tensorflow(unimported):
    from nndsl.run.quiet import load_without_tensorflow

    lazy, imports = unimported
    attempts = []

    def load():
        attempts.append(lazy._available)
        raise ValueError(f"not a model (attempt {len(attempts)})")

    with pytest.raises(ValueError, match=r"attempt 2"):
        load_without_tensorflow(load)
    assert attempts == [False, None] and imports == [True] and lazy._available is None


def test_a_save_is_told_tensorflow_is_unavailable_and_it_is_set_back(unimported):
    from nndsl.run.quiet import serializing_without_tensorflow

    lazy, imports = unimported
    with pytest.raises(RuntimeError), serializing_without_tensorflow():
        assert lazy._available is False
        raise RuntimeError("a full disk")
    assert lazy._available is None and imports == []


def test_with_tensorflow_imported_nothing_changes():
    import tensorflow  # noqa: F401  (the TensorFlow backend has it imported)
    from keras.src.utils import module_utils

    from nndsl.run.quiet import load_without_tensorflow, serializing_without_tensorflow

    before = module_utils.tensorflow._available
    with serializing_without_tensorflow():
        assert module_utils.tensorflow._available == before
    assert load_without_tensorflow(lambda: module_utils.tensorflow._available) == before
