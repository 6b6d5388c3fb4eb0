"""nndsl's checked values as Python source, for ``nndsl export --to python``.

:class:`PythonCode` gives the script's names (each once, none shadowing another) and writes
what nndsl passes to Keras (numbers, strings, Keras calls, bare names such as ``relu`` or
``adam``) as the Python that makes the same objects, using a ``let`` constant wherever the
file wrote one. A name that only a plugin can make is recorded as a problem, with where it
was written, for the exporter to list.

Writing code never imports TensorFlow.
"""

from __future__ import annotations

import ast as pyast
import builtins
import json
import keyword
import math

from .. import ast
from ..plugins.registry import normalize, registry
from ..semantics.check import CheckedData
from ..semantics.keras_check import LAYER_PATH_ARGS, ResolvedCall, ResolvedName, sequential_spec
from ..semantics.values import Symbol

INSTANTIATE_NAMES = ("initializers", "regularizers", "constraints", "optimizers", "losses", "metrics")
KINDS_WORD = {
    "layers": "layer", "activations": "activation", "losses": "loss", "optimizers": "optimizer",
    "schedules": "learning-rate schedule", "metrics": "metric", "initializers": "initializer",
    "regularizers": "regularizer", "constraints": "constraint", "callbacks": "callback",
}


def shown_name(name: str) -> str:
    """A file name as the script's comments and docstrings show it: quotes, backslashes and every
    character that is not printable (line breaks included) escaped, so a name can end neither a
    comment nor a docstring, whatever it holds."""
    out = []
    for ch in name:
        if ch in "\\\"'" or not ch.isprintable():
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


class Unsupported(Exception):
    """A value with no Python form (the exporter refuses the whole program)."""


class PythonCode:
    """The names of one script, and its values written as Python.

    Args:
        file: the ``.nn`` file's name, for the places problems are reported at.
        reserved: names the script already defines (its helpers, imports and fixed variables).
    """

    def __init__(self, file: str, reserved=()) -> None:
        self.file = file
        self.taken: set[str] = set(reserved) | set(keyword.kwlist) | set(dir(builtins))
        self.names: dict = {}
        self.problems: list = []
        self.constants: dict = {}  # let name -> constant name
        self.constant_values: dict = {}  # constant name -> Python value

    # ------------------------------------------------------------ names
    def allocate(self, key, preferred: str) -> str:
        """A Python name for ``key``, ``preferred`` unless something else already has it."""
        if key in self.names:
            return self.names[key]
        name, n = preferred, 2
        while name in self.taken:
            name, n = f"{preferred}_{n}", n + 1
        self.taken.add(name)
        self.names[key] = name
        return name

    def where(self, span) -> str:
        """``file:line:column`` of a place in the .nn file (the file's name without one)."""
        return f"{self.file}:{span.line}:{span.column}" if span is not None else self.file

    def unsupported(self, span, what: str) -> None:
        """Record a name a plain Keras script cannot reproduce; the exporter lists them all."""
        problem = (span.start if span is not None else -1, f"{self.where(span)}: {what}")
        if problem not in self.problems:
            self.problems.append(problem)

    # ------------------------------------------------------------ values as Python
    def literal(self, value) -> str:
        """A plain value (number, string, bool, none, tuple, list, dict of those) as a Python literal."""
        if value is None or isinstance(value, bool):
            return repr(value)
        if isinstance(value, int):
            return repr(int(value))
        if isinstance(value, float):
            return repr(value) if math.isfinite(value) else f'float("{value}")'
        if isinstance(value, str):
            text = json.dumps(str(value), ensure_ascii=False)
            try:
                if pyast.literal_eval(text) == str(value):
                    return text
            except (ValueError, SyntaxError):
                pass
            return repr(str(value))
        if isinstance(value, tuple):
            items = [self.literal(v) for v in value]
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        if isinstance(value, list):
            return f"[{', '.join(self.literal(v) for v in value)}]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.literal(k)}: {self.literal(v)}" for k, v in value.items()) + "}"
        raise Unsupported(f"a value of type {type(value).__name__}")

    @staticmethod
    def plain(value) -> bool:
        if value is None or isinstance(value, (bool, int, float, str)):
            return True
        if isinstance(value, (list, tuple)):
            return all(PythonCode.plain(v) for v in value)
        if isinstance(value, dict):
            return all(PythonCode.plain(k) and PythonCode.plain(v) for k, v in value.items())
        return False

    @staticmethod
    def python_value(value):
        if isinstance(value, Symbol):
            return str(value)
        if isinstance(value, list):
            return [PythonCode.python_value(v) for v in value]
        if isinstance(value, tuple):
            return tuple(PythonCode.python_value(v) for v in value)
        if isinstance(value, dict):
            return {PythonCode.python_value(k): PythonCode.python_value(v) for k, v in value.items()}
        return value

    def expression(self, node, shadow=frozenset()) -> str | None:
        """``node`` as a Python expression over the let constants, or None when it is not one."""
        if isinstance(node, ast.Number):
            return self.literal(node.value)
        if isinstance(node, ast.String):
            return self.literal(node.value)
        if isinstance(node, ast.Bool):
            return repr(bool(node.value))
        if isinstance(node, ast.NoneLit):
            return "None"
        if isinstance(node, ast.Name):
            if node.id in shadow or node.id not in self.constants:
                return None
            return self.constants[node.id]
        if isinstance(node, ast.UnaryOp):
            inner = self.expression(node.operand, shadow)
            if inner is None:
                return None
            if isinstance(node.operand, ast.BinOp):
                inner = f"({inner})"
            return f"{node.op}{inner}"
        if isinstance(node, ast.BinOp):
            left = self.expression(node.left, shadow)
            right = self.expression(node.right, shadow)
            if left is None or right is None:
                return None
            prec = 1 if node.op in "+-" else 2
            if isinstance(node.left, ast.BinOp) and (1 if node.left.op in "+-" else 2) < prec:
                left = f"({left})"
            if isinstance(node.right, ast.BinOp) and (1 if node.right.op in "+-" else 2) <= prec:
                right = f"({right})"
            return f"{left} {node.op} {right}"
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [self.expression(i, shadow) for i in node.items]
            if any(i is None for i in items):
                return None
            if isinstance(node, ast.List):
                return f"[{', '.join(items)}]"
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        return None

    def same(self, code: str, value) -> bool:
        """Whether the Python expression ``code`` evaluates to exactly ``value`` (types included)."""
        try:
            # `code` was built from literals, operators and the let constants only
            got = eval(compile(code, "<expression>", "eval"), {"__builtins__": {}}, dict(self.constant_values))  # noqa: S307
        except Exception:
            return False
        return _strictly_equal(got, self.python_value(value))

    def code(self, value, node=None, shadow=frozenset()) -> str:
        """A checked argument value as Python: what nndsl passes to Keras, written as source."""
        if isinstance(value, ResolvedCall):
            return self.call(value, shadow)
        if isinstance(value, ResolvedName):
            text = self.name(value, node.span if node is not None else None)
            if isinstance(node, ast.Name) and node.id not in shadow and node.id in self.constants:
                const = self.constants[node.id]
                if text == self.literal(self.constant_values[const]):
                    return const  # `activation=act` after `let act = relu`
            return text
        if isinstance(value, CheckedData):
            raise Unsupported("a data source here")
        if self.plain(value):
            literal = self.literal(self.python_value(value))
            if node is not None:
                expr = self.expression(node, shadow)
                if expr is not None and expr != literal and self.same(expr, value):
                    return expr
            return literal
        if isinstance(value, (list, tuple)):
            items = list(node.items) if isinstance(node, (ast.List, ast.Tuple)) and len(node.items) == len(value) else [None] * len(value)
            parts = [self.code(v, n, shadow) for v, n in zip(value, items)]
            if isinstance(value, list):
                return f"[{', '.join(parts)}]"
            return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
        if isinstance(value, dict):
            pairs = list(node.items) if isinstance(node, ast.Dict) and len(node.items) == len(value) else [None] * len(value)
            return "{" + ", ".join(f"{self.literal(self.python_value(k))}: {self.code(v, p.value if p is not None else None, shadow)}"
                                   for (k, v), p in zip(value.items(), pairs)) + "}"
        raise Unsupported(f"a value of type {type(value).__name__}")

    def _keras_path(self, kind: str, spec, span) -> str | None:
        """The public Keras path of a resolved spec, or None (recorded as a problem) for a plugin's name."""
        if spec is sequential_spec():
            return "keras.Sequential"
        try:
            entry = registry(kind).entry(spec.name)
        except KeyError:
            entry = None
        origin = entry.origin if entry is not None else "<unknown>"
        if origin != "nndsl" or not (spec.impl.startswith("keras.") or spec.impl.startswith("keras:")):
            self.unsupported(span, f"{KINDS_WORD.get(kind, kind)} '{spec.name}' (from {origin})")
            return None
        if kind == "layers" and spec.name == "Input":
            return "keras.Input"
        return spec.impl.replace(":", ".")

    def call(self, rc: ResolvedCall, shadow=frozenset()) -> str:
        node = rc.node if isinstance(rc.node, ast.Call) else None
        path = self._keras_path(rc.kind, rc.spec, node.name_span if node is not None else None)
        if path is None:
            return "None"
        if rc.spec is sequential_spec():
            nodes = _sequential_item_nodes(node, len(rc.args.get("layers") or ()))
            layers = ", ".join(self.code(v, n, shadow) for v, n in zip(rc.args.get("layers") or (), nodes))
            rest = [f"{k}={self.code(v, _kwarg_node(node, k), shadow)}" for k, v in rc.args.items() if k != "layers"]
            return f"keras.Sequential([{layers}]{''.join(', ' + r for r in rest)})"
        params = [p.name for p in rc.spec.params]
        nodes = argument_nodes(node, params)
        positional_ok = _positional_params(rc.kind, rc.spec)
        given = len(node.args) if node is not None else 0
        parts: list[str] = []
        used: set[str] = set()
        for p in params[:given]:
            if p not in rc.args or p not in positional_ok:
                break
            parts.append(self.code(rc.args[p], nodes.get(p), shadow))
            used.add(p)
        parts.extend(self.code(v, None, shadow) for v in rc.args.get("*args", ()))
        for k, v in rc.args.items():
            if k in used or k == "*args":
                continue
            if rc.kind == "layers" and k in LAYER_PATH_ARGS and isinstance(v, str) and not isinstance(v, Symbol):
                # a file the layer reads, relative to the .nn file as in `nndsl run`
                parts.append(f"{k}=str(BASE / {self.code(v, nodes.get(k), shadow)})")
                continue
            parts.append(f"{k}={self.code(v, nodes.get(k), shadow)}")
        return f"{path}({', '.join(parts)})"

    def name(self, rn: ResolvedName, span=None) -> str:
        """A bare name (``relu``, ``mse``, ``adam``) as the object nndsl gives Keras for it."""
        spec = rn.spec
        path = self._keras_path(rn.kind, spec, span)
        if path is None:
            return "None"
        if rn.kind == "activations" or rn.kind not in INSTANTIATE_NAMES:
            return self.literal(spec.name)
        written = rn.written or spec.name
        if rn.kind in ("metrics", "losses") and _compile_special(rn.kind, written):
            return self.literal(written.lower())  # "accuracy": model.compile picks the right one for the loss
        cls = _class_path(rn.kind, spec)
        if cls is None:
            return path
        if rn.kind == "metrics" and rn.written:
            return f"{cls}(name={self.literal(rn.written)})"
        return f"{cls}()"


# ---------------------------------------------------------------- small helpers


def _strictly_equal(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_strictly_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def argument_nodes(node, params: list[str]) -> dict:
    """Parameter name -> the expression written for it in the call ``node``."""
    if not isinstance(node, ast.Call):
        return {}
    out = {}
    for p, arg in zip(params, node.args):
        out[p] = arg
    for k in node.kwargs:
        out[k.name] = k.value
    return out


def _kwarg_node(node, name: str):
    if not isinstance(node, ast.Call):
        return None
    return next((k.value for k in node.kwargs if k.name == name), None)


def _sequential_item_nodes(node, count: int) -> list:
    if not isinstance(node, ast.Call):
        return [None] * count
    if len(node.args) == 1 and isinstance(node.args[0], ast.List):
        items = list(node.args[0].items)
    elif node.args:
        items = list(node.args)
    else:
        value = _kwarg_node(node, "layers")
        items = list(value.items) if isinstance(value, (ast.List, ast.Tuple)) else []
    return items if len(items) == count else [None] * count


def _positional_params(kind: str, spec) -> set[str]:
    """The parameters a Keras constructor takes by position (not keyword-only, not **kwargs)."""
    from ..builtins.keras import catalogue

    entry = catalogue()["kinds"].get(kind, {}).get(spec.name, {})
    return {p["name"] for p in entry.get("params", ()) if p.get("kind") == "positional_or_keyword"}


def _compile_special(kind: str, written: str) -> bool:
    from ..builtins.keras import catalogue

    return bool(catalogue()["kinds"].get(kind, {}).get(written.lower(), {}).get("compile_special"))


def _class_path(kind: str, spec) -> str | None:
    """The Keras class nndsl instantiates for a name (``mean_squared_error`` -> ``keras.losses.MeanSquaredError``)."""
    if spec.kind == "class":
        return spec.impl.replace(":", ".")
    reg = registry(kind)
    for name in reg.names():
        if name[:1].isupper() and normalize(name) == normalize(spec.name):
            return reg.get(name).impl.replace(":", ".")
    return None


def origin_of(kind: str, name: str) -> str:
    """Where a registered name comes from ("nndsl", or a plugin's distribution)."""
    try:
        return registry(kind).entry(name).origin
    except KeyError:
        return "<unknown>"

