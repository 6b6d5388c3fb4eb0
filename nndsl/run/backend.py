"""Which Keras backend runs a program: TensorFlow (the default) or JAX.

Keras reads its backend once, from ``KERAS_BACKEND``, when it is first imported; so the choice
is made before that import. The command line (``--backend``) wins over the file's ``backend``
setting, which wins over a ``KERAS_BACKEND`` already in the environment.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from ..errors import Diagnostic, RunError, UsageError
from ..semantics.check import SETTING_CHOICES

# The names the `backend` setting accepts are the backends there are; --backend offers the same.
BACKENDS = SETTING_CHOICES["backend"]

# What each backend needs installed, and how to get it.
_NEEDS = {"tensorflow": ("tensorflow", 'pip install "nndsl[keras]"'), "jax": ("jax", 'pip install "nndsl[jax]"')}


def choose(checked, cli: str | None = None) -> str:
    """The backend a run uses: ``--backend``, else the file's setting, else the environment."""
    if cli is not None:
        return cli
    if checked is not None and checked.settings.get("backend"):
        return str(checked.settings["backend"])
    env = os.environ.get("KERAS_BACKEND", "").lower()
    return env if env in BACKENDS else "tensorflow"


def activate(name: str, checked=None, *, from_cli: bool = False) -> None:
    """Point Keras at backend ``name``, or explain why it cannot be.

    Raises:
        UsageError: ``--backend`` names a backend that is not installed (exit 2).
        RunError: the file's ``backend`` setting does (located at the setting, exit 1), or Keras
            was already imported with another backend in this process.
    """
    module, install = _NEEDS[name]
    if importlib.util.find_spec(module) is None:
        message = f"expected {module} to be installed for the {name} backend; received an environment without it"
        if from_cli or _setting(checked) is None:
            raise UsageError(f"--backend {name}: {message} (install it: {install})")
        raise _located(checked, message, f"install it: {install}")
    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != name:
            message = f"expected Keras on the {name} backend; received Keras already imported on {current} in this process"
            hint = "run nndsl in its own process, or set KERAS_BACKEND before Keras is first imported"
            if from_cli or _setting(checked) is None:
                raise UsageError(f"--backend {name}: {message}; {hint}")
            raise _located(checked, message, hint)
    os.environ["KERAS_BACKEND"] = name


def _setting(checked):
    if checked is None:
        return None
    from .. import ast

    for stmt in checked.program.statements:
        if isinstance(stmt, ast.Setting) and stmt.name == "backend":
            return stmt
    return None


def _located(checked, message: str, hint: str) -> RunError:
    stmt = _setting(checked)
    return RunError(diagnostics=[Diagnostic(code="bad-setting", message=message, span=stmt.value.span, source=checked.source, hint=hint)])

