"""What nndsl needs to know about a saved model beyond Keras's own file: the categories of its
categorical columns and the names of its targets.

In a ``.keras`` file (a zip archive) it is one extra member, ``nndsl.json``, which Keras ignores
when loading; beside an ``.h5`` file or a serving export it is ``<name>.nndsl.json``.

A model file is untrusted input: :func:`read_checked` refuses a member that is not what nndsl
writes (a missing key, a number where a list belongs, a category list with repeats, ...) with a
:class:`BadMeta` that each command words as its own "not a model nndsl saved" error, so no
reader of the metadata meets a shape it does not expect.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any

MEMBER = "nndsl.json"
FORMAT_VERSION = 1


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".nndsl.json")


def add_to_archive(keras_file: Path, meta: dict) -> None:
    """Append the metadata to a ``.keras`` archive just written (before it is moved into place)."""
    with zipfile.ZipFile(keras_file, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MEMBER, json.dumps({"format_version": FORMAT_VERSION, **meta}, indent=1))


class BadMeta(ValueError):
    """The metadata of a model file is not what nndsl saves; the message says what is wrong."""

    def refusal(self) -> str:
        """The error's words, after the file's name or at the step that loads it."""
        return f"expected a model file nndsl saved; received one whose {self}"

    hint = "the file was changed after nndsl saved it, or saved by something else; save the model again with nndsl"


def read(path: Path) -> dict:
    """The metadata saved with a model, or {} when there is none."""
    path = Path(path)
    try:
        if path.suffix == ".keras" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                if MEMBER in zf.namelist():
                    return json.loads(zf.read(MEMBER).decode("utf-8"))
        side = sidecar(path)
        if side.is_file():
            return json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError, zipfile.BadZipFile):
        return {}
    return {}


def read_checked(path: Path) -> dict:
    """The metadata saved with a model, checked (see :func:`checked`); {} when there is none.

    Raises:
        BadMeta: a member (or sidecar) that is not JSON, or not shaped as nndsl writes it.
    """
    path = Path(path)
    text = None
    try:
        if path.suffix == ".keras" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                if MEMBER in zf.namelist():
                    text = zf.read(MEMBER)
        if text is None and sidecar(path).is_file():
            text = sidecar(path).read_bytes()
    except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
        raise BadMeta(f"{MEMBER} cannot be read ({type(exc).__name__})") from None
    if text is None:
        return {}
    try:
        meta = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadMeta(f"{MEMBER} is not JSON") from None
    return checked(meta)


def checked(meta: Any) -> dict:
    """``meta`` when it has the shape nndsl writes: the table schema (``table``, with the name of
    its ``core``), or a model saved before schemas (``categorical``/``fills``), and the lists of
    names. Keys nndsl does not read are let through.

    Raises:
        BadMeta: naming the first key that is wrong and what it holds.
    """
    _is(meta, dict, "")
    for key in ("target_names", "feature_names", "class_names"):
        if key in meta:
            _names(meta[key], key, unique=False)
    if meta.get("table") is not None and meta["table"] != {}:
        _table(meta["table"])
        _is(_key(meta, "core", ""), str, "core")
    if meta.get("categorical") is not None:
        _is(meta["categorical"], dict, "categorical")
        for name, categories in meta["categorical"].items():
            _names(categories, f"categorical.{name}", unique=True)
    if meta.get("fills") is not None:
        _is(meta["fills"], dict, "fills")
        for name, value in meta["fills"].items():
            _number(value, f"fills.{name}")
    return meta


_TYPES = {dict: "an object", list: "a list", str: "text", bool: "true or false", int: "a whole number"}


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "text" if len(value) > 40 else f"the text {value!r}"
    return _TYPES.get(type(value), type(value).__name__)


def _fault(where: str, expected: str, value: Any) -> BadMeta:
    return BadMeta(f"{MEMBER} holds {_shown(value)} {'at ' + repr(where) if where else 'as a whole'}, "
                   f"where nndsl writes {expected}")


def _is(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _fault(where, _TYPES[kind], value)


def _key(d: dict, key: str, where: str) -> Any:
    if key not in d:
        raise BadMeta(f"{MEMBER} lacks {(where + '.' + key) if where else key!r}, which nndsl writes")
    return d[key]


def _number(value: Any, where: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**1000:
        raise _fault(where, "a finite number", value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise _fault(where, "a finite number", value)


def _names(value: Any, where: str, *, unique: bool) -> None:
    _is(value, list, where)
    for i, item in enumerate(value):
        _is(item, str, f"{where}[{i}]")
    if unique and len(set(value)) != len(value):
        raise BadMeta(f"{MEMBER} repeats a name in {where!r}, where nndsl writes each once")


def _table(table: Any) -> None:
    _is(table, dict, "table")
    features = _key(table, "features", "table")
    _is(features, list, "table.features")
    for i, f in enumerate(features):
        _feature(f, f"table.features[{i}]")
    if len({f["name"] for f in features}) != len(features):
        raise BadMeta(f"{MEMBER} repeats a column in 'table.features', where nndsl writes each once")
    targets = _key(table, "targets", "table")
    _is(targets, list, "table.targets")
    for i, t in enumerate(targets):
        where = f"table.targets[{i}]"
        _is(t, dict, where)
        _is(_key(t, "name", where), str, f"{where}.name")
        _names(_key(t, "classes", where), f"{where}.classes", unique=True)
        _is(_key(t, "one_hot", where), bool, f"{where}.one_hot")


def _feature(f: Any, where: str) -> None:
    _is(f, dict, where)
    _is(_key(f, "name", where), str, f"{where}.name")
    kind = _key(f, "kind", where)
    if kind not in ("numeric", "categorical"):
        raise _fault(f"{where}.kind", "'numeric' or 'categorical'", kind)
    fill = _key(f, "fill", where)
    unknown = _key(f, "unknown", where)
    if unknown not in ("oov", "error"):
        raise _fault(f"{where}.unknown", "'oov' or 'error'", unknown)
    _is(_key(f, "integer", where), bool, f"{where}.integer")
    if "text" in f:  # written only for a column declared with text=
        _is(f["text"], bool, f"{where}.text")
    categories = _key(f, "categories", where)
    _names(categories, f"{where}.categories", unique=True)
    if kind == "numeric":
        if fill is not None:
            _number(fill, f"{where}.fill")
        if categories:
            raise _fault(f"{where}.categories", "no categories for a numeric column", categories)
        return
    if fill is not None:
        _is(fill, str, f"{where}.fill")
        if fill != "" and fill not in categories:  # "": the category of missing cells (data.missing.OWN)
            raise _fault(f"{where}.fill", "one of the column's categories", fill)
    if not categories and unknown == "error":
        raise _fault(f"{where}.categories", "at least one category", categories)
    if f.get("integer"):
        for i, c in enumerate(categories):
            try:
                whole = float(c) == int(float(c))
            except (ValueError, OverflowError):
                whole = False
            if not whole or abs(float(c)) >= 2**63:
                raise _fault(f"{where}.categories[{i}]", "a whole number for an integer column", c)
