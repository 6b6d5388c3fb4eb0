"""Shared test configuration: the --update-goldens option, registry isolation, hypothesis profiles,
the ``keras`` marker skipping where Keras or TensorFlow is not installed, and slow builds started early."""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
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


# The modules whose tests take the most CPU (the processes they start included), most first. The
# suite runs on all CPUs, a module to a worker (pytest-xdist's loadscope): started first, these run
# beside each other and the many short modules fill in after them, rather than one of them running
# alone at the end while the other workers wait.
HEAVIEST_FIRST = ("test_distributed.py", "test_tune.py", "test_eject.py", "test_examples.py", "test_streaming.py",
                  "test_tracking.py", "test_interrupt.py", "test_mistakes.py", "test_security.py", "test_runner.py",
                  "test_spellings.py")


def _heaviest_first(items) -> None:
    rank = {name: i for i, name in enumerate(HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each module's tests keep their order


def pytest_collection_modifyitems(config, items):
    _heaviest_first(items)
    missing = _missing_keras()
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"needs {' and '.join(missing)}: pip install 'nndsl[keras]'")
    for item in items:
        if item.get_closest_marker("keras") is not None:
            item.add_marker(skip)


_EARLY = pytest.StashKey[dict]()


def pytest_collection_finish(session):
    """Start the slow work of selected test modules (``start_early(folder, tests)``) now, beside the other tests.

    A module whose tests wait on a long subprocess (building a wheel, a batch of command lines)
    defines ``start_early``; it is called once, in a fresh folder, with the module's selected
    tests, and the ``early`` fixture hands its result (a process, or an object with ``close``) to
    the tests.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # each worker collects every test but runs a share of them: a module's work starts, in the
        # worker that runs it, when its first test asks for it (the ``early`` fixture)
        return
    selected: dict = {}
    for item in session.items:
        module = getattr(item, "module", None)
        if getattr(module, "start_early", None) is not None and item.get_closest_marker("skip") is None:
            selected.setdefault(module, []).append(item)
    started: dict = {}
    for module, tests in selected.items():
        folder = Path(tempfile.mkdtemp(prefix="nndsl-early-"))
        started[module.__name__] = (module.start_early(folder, tests), folder)
    session.config.stash[_EARLY] = started


def pytest_sessionfinish(session):
    for value, folder in session.config.stash.get(_EARLY, {}).values():
        if isinstance(value, subprocess.Popen):
            value.kill()
            value.wait()
        elif hasattr(value, "close"):
            value.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def early(request):
    """What this module's ``start_early`` returned, and the folder it was given."""
    started = request.config.stash.get(_EARLY, {})
    if request.module.__name__ not in started:  # not started with the session: start it now
        folder = Path(tempfile.mkdtemp(prefix="nndsl-early-"))
        tests = [item for item in request.session.items if getattr(item, "module", None) is request.module]
        started[request.module.__name__] = (request.module.start_early(folder, tests), folder)
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
