"""nndsl: a declarative language for defining, training and shipping Keras models.

The facade below never imports TensorFlow: parsing, checking and formatting are instant.
``build`` and ``run_file`` load Keras only when called. ``run_file`` is the run API.

``nndsl.run`` is the runner package (:mod:`nndsl.run`), always, not a function: Python makes a
package's attribute the subpackage of that name as soon as it is imported, so a function
``nndsl.run`` worked only until the first run imported the package (see ``docs/embedding.md``).

In IPython and Jupyter, ``%load_ext nndsl`` adds the ``%%nn`` cell magic (see ``docs/embedding.md``).
"""

from __future__ import annotations

from .errors import NndslCheckError, NndslError, NndslSyntaxError, PluginError, RunError
from .syntax.parser import parse, parse_file
from .version import __version__

__all__ = [
    "parse", "parse_file", "check", "format", "build", "run_file",
    "NndslError", "NndslSyntaxError", "NndslCheckError", "PluginError", "RunError", "__version__",
]


def run_file(path, **kwargs):
    """Check and run a ``.nn`` file; its histories, metrics and trained models.

    See :func:`nndsl.run.api.run_file` for the arguments. Callable any number of times.
    """
    from .run.api import run_file as run

    return run(path, **kwargs)


def load_ipython_extension(ipython) -> None:
    """``%load_ext nndsl``: the ``%%nn`` cell magic, which checks and runs the cell's program."""
    from .notebook import load_ipython_extension as load

    load(ipython)


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
        import importlib

        return importlib.import_module(".run", __name__)  # the package, as it is once anything imported it
    raise AttributeError(f"module 'nndsl' has no attribute {name!r}")
