"""Generate ``nndsl/catalogue/keras.json`` and the Keras entry points in ``pyproject.toml``.

The catalogue lists every public name of each Keras module nndsl exposes, with a
parameter schema taken from ``inspect.signature`` and the Google-style docstring, so
that ``nndsl check`` can validate programs without importing TensorFlow.

Usage::

    python -m nndsl.tools.gen_catalogue           # rewrite the committed files
    python -m nndsl.tools.gen_catalogue --check   # exit 1 if they are out of date

Left out of each module:

* submodules (``keras.optimizers.legacy``; ``keras.optimizers.schedules`` is a kind of
  its own) and public attributes that are not callable;
* the identifier helpers ``get``, ``serialize`` and ``deserialize`` wherever a module
  exports them (``keras.layers.serialize``/``deserialize`` and
  ``keras.optimizers.schedules.serialize``/``deserialize`` included): they convert
  identifiers and configs, they are not objects a program names.

Everything else stays, base classes (``Layer``, ``Loss``, ``Metric``, ``Optimizer``,
...), ``keras.layers.InputSpec``, ``keras.optimizers.OptimizerMap`` and
``LossScaleOptimizer`` included.

Besides the public names, each kind gets the strings ``keras.<kind>.get`` accepts
(``"mse"``, ``"adam"``, ``"uniform"``, ...) as aliases of the public object they
resolve to; strings that resolve to a non-public object (``"LossFunctionWrapper"`` in
``keras.losses``) are left out. Entries may carry, beyond the documented format:

* ``"get_resolves_to"``: the string of a public name makes ``keras.<kind>.get`` return
  another object (``keras.metrics.get("mean_squared_error")`` is a ``MeanSquaredError``
  instance, not the public function);
* ``"compile_special"`` and ``"compile_resolves_to"``: ``Model.compile`` picks the
  object from the data's shapes (metrics ``"accuracy"``/``"acc"``, losses
  ``"crossentropy"``/``"ce"``); ``"acc"``, ``"crossentropy"`` and ``"ce"`` have no
  other entry;
* ``"accepts_scalar"`` on a ``tuple`` parameter: one integer stands for every element
  (``kernel_size=3``);
* ``"risk"``: the name runs code (``"code"``), loads an opaque graph (``"graph"``) or
  opens a connection (``"network"``), from :data:`RISKS`;
* ``"callable": true`` on a parameter Keras wants a Python function for, and
  ``"path"`` on a parameter that is a file or folder the object reads or writes, from
  :data:`CALLABLE_PARAMS` and :data:`PATH_PARAMS`.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import inspect
import json
import math
import os
import re
import sys
import types
from pathlib import Path
from typing import Any

#: Each kind of name and the public Keras module that provides it.
KINDS: dict[str, str] = {
    "layers": "keras.layers",
    "activations": "keras.activations",
    "losses": "keras.losses",
    "optimizers": "keras.optimizers",
    "schedules": "keras.optimizers.schedules",
    "metrics": "keras.metrics",
    "initializers": "keras.initializers",
    "regularizers": "keras.regularizers",
    "constraints": "keras.constraints",
    "callbacks": "keras.callbacks",
}

#: Public functions that are identifier helpers rather than objects.
HELPERS = frozenset({"get", "serialize", "deserialize"})

#: Private Keras modules whose ``ALL_OBJECTS_DICT`` maps the strings ``get`` accepts.
STRING_IDENTIFIERS: dict[str, str] = {
    "activations": "keras.src.activations",
    "losses": "keras.src.losses",
    "optimizers": "keras.src.optimizers",
    "metrics": "keras.src.metrics",
    "initializers": "keras.src.initializers",
    "regularizers": "keras.src.regularizers",
    "constraints": "keras.src.constraints",
}

#: Strings that ``Model.compile`` resolves itself, depending on the targets' and
#: predictions' shapes, before falling back to ``keras.<kind>.get`` (see
#: ``keras.src.trainers.compile_utils``): kind -> string -> candidate names.
COMPILE_SPECIAL: dict[str, dict[str, list[str]]] = {
    "metrics": {
        name: ["BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy"]
        for name in ("accuracy", "acc")
    },
    "losses": {
        name: ["binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"]
        for name in ("crossentropy", "ce")
    },
}

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_PATH = ROOT / "nndsl" / "catalogue" / "keras.json"
PYPROJECT_PATH = ROOT / "pyproject.toml"
BEGIN_MARKER = "# BEGIN generated keras entry points (python -m nndsl.tools.gen_catalogue)"
END_MARKER = "# END generated keras entry points"
ENTRY_POINT_MODULE = "nndsl.builtins.keras"

_PARAM_DOC_LIMIT = 200

_NAME_TYPES = {
    "activation": "activation",
    "recurrent_activation": "activation",
    "layer": "layer",
    "backward_layer": "layer",
    "shape": "shape",
    "input_shape": "shape",
    "batch_shape": "shape",
    "target_shape": "shape",
}
_SUFFIX_TYPES = {
    "_initializer": "initializer",
    "_regularizer": "regularizer",
    "_constraint": "constraint",
}

# Words that open an ``Args:`` entry and name the argument's type.
_DOC_WORDS = {
    "int": "int",
    "ints": "int",
    "integer": "int",
    "integers": "int",
    "float": "float",
    "floats": "float",
    "floating": "float",
    "number": "number",
    "numbers": "number",
    "bool": "bool",
    "boolean": "bool",
    "str": "str",
    "string": "str",
    "tuple": "tuple",
    "tuples": "tuple",
    "list": "list",
    "dict": "dict",
    "dictionary": "dict",
    "scalar": "number",
    "none": "none",
}
# Words skipped before the type word: "A positive integer", "Optional string".
_DOC_FILLERS = frozenset(
    {"a", "an", "the", "optional", "positive", "non-negative", "nonnegative",
     "negative", "strictly", "single", "python", "unsigned", "constant"}
)
# Words that, right after a type word, say the argument is not a plain value.
_DOC_NOT_PLAIN = frozenset({"tensor", "tensors", "array", "arrays", "matrix", "vector"})
# Words that, right after a type word, still describe the type: "tuple of 2", "float value".
_DOC_TYPE_TAIL = frozenset({"of", "value", "values"})
_NUMERIC = frozenset({"int", "float", "number"})

_SECTION_RE = re.compile(r"^(Args|Arguments|Parameters)\s*:\s*$")
_ENTRY_RE = re.compile(r"^`?\**([A-Za-z_]\w*)`?\s*(?:\([^)]*\))?\s*:(?:\s+(.*))?$")
_ADDRESS_RE = re.compile(r" at 0x[0-9a-fA-F]+")
_DESCRIPTION_LIMIT = 1000
_SENTENCE_END_RE = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)\.(?=\s|$)")
_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")


# ---------------------------------------------------------------- generation


def generate() -> dict:
    """Build the catalogue from the installed Keras.

    Returns:
        ``{"keras_version": ..., "kinds": {kind: {name: entry}}}`` where an entry is
        either a schema (``kind``, ``qualname``, ``doc`` (the first sentence of the
        docstring), ``description`` (its paragraphs before the sections, when more than
        that sentence), ``params``,
        ``var_positional``, ``var_keyword``) or ``{"alias_of": canonical}``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    keras = importlib.import_module("keras")
    kinds = {}
    for kind, module_name in KINDS.items():
        module = importlib.import_module(module_name)
        entries, canonical_by_id = _collect_module(module_name, module)
        if kind in STRING_IDENTIFIERS:
            identifiers = importlib.import_module(STRING_IDENTIFIERS[kind]).ALL_OBJECTS_DICT
            _add_string_identifiers(entries, canonical_by_id, identifiers, module)
        for name, candidates in COMPILE_SPECIAL.get(kind, {}).items():
            entry = entries.setdefault(name, {})
            entry["compile_special"] = True
            entry["compile_resolves_to"] = candidates
        kinds[kind] = entries
    return {"keras_version": keras.__version__, "kinds": mark(kinds)}

#: Names that do more than compute, which a ``.nn`` file someone else wrote must not be able
#: to use unasked (see docs/security.md): kind -> name -> risk (``nndsl.plugins.spec.RISKS``).
RISKS: dict[str, dict[str, str]] = {
    "layers": {"Lambda": "code", "TorchModuleWrapper": "code", "JaxLayer": "code", "FlaxLayer": "code",
               "TFSMLayer": "graph"},
    "callbacks": {"LambdaCallback": "code", "RemoteMonitor": "network"},
}

#: Parameters Keras wants a Python function for: kind -> name -> parameters.
CALLABLE_PARAMS: dict[str, dict[str, tuple[str, ...]]] = {
    "callbacks": {"LearningRateScheduler": ("schedule",)},
    "metrics": {"MeanMetricWrapper": ("fn",)},
    "optimizers": {"MultiOptimizer": ("optimizer_map",), "OptimizerMap": ("optimizer_map",)},
}

#: Parameters that are files or folders: kind -> name -> parameter -> role
#: (``nndsl.plugins.spec.PATH_ROLES``).
PATH_PARAMS: dict[str, dict[str, dict[str, str]]] = {
    "callbacks": {
        "CSVLogger": {"filename": "write"},
        "ModelCheckpoint": {"filepath": "write"},
        "TensorBoard": {"log_dir": "write_dir"},
        "BackupAndRestore": {"backup_dir": "scratch_dir"},
        "OrbaxCheckpoint": {"directory": "scratch_dir"},
    },
    "layers": {
        "StringLookup": {"vocabulary": "read"},
        "IntegerLookup": {"vocabulary": "read"},
        "TextVectorization": {"vocabulary": "read"},
    },
}


def mark(kinds: dict) -> dict:
    """Add the hand-kept marks (:data:`RISKS`, :data:`CALLABLE_PARAMS`, :data:`PATH_PARAMS`) to
    the catalogue's entries, in place.

    Args:
        kinds: ``{kind: {name: entry}}``, as in the catalogue.

    Returns:
        ``kinds``.

    Raises:
        KeyError: a mark names an entry or parameter Keras no longer has (update the tables).
    """
    for kind, names in RISKS.items():
        for name, risk in names.items():
            kinds[kind][name]["risk"] = risk
    for kind, names in CALLABLE_PARAMS.items():
        for name, params in names.items():
            for pname in params:
                _entry_param(kinds[kind][name], pname)["callable"] = True
    for kind, names in PATH_PARAMS.items():
        for name, params in names.items():
            for pname, role in params.items():
                _entry_param(kinds[kind][name], pname)["path"] = role
    return kinds


def _entry_param(entry: dict, name: str) -> dict:
    for p in entry["params"]:
        if p["name"] == name:
            return p
    raise KeyError(f"{entry.get('qualname')} has no parameter '{name}'")


def render(catalogue: dict) -> str:
    """The catalogue as deterministic JSON text.

    Args:
        catalogue: What :func:`generate` returns.

    Returns:
        Indented JSON with sorted keys and a trailing newline.
    """
    return json.dumps(catalogue, indent=1, sort_keys=True) + "\n"


def _public_objects(module: types.ModuleType) -> dict[str, Any]:
    objects = {}
    for name in dir(module):
        if name.startswith("_") or name in HELPERS:
            continue
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType) or not callable(obj):
            continue
        objects[name] = obj
    return objects


def _collect_module(module_name: str, module: types.ModuleType) -> tuple[dict, dict[int, str]]:
    """Schemas for the public names of one module, and each object's canonical name."""
    objects = _public_objects(module)
    names_by_id: dict[int, list[str]] = {}
    for name in sorted(objects):
        names_by_id.setdefault(id(objects[name]), []).append(name)
    canonical_by_id = {}
    for key, names in names_by_id.items():
        own = getattr(objects[names[0]], "__name__", None)
        canonical_by_id[key] = own if own in names else names[0]

    entries = {}
    for name, obj in objects.items():
        canonical = canonical_by_id[id(obj)]
        if name != canonical:
            entries[name] = {"alias_of": canonical}
        else:
            entries[name] = _schema(f"{module_name}.{name}", obj)
    return entries, canonical_by_id


def _add_string_identifiers(
    entries: dict, canonical_by_id: dict[int, str], identifiers: dict, module: types.ModuleType
) -> None:
    """Add the strings ``get`` accepts as aliases; flag public names ``get`` maps elsewhere."""
    for key in sorted(identifiers):
        target = canonical_by_id.get(id(identifiers[key]))
        if key not in entries:
            if target is not None:
                entries[key] = {"alias_of": target}
            continue
        # keras.metrics.get("mean_squared_error") returns a MeanSquaredError instance,
        # not the public function of that name: the checker needs to know.
        public = getattr(module, key, None)
        if public is not None and public is not identifiers[key] and target is not None:
            entries[key]["get_resolves_to"] = target


def _schema(qualname: str, obj: Any) -> dict:
    is_class = inspect.isclass(obj)
    signature, docs = _signature_and_docs(obj, is_class)
    arg_docs: dict[str, str] = {}
    for doc in docs:
        for name, text in _arg_docs(doc).items():
            arg_docs.setdefault(name, text)

    params = []
    var_positional = var_keyword = False
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            var_positional = True
        elif parameter.kind is parameter.VAR_KEYWORD:
            var_keyword = True
        else:
            params.append(_param(parameter, arg_docs.get(parameter.name, "")))
    return {
        "kind": "class" if is_class else "function",
        "qualname": qualname,
        "doc": _summary(obj.__doc__),
        **({"description": text} if (text := _description(obj.__doc__)) != _summary(obj.__doc__) else {}),
        "params": params,
        "var_positional": var_positional,
        "var_keyword": var_keyword,
    }


def _signature_and_docs(obj: Any, is_class: bool) -> tuple[inspect.Signature, list[str]]:
    """The call signature (without ``self``) and the docstrings that may document it."""
    if not is_class:
        return inspect.signature(obj), [obj.__doc__ or ""]
    init = obj.__init__
    if init is object.__init__:
        return inspect.Signature(), [obj.__doc__ or ""]
    # Not inspect.signature(cls): classes defining ``__new__(cls, *args, **kwargs)``
    # (keras.layers.Layer, keras.optimizers.Optimizer) would hide their real ``__init__``.
    signature = inspect.signature(init)
    parameters = list(signature.parameters.values())[1:]
    docs = [obj.__doc__ or "", init.__doc__ or ""]
    owner = next((base for base in obj.__mro__ if "__init__" in vars(base)), obj)
    if owner is not obj:
        docs.append(owner.__doc__ or "")
    return signature.replace(parameters=parameters), docs


def _param(parameter: inspect.Parameter, doc: str) -> dict:
    kind = {
        parameter.POSITIONAL_ONLY: "positional_only",
        parameter.POSITIONAL_OR_KEYWORD: "positional_or_keyword",
        parameter.KEYWORD_ONLY: "keyword_only",
    }[parameter.kind]
    required = parameter.default is inspect.Parameter.empty
    entry: dict[str, Any] = {"name": parameter.name, "kind": kind, "required": required}
    default = None if required else parameter.default
    if not required:
        entry["default"] = _json_default(default)
    type_name, accepts_scalar = _infer_type(parameter.name, doc, required, default)
    entry["type"] = type_name
    if accepts_scalar:
        entry["accepts_scalar"] = True
    if (not required and default is None) or re.search(r"\bNone\b", doc):
        entry["nullable"] = True
    entry["doc"] = _trim(doc)
    return entry


def _json_default(value: Any) -> Any:
    """A default value as JSON; what JSON cannot hold becomes ``{"repr": ...}``."""
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"repr": repr(value)}
    if type(value) is tuple:
        return {"tuple": [_json_default(item) for item in value]}
    if type(value) is list:
        return [_json_default(item) for item in value]
    if type(value) is dict and all(isinstance(key, str) for key in value):
        return {key: _json_default(item) for key, item in value.items()}
    return {"repr": _ADDRESS_RE.sub("", repr(value))}


# ---------------------------------------------------------------- type inference


def _infer_type(name: str, doc: str, required: bool, default: Any) -> tuple[str, bool]:
    """The parameter's type, and whether one integer may stand for a whole tuple.

    By name first, then by the first words of its ``Args:`` entry, then by its
    default's Python type. When the docstring and the default disagree the broader
    type wins, since a too narrow type would make nndsl reject programs Keras accepts.
    """
    by_name = _type_from_name(name, doc)
    if by_name is not None:
        return by_name, False
    documented = _types_from_doc(doc)
    has_default = not required and default is not None
    if documented is None:
        return _type_from_default(default, doc) if has_default else ("any", False)
    if has_default:
        documented = documented | {_type_of_value(default)}
    return _combine(documented)


def _type_from_name(name: str, doc: str) -> str | None:
    if name in _NAME_TYPES:
        return _NAME_TYPES[name]
    for suffix, type_name in _SUFFIX_TYPES.items():
        if name.endswith(suffix):
            return type_name
    if name == "learning_rate":
        # Optimizers also take a LearningRateSchedule or a callable here.
        if re.search(r"schedule|callable", doc, re.IGNORECASE):
            return "any"
        return "number"
    return None


def _combine(types_named: set[str]) -> tuple[str, bool]:
    """One catalogue type for a set of accepted types, and whether it accepts one int."""
    if len(types_named) == 1:
        return next(iter(types_named)), False
    if types_named <= _NUMERIC:
        return "number", False
    if types_named <= {"int", "tuple", "list"}:
        # "Integer or tuple/list of 2 integers": a sequence, or one integer for all.
        return "tuple", "int" in types_named
    # "Float or tuple of 2 floats" included: no catalogue type accepts exactly that.
    return "any", False


def _types_from_doc(doc: str) -> set[str] | None:
    """Read the accepted types from the opening words of an ``Args:`` entry.

    The entry must open with a type ("Positive integer, ...", "Float between 0 and 1",
    "`"channels_first"` or `"channels_last"`"). Further alternatives count when they
    follow "or", or a comma, and name a type ("Integer, tuple of integers, or None").
    Right after a bare type, an "or" alternative that is not a plain type ("String or
    callable", "float value or a float tensor") makes the result ``{"any"}``.
    """
    text = re.sub(r"\([^)]*\)", " ", doc.lower())  # "(Optional)", "(default `False`)"
    sentence = re.split(r"[.;:]\s|[.;:]$|\s-\s", text, maxsplit=1)[0]
    pieces = re.split(r"(,\s*or\s+|\s+or\s+|,)", sentence)
    found: set[str] = set()
    bare = False
    for index in range(0, len(pieces), 2):
        after_or = index > 0 and "or" in pieces[index - 1]
        types_here, bare_here = _phrase_types(pieces[index])
        if types_here is None:
            if not found:
                return None  # The entry does not open with a type.
            if after_or and bare:
                return {"any"}
            break  # "float giving the threshold ... or set to zero": prose, not a type.
        found |= types_here
        bare = bare_here
    found.discard("none")
    return found or None


def _phrase_types(phrase: str) -> tuple[set[str] | None, bool]:
    """The types a phrase opens with, and whether nothing but the type follows.

    "integer tuple/list of 1 integer" gives ``({"int", "tuple", "list"}, True)``;
    "float giving the threshold" gives ``({"float"}, False)``; "float tensor" and
    "callable" give ``(None, False)``.
    """
    words = [word.strip("`") for word in phrase.split()]
    words = [word for word in words if word]
    while words and words[0] in _DOC_FILLERS:
        words.pop(0)
    found: set[str] = set()
    for word in words:
        types_here = _word_types(word)
        if types_here is not None:
            found |= types_here
            continue
        if not found or word in _DOC_NOT_PLAIN:
            return None, False
        return found, word in _DOC_TYPE_TAIL
    return found or None, True


def _word_types(word: str) -> set[str] | None:
    """The types one word names ("tuple/list" names two), or None if it names none."""
    if re.fullmatch(r"\"[^\"]*\"|'[^']*'", word):
        return {"str"}  # A quoted choice such as "channels_last".
    types_named = {_DOC_WORDS.get(part.strip("'\"")) for part in word.split("/")}
    return None if None in types_named else types_named


def _type_from_default(default: Any, doc: str) -> tuple[str, bool]:
    """The type an undocumented parameter's default suggests, kept broad."""
    type_name = _type_of_value(default)
    if type_name == "int":
        return "number", False  # min_delta=0, max_value=2: the default is no promise.
    if type_name == "tuple" and default and all(_type_of_value(item) == "int" for item in default):
        return "tuple", True  # dilation_rate=(1, 1) also takes 1.
    if type_name == "str" and re.search(r"\b(True|False)\b", doc):
        return "any", False  # use_cudnn="auto" also takes True and False.
    return type_name, False


def _type_of_value(value: Any) -> str:
    return {
        bool: "bool", int: "int", float: "float", str: "str",
        tuple: "tuple", list: "list", dict: "dict",
    }.get(type(value), "any")


# ---------------------------------------------------------------- docstrings


# A line that starts a docstring section: the description ends before it.
_SECTION_RE = re.compile(r"^(Args|Arguments|Returns|Raises|Example|Examples|Usage|Call arguments|Input shape|Output shape|"
                         r"Reference|References|Note|Notes|Standalone usage|Usage with `compile\(\)` API)\s*:", re.MULTILINE)


def _description(doc: str | None) -> str:
    """A docstring's description: its paragraphs before the first section (``Args:``,
    ``Example:``...) or code example, each on one line, as many whole paragraphs as fit in
    :data:`_DESCRIPTION_LIMIT` characters (the first is cut after its last whole sentence
    when it alone is longer). Hover shows it; ``doc`` holds the first sentence."""
    if not doc:
        return ""
    text = inspect.cleandoc(doc).strip()
    section = _SECTION_RE.search(text)
    if section:
        text = text[: section.start()]
    kept: list[str] = []
    size = 0
    for block in text.split("\n\n"):
        if not block.strip() or block.lstrip().startswith(("```", ">>>")) or "\n>>>" in block:
            if kept:
                break
            continue
        paragraph = " ".join(block.split())
        if kept and size + len(paragraph) + 2 > _DESCRIPTION_LIMIT:
            break
        if not kept and len(paragraph) > _DESCRIPTION_LIMIT:
            ends = [m.end() for m in _SENTENCE_END_RE.finditer(paragraph, 0, _DESCRIPTION_LIMIT)]
            paragraph = paragraph[: ends[-1]] if ends else paragraph[: _DESCRIPTION_LIMIT - 3].rstrip() + "..."
        kept.append(paragraph)
        size += len(paragraph) + 2
    while len(kept) > 1 and kept[-1].endswith(":"):  # "Formula:", its formula cut off
        kept.pop()
    return "\n\n".join(kept)


def _summary(doc: str | None) -> str:
    """The first sentence of a docstring's first paragraph, on one line."""
    if not doc:
        return ""
    paragraph = inspect.cleandoc(doc).strip().split("\n\n", 1)[0]
    text = " ".join(paragraph.split())
    match = _SENTENCE_END_RE.search(text)
    return text[: match.end()] if match else text


def _arg_docs(doc: str) -> dict[str, str]:
    """Map each argument in a docstring's ``Args:`` sections to its text on one line."""
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    found: dict[str, list[str]] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not _SECTION_RE.match(line.strip()):
            continue
        base = _indent(line)
        entry_indent = None
        current: list[str] | None = None
        while index < len(lines):
            line = lines[index]
            if line.strip():
                indent = _indent(line)
                if indent <= base:
                    break
                if entry_indent is None:
                    entry_indent = indent
                if indent <= entry_indent:
                    match = _ENTRY_RE.match(line.strip())
                    current = None
                    if match and match.group(1) not in found:
                        current = found[match.group(1)] = [match.group(2) or ""]
                elif current is not None:
                    current.append(line.strip())
            index += 1
    return {name: " ".join(" ".join(parts).split()) for name, parts in found.items()}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _trim(text: str) -> str:
    if len(text) <= _PARAM_DOC_LIMIT:
        return text
    return text[: _PARAM_DOC_LIMIT - 3].rstrip() + "..."


# ---------------------------------------------------------------- pyproject block


def entry_points_block(catalogue: dict) -> str:
    """The generated pyproject.toml lines between (not including) the two markers.

    Args:
        catalogue: What :func:`generate` returns.

    Returns:
        One ``[project.entry-points."nndsl.<kind>"]`` table per kind, naming every
        canonical name and alias, sorted; newline-terminated.
    """
    tables = []
    for kind in sorted(catalogue["kinds"]):
        lines = [f'[project.entry-points."nndsl.{kind}"]']
        entries = {name: f"{ENTRY_POINT_MODULE}:{kind}.{name}" for name in catalogue["kinds"][kind]}
        # nndsl's own names of the same kinds share the table (TOML allows one table per group)
        entries.update(EXTRA_ENTRY_POINTS.get(kind, {}))
        for name in sorted(entries):
            key = name if _BARE_KEY_RE.match(name) else json.dumps(name)
            lines.append(f'{key} = "{entries[name]}"')
        tables.append("\n".join(lines) + "\n")
    return "\n".join(tables)


# Built-in names of the catalogue's kinds that are not in the Keras modules themselves.
EXTRA_ENTRY_POINTS = {
    "layers": {"Sequential": "nndsl.builtins.groups:SEQUENTIAL"},
}


def update_pyproject(text: str, block: str) -> str:
    """Replace what lies between the marker lines of ``pyproject.toml`` with ``block``.

    Args:
        text: The current pyproject.toml.
        block: What :func:`entry_points_block` returns.

    Returns:
        The new pyproject.toml text; everything outside the markers is kept as is.

    Raises:
        ValueError: When the marker lines are missing or out of order.
    """
    lines = text.splitlines(keepends=True)
    stripped = [line.rstrip("\r\n") for line in lines]
    try:
        begin = stripped.index(BEGIN_MARKER)
        end = stripped.index(END_MARKER, begin + 1)
    except ValueError:
        raise ValueError(
            f"pyproject.toml must contain the lines {BEGIN_MARKER!r} and {END_MARKER!r}, in that order"
        ) from None
    return "".join(lines[: begin + 1]) + block + "".join(lines[end:])


# ---------------------------------------------------------------- command line


def _catalogue_changes(old_text: str, new: dict, limit: int = 12) -> list[str]:
    """What differs between the committed catalogue text and ``new``, name by name."""
    try:
        old = json.loads(old_text)
    except ValueError:
        return ["the committed file is missing or not valid JSON"]
    lines = []
    if old.get("keras_version") != new["keras_version"]:
        lines.append(f"keras_version: {old.get('keras_version')} -> {new['keras_version']}")
    old_kinds = old.get("kinds", {})
    for kind in sorted(set(old_kinds) | set(new["kinds"])):
        before, after = old_kinds.get(kind, {}), new["kinds"].get(kind, {})
        changes = [f"+{name}" for name in sorted(set(after) - set(before))]
        changes += [f"-{name}" for name in sorted(set(before) - set(after))]
        changes += [f"~{name}" for name in sorted(set(before) & set(after)) if before[name] != after[name]]
        if changes:
            shown = " ".join(changes[:limit])
            more = f" (+{len(changes) - limit} more)" if len(changes) > limit else ""
            lines.append(f"{kind}: {shown}{more}")
    return lines or ["formatting only"]


def _text_changes(label: str, old: str, new: str, limit: int = 12) -> list[str]:
    """The first lines of a unified diff between two texts."""
    diff = list(difflib.unified_diff(
        old.splitlines(), new.splitlines(), f"{label} (committed)", f"{label} (generated)", n=0, lineterm=""
    ))
    if len(diff) > limit:
        diff = diff[:limit] + [f"... {len(diff) - limit} more diff lines"]
    return diff


def main(argv: list[str] | None = None) -> int:
    """Write the catalogue and the pyproject block, or with ``--check`` compare them.

    Args:
        argv: Command-line arguments; ``sys.argv[1:]`` when None.

    Returns:
        The exit status: 1 when ``--check`` finds stale files, else 0.
    """
    parser = argparse.ArgumentParser(prog="python -m nndsl.tools.gen_catalogue", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale files instead of writing them")
    args = parser.parse_args(argv)

    catalogue = generate()
    json_text = render(catalogue)
    old_pyproject = PYPROJECT_PATH.read_text(encoding="utf-8")
    new_pyproject = update_pyproject(old_pyproject, entry_points_block(catalogue))
    old_json = CATALOGUE_PATH.read_text(encoding="utf-8") if CATALOGUE_PATH.exists() else ""

    if args.check:
        version = catalogue["keras_version"]
        stale = False
        if old_json != json_text:
            stale = True
            print(f"{CATALOGUE_PATH.relative_to(ROOT)} is out of date for keras {version}:")
            for line in _catalogue_changes(old_json, catalogue):
                print(f"  {line}")
        if old_pyproject != new_pyproject:
            stale = True
            print(f"the generated entry points in {PYPROJECT_PATH.relative_to(ROOT)} are out of date:")
            for line in _text_changes(PYPROJECT_PATH.name, old_pyproject, new_pyproject):
                print(f"  {line}")
        if stale:
            print("Run: python -m nndsl.tools.gen_catalogue")
            return 1
        print(f"catalogue is current for keras {version}")
        return 0

    for path, old, new in ((CATALOGUE_PATH, old_json, json_text), (PYPROJECT_PATH, old_pyproject, new_pyproject)):
        if old != new:
            path.write_text(new, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
