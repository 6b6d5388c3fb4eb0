"""Shared test configuration: the --update-goldens option, registry isolation, hypothesis profiles,
the ``keras`` marker skipping where Keras or TensorFlow is not installed, and slow builds started early."""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

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


_EARLY = pytest.StashKey[dict]()


def pytest_collection_finish(session):
    """Start the slow work of selected test modules (``start_early(folder)``) now, beside the other tests.

    A module whose tests wait on a long subprocess (building a wheel) defines ``start_early``;
    it is called once, in a fresh folder, when any of the module's tests is selected, and the
    ``early`` fixture hands its result to the tests.
    """
    started: dict = {}
    for item in session.items:
        module = getattr(item, "module", None)
        start = getattr(module, "start_early", None)
        if start is None or module.__name__ in started or item.get_closest_marker("skip") is not None:
            continue
        folder = Path(tempfile.mkdtemp(prefix="nndsl-early-"))
        started[module.__name__] = (start(folder), folder)
    session.config.stash[_EARLY] = started


def pytest_sessionfinish(session):
    for value, folder in session.config.stash.get(_EARLY, {}).values():
        wait = getattr(value, "wait", None)
        if wait is not None:
            value.kill()
            wait()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def early(request):
    """What this module's ``start_early`` returned, and the folder it was given."""
    started = request.config.stash.get(_EARLY, {})
    if request.module.__name__ not in started:  # not started with the session: start it now
        folder = Path(tempfile.mkdtemp(prefix="nndsl-early-"))
        started[request.module.__name__] = (request.module.start_early(folder), folder)
        request.config.stash[_EARLY] = started
    return started[request.module.__name__]


@pytest.fixture
def update_goldens(request) -> bool:
    """Whether golden files are to be rewritten rather than compared."""
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(autouse=True)
def _fresh_registries():
    """Names registered by one test never leak into the next."""
    yield
    importlib.import_module("nndsl.plugins.registry").reset()
