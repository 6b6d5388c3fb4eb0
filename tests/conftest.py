"""Shared test configuration: the --update-goldens option, registry isolation, hypothesis profiles,
and the ``keras`` marker skipping where Keras or TensorFlow is not installed."""

from __future__ import annotations

import importlib
import importlib.util
import os

import pytest
from hypothesis import settings

settings.register_profile("default", max_examples=200, deadline=None)
settings.register_profile("fuzz", max_examples=20_000, deadline=None)
settings.load_profile("fuzz" if os.environ.get("NNDSL_FUZZ") == "1" else "default")


def pytest_addoption(parser):
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite the expected outputs under tests/cases (.ast.json, .err) from the current code",
    )


def _missing_keras() -> list[str]:
    """The packages of the ``keras`` extra that cannot be imported; found without importing them."""
    return [name for name in ("keras", "tensorflow") if importlib.util.find_spec(name) is None]


def pytest_collection_modifyitems(config, items):
    missing = _missing_keras()
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"needs {' and '.join(missing)}: pip install 'nndsl[keras]'")
    for item in items:
        if item.get_closest_marker("keras") is not None:
            item.add_marker(skip)


@pytest.fixture
def update_goldens(request) -> bool:
    """Whether golden files are to be rewritten rather than compared."""
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(autouse=True)
def _fresh_registries():
    """Names registered by one test never leak into the next."""
    yield
    importlib.import_module("nndsl.plugins.registry").reset()
