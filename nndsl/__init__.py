"""nndsl: a declarative language for defining, training and shipping Keras models.

The facade below never imports TensorFlow: parsing, checking and formatting are instant.
``build`` and ``run_file`` load Keras only when called.

``nndsl.run`` is the runner package (:mod:`nndsl.run`), not a function: Python makes a package's
attribute the subpackage of that name as soon as it is imported, so a function ``nndsl.run``
would work only until the first run imported the package. ``nndsl.run_file`` is the function
that runs a file, any number of times in a process (see ``docs/embedding.md``).
"""

from __future__ import annotations

from .errors import NndslCheckError, NndslError, NndslSyntaxError, PluginError, RunError
from .syntax.parser import parse, parse_file
from .version import __version__

__all__ = [
    "parse", "parse_file", "check", "format", "build", "run_file", "RunResult",
    "NndslError", "NndslSyntaxError", "NndslCheckError", "PluginError", "RunError", "__version__",
]


def __getattr__(name):
    if name == "check":
        from .semantics.check import check

        return check
    if name == "format":
        from .formatter import format_program

        return format_program
    if name == "build":
        from .compile.keras import build

        return build
    if name in ("run_file", "RunResult"):
        from .run import embed

        return getattr(embed, name)
    if name == "run":
        import importlib

        return importlib.import_module(".run", __name__)  # the package, as it is once anything imported it
    raise AttributeError(f"module 'nndsl' has no attribute {name!r}")
