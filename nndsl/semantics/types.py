"""Parameter types: does a value fit a declared type? Used for plugin and Keras parameters alike."""

from __future__ import annotations

from typing import Any

from .evaluate import Invocation, is_number
from .values import Symbol

# type name -> human description used in "expected ..." messages
DESCRIPTIONS = {
    "any": "any value",
    "int": "an integer",
    "positive_int": "a positive integer",
    "float": "a number",
    "number": "a number",
    "fraction": "a number from 0 up to (not including) 1",
    "bool": "true or false",
    "str": "a string",
    "path": "a file path in a string",
    "str_list": "a string or a list of strings",
    "str_or_list": "a string or a list of strings",
    "dict": "a dict such as {0: 1.0, 1: 5.0}",
    "tuple": "a tuple such as (3, 3)",
    "list": "a list",
    "shape": "a shape tuple such as (28, 28, 1)",
    "data": "the name of a data source",
    "callbacks": "a list of callbacks such as [EarlyStopping(patience=3)]",
    "progress": "one of rich, plain, json or none",
    "save_format": "one of keras, h5 or export",
    "fraction_list": "fractions that add up to at most 1",
    "missing": "one of error, drop, mean, median, most_frequent, or a number; or a dict of column to one of those (or a category)",
    "positive_number": "a number above 0",
    "direction": "minimize or maximize",
    "sampler": "one of tpe, random or grid",
    "pruner": "median or hyperband",  # or none: the parameter is nullable
}

_PROGRESS = {"rich", "plain", "json", "none", "auto"}
_SAVE_FORMATS = {"keras", "h5", "export"}
_MISSING_POLICIES = {"error", "drop", "mean", "median", "most_frequent"}  # nndsl.data.missing.POLICIES
# The tune step's choices (nndsl.run.search builds each with Optuna).
_WORDS = {"direction": {"minimize", "maximize"}, "sampler": {"tpe", "random", "grid"}, "pruner": {"median", "hyperband"}}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def fits(value: Any, type_name: str, nullable: bool = False) -> bool:
    """Whether ``value`` is acceptable for a parameter of type ``type_name``.

    Unknown type names accept anything: the schema only narrows what it knows.
    """
    if value is None:
        return nullable or type_name == "any"
    t = type_name
    if t == "any":
        return True
    if t == "int":
        return _is_int(value)
    if t == "positive_int":
        return _is_int(value) and value > 0
    if t in ("float", "number"):
        return is_number(value)
    if t == "fraction":
        return is_number(value) and 0 <= value < 1
    if t == "bool":
        return isinstance(value, bool)
    if t in ("str", "path"):
        return _is_str(value) and not (t == "path" and (isinstance(value, Symbol) or not value or "\0" in value))
    if t in ("str_list", "str_or_list"):
        return _is_str(value) or (isinstance(value, (list, tuple)) and all(_is_str(x) for x in value))
    if t == "dict":
        return isinstance(value, dict)
    if t == "tuple":
        return isinstance(value, (tuple, list)) or _is_int(value)
    if t == "list":
        return isinstance(value, (list, tuple))
    if t == "shape":
        # -1 lets Reshape infer one dimension
        return isinstance(value, (tuple, list)) and all(x is None or (_is_int(x) and (x > 0 or x == -1)) for x in value)
    if t == "data":
        return isinstance(value, (Symbol, Invocation))
    if t == "callbacks":
        return isinstance(value, Invocation) or (isinstance(value, list) and all(isinstance(x, Invocation) for x in value))
    if t == "progress":
        return _is_str(value) and str(value) in _PROGRESS
    if t == "missing":
        if isinstance(value, dict):
            return all(_is_str(k) and (is_number(v) or _is_str(v)) for k, v in value.items())
        return is_number(value) or (_is_str(value) and str(value) in _MISSING_POLICIES)
    if t == "save_format":
        return _is_str(value) and str(value) in _SAVE_FORMATS
    if t == "positive_number":
        return is_number(value) and value > 0
    if t in _WORDS:
        return _is_str(value) and str(value) in _WORDS[t]
    if t == "fraction_list":
        return isinstance(value, (list, tuple)) and all(is_number(x) and 0 < x < 1 for x in value) and sum(value) <= 1 + 1e-9
    return True


def describe_type(type_name: str, nullable: bool = False) -> str:
    d = DESCRIPTIONS.get(type_name, f"a {type_name.replace('_', ' ')}")
    return f"{d} or none" if nullable else d
