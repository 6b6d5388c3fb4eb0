"""Shared test configuration: the --update-goldens option, registry isolation, hypothesis profiles."""

from __future__ import annotations

import importlib
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


@pytest.fixture
def update_goldens(request) -> bool:
    """Whether golden files are to be rewritten rather than compared."""
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(autouse=True)
def _fresh_registries():
    """Names registered by one test never leak into the next."""
    yield
    importlib.import_module("nndsl.plugins.registry").reset()
