"""The one place where errors become output and exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from ..errors import NndslError, UsageError, did_you_mean


def use_color(stream) -> bool:
    """Colour for a terminal, unless ``NO_COLOR`` is set; ``FORCE_COLOR`` forces it."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def report(exc: NndslError) -> int:
    """Print a user's mistake as rendered diagnostics on stderr; its exit code."""
    print(exc.render(color=use_color(sys.stderr)), file=sys.stderr)
    return exc.exit_code


def warn(diagnostics) -> None:
    """Print warnings (diagnostics that do not stop anything) on stderr."""
    for w in diagnostics:
        print(w.render(color=use_color(sys.stderr)), file=sys.stderr)


def suggestion(name: str, candidates, **kwargs) -> str:
    """``; did you mean 'x'?`` to end a usage error's message, or nothing when no name is close."""
    hint = did_you_mean(name, candidates, **kwargs)
    return f"; {hint}" if hint else ""


def exit_status(command: str, call: Callable[[], int]) -> int:
    """Run a command; its exit status, with every user mistake printed.

    A wrong command line prints one line, ``nndsl COMMAND: error: ...``, and exits 2; another
    mistake prints its diagnostics and exits 1; Ctrl-C exits 130; a closed pipe ends quietly.
    Any other exception is a bug in nndsl, and its traceback is left to show.
    """
    try:
        return call()
    except UsageError as exc:
        print(f"nndsl {command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except NndslError as exc:
        return report(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
