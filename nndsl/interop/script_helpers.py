"""The helper functions an exported script may need, read from ``templates/helpers.py``.

The template is a Python file cut into sections by ``# helper NAME | needs: ... | imports: ...``
marks (its docstring says how); the names it imports from :mod:`nndsl.run.defaults` are
replaced by their values, so a script trains with the numbers ``nndsl run`` trains with.
Reading it never imports it (nor TensorFlow).
"""

from __future__ import annotations

import ast
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

from ..run import defaults

TEMPLATE = "helpers.py"
_MARK = re.compile(r"^# helper (\w+)((?: \| \w+: [\w., ]+)*)$", re.M)


@dataclass(frozen=True)
class Helper:
    """One helper: its source as the script gets it, the helpers it calls, the modules it imports."""

    name: str
    source: str
    needs: tuple[str, ...]
    imports: tuple[str, ...]  # as written after `import`: "csv", "pyarrow.parquet as pq"
    defines: tuple[str, ...]  # the top-level names its source defines


@functools.cache
def helpers() -> dict[str, Helper]:
    """Every helper, in the order a script lists them."""
    text = (resources.files(__package__) / "templates" / TEMPLATE).read_text(encoding="utf-8")
    marks = list(_MARK.finditer(text))
    values = _placeholders(text[: marks[0].start()])
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, values)) + r")\b") if values else None
    out: dict[str, Helper] = {}
    for mark, following in zip(marks, [*marks[1:], None]):
        source = text[mark.end() : following.start() if following is not None else len(text)].strip("\n") + "\n"
        if pattern is not None:
            source = pattern.sub(lambda m: values[m.group(1)], source)
        fields = dict(part.split(": ", 1) for part in mark.group(2).split(" | ")[1:])
        out[mark.group(1)] = Helper(mark.group(1), source, _names(fields.get("needs")), _names(fields.get("imports")), _defined(source))
    return out


def _names(listed: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in listed.split(",")) if listed else ()


def _defined(source: str) -> tuple[str, ...]:
    return tuple(node.name for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef)))


def _placeholders(prelude: str) -> dict[str, str]:
    """The names the template imports from nndsl.run.defaults, each with its value as Python source."""
    out = {}
    for node in ast.parse(prelude).body:
        if isinstance(node, ast.ImportFrom) and node.module == defaults.__name__:
            out.update((alias.name, _as_source(getattr(defaults, alias.name))) for alias in node.names)
    return out


def _as_source(value) -> str:
    if isinstance(value, tuple):
        # double quotes, as the rest of the script writes strings
        return "(" + ", ".join(_as_source(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)
