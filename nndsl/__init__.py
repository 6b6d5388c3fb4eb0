"""nndsl: a declarative language for defining, training and shipping Keras models.

The facade below never imports TensorFlow: parsing, checking and formatting are instant.
``build`` and ``run`` load Keras only when called.
"""

from __future__ import annotations

from .errors import NndslCheckError, NndslError, NndslSyntaxError, PluginError, RunError
from .syntax.parser import parse, parse_file
from .version import __version__

__all__ = [
    "parse", "parse_file", "check", "format", "build", "run",
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
    if name == "run":
        from .run.runner import run

        return run
    raise AttributeError(f"module 'nndsl' has no attribute {name!r}")
