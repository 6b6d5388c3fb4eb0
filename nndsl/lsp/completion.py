"""Completion in context, read from the text before the cursor.

While a line is being typed the file rarely parses, so the context comes from the text
itself: the brackets still open at the cursor (strings and comments skipped), the call whose
parentheses they are, and the words already on the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..plugins.registry import registry
from ..plugins.spec import FORBIDDEN
from ..semantics.check import SETTING_CHOICES
from ..semantics.types import describe_type
from ..vocabulary import CONSTANTS, DECLARATIONS, PROPERTIES, REPEAT, SETTINGS
from .lookup import (
    PROPERTY_KINDS,
    TYPE_KINDS,
    catalogue_summary,
    describe_param,
    guess,
    singular,
    spec_of,
)

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"

# Values of option types that are a few fixed words.
_CHOICES = {"progress": ("rich", "plain", "json", "none"), "save_format": ("keras", "h5", "export"), "bool": ("true", "false")}


@dataclass(frozen=True)
class Item:
    """One completion: what is inserted, what kind of thing it is, a one-line detail and documentation."""

    label: str
    kind: str  # keyword, class, function, variable, module, property, field, value, event
    detail: str = ""
    doc: str = ""
    insert: str | None = None


@dataclass
class Declared:
    """The names a program declares, by kind."""

    variables: tuple = ()
    data: tuple = ()
    models: tuple = ()
    blocks: tuple = ()


_DECLARATION = re.compile(rf"^(let|data|model|block)\s+({_IDENT})", re.MULTILINE)
_LOADED = re.compile(rf"^({_IDENT})\s+({_IDENT})\s+from\b", re.MULTILINE)


def declared_names(analysis) -> Declared:
    """The names the document declares: from its symbols when it parses, else read from the
    lines that start a declaration (a file being typed seldom parses)."""
    by_kind: dict[str, list[str]] = {"variable": [], "data": [], "model": [], "block": []}
    if analysis.symbols is not None:
        for name, (kind, _) in analysis.symbols.declared.items():
            by_kind[kind].append(name)
    else:
        words = {"let": "variable", "data": "data", "model": "model", "block": "block"}
        text = analysis.source.text
        for m in _DECLARATION.finditer(text):
            by_kind[words[m.group(1)]].append(m.group(2))
        for m in _LOADED.finditer(text):
            spec = spec_of("steps", m.group(1))
            if spec is not None and spec.target == "new_model":
                by_kind["model"].append(m.group(2))
    return Declared(*(tuple(dict.fromkeys(by_kind[k])) for k in ("variable", "data", "model", "block")))


class _Frame:
    __slots__ = ("char", "last_sep", "offset")

    def __init__(self, char: str, offset: int) -> None:
        self.char = char
        self.offset = offset
        self.last_sep = offset  # the opening bracket or the last comma at this depth


def _open_brackets(text: str) -> tuple[list[_Frame], bool]:
    """The brackets open at the end of ``text``, innermost last, and whether it ends inside a
    string or a comment."""
    stack: list[_Frame] = []
    i, n = 0, len(text)
    closing = {")": "(", "]": "[", "}": "{"}
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                return stack, True
            i = j + 1
            continue
        if ch == "#":
            j = text.find("\n", i)
            if j == -1:
                return stack, True
            i = j + 1
            continue
        if ch in "([{":
            stack.append(_Frame(ch, i))
        elif ch in closing:
            if stack and stack[-1].char == closing[ch]:
                stack.pop()
        elif ch == "," and stack:
            stack[-1].last_sep = i
        i += 1
    return stack, False


def _statement_start(text: str, offset: int) -> int:
    """Where the top-level statement holding ``offset`` starts: the nearest line, the cursor's
    included, starting in column 1 with a word (bodies and continuation lines are indented).
    An empty line under the cursor starts a new statement."""
    line_start = text.rfind("\n", 0, offset) + 1
    if line_start == offset:
        return offset
    while True:
        head = text[line_start : line_start + 1]
        if head.isalpha() or head == "_" or line_start == 0:
            return line_start
        line_start = text.rfind("\n", 0, line_start - 1) + 1


def complete(text: str, offset: int, declared: Declared) -> list[Item]:
    """The completions at ``offset`` in ``text``, each label once (the first, most specific, kept)."""
    unique: dict[str, Item] = {}
    for item in _complete(text, offset, declared):
        unique.setdefault(item.label, item)
    return list(unique.values())


def _complete(text: str, offset: int, declared: Declared) -> list[Item]:
    start = _statement_start(text, offset)
    # A model body runs from `model m {` to its `}`, over many lines that all start indented;
    # a statement can also run over lines inside brackets. Scan from the statement's start.
    frames, inside = _open_brackets(text[start:offset])
    if inside:
        return []
    before = text[start:offset]
    line = text[text.rfind("\n", 0, offset) + 1 : offset]
    if frames:
        inner = frames[-1]
        if inner.char == "{":
            opener = before[: inner.offset].rstrip()
            if re.search(rf"(^|\s)(model\s+{_IDENT}|block\s+{_IDENT}\s*\(.*\)|repeat\s+.+)$", opener, re.DOTALL):
                return _in_body(line, declared)
            return _values(None, declared)
        segment = before[inner.last_sep + 1 :]
        if inner.char == "(":
            head = before[: inner.offset].rstrip()
            m = re.search(rf"({_IDENT})$", head)
            if m is None:
                return _values(None, declared)
            return _in_call(m.group(1), before[: inner.offset], segment, frames, before, declared)
        # inside a list: its items are of the kind of whatever holds the list
        return _in_list(before[: inner.offset], frames[:-1], before, declared)
    return _top_level(before, declared)


# ---------------------------------------------------------------- contexts


def _top_level(before: str, declared: Declared) -> list[Item]:
    words = before.split()
    typing_word = not before or not before[-1].isspace()
    if len(words) == 0 or (len(words) == 1 and typing_word and _WORD.match(words[0])):
        return _starts()
    first = words[0]
    m = re.match(rf"data\s+{_IDENT}\s*=\s*({_IDENT})?$", before)
    if m:
        return _kind("data_sources", "function") + _names(declared.data, "variable", "data source")
    if first in ("let", "data", "model", "block"):
        if "=" in before:
            return _values(None, declared)
        return []
    if first in SETTINGS:
        return [Item(c, "value", f"{first} setting") for c in SETTING_CHOICES.get(first, ())] + (
            _names(declared.variables, "variable", "variable") if first == "seed" else [])
    spec = spec_of("steps", first)
    if spec is None:
        return []
    return _in_step(spec, before, words, typing_word, declared)


def _in_step(spec, before: str, words: list, typing_word: bool, declared: Declared) -> list[Item]:
    done = words[:-1] if typing_word else words
    last = done[-1] if done else ""
    m = re.search(rf"({_IDENT})\s*=\s*({_IDENT})?$", before)
    if m:  # an option's value
        p = spec.param(m.group(1))
        return _for_type(p.type if p else None, declared)
    if last == "on":
        return _names(declared.data, "variable", "data source")
    if last in ("to", "from"):
        return []
    items: list[Item] = []
    if len(done) == 1 and spec.target != "none":
        items += _names(declared.models, "class", "model")
        if spec.target == "new_model":
            return []
    for clause, rule in (("on", spec.on), ("to", spec.to), ("from", spec.from_)):
        if rule != FORBIDDEN and clause not in done:
            items.append(Item(clause, "keyword", f"{clause} clause of {spec.name}"))
    written = set(re.findall(rf"({_IDENT})\s*=", before))
    items += [Item(f"{p.name}=", "property", describe_param(p), p.doc, insert=f"{p.name}=") for p in spec.params if p.name not in written]
    return items


def _starts() -> list[Item]:
    items = [Item(w, "keyword", "declaration") for w in DECLARATIONS]
    items += [Item(w, "keyword", "setting") for w in SETTINGS]
    steps = registry("steps")
    for verb in steps.names():
        spec = spec_of("steps", verb)
        items.append(Item(verb, "function", "step", spec.doc if spec is not None else ""))
    return items


def _in_body(line: str, declared: Declared) -> list[Item]:
    m = re.match(rf"\s*({_IDENT})\s+(.*)$", line)
    if m and m.group(1) in PROPERTY_KINDS:
        kind = PROPERTY_KINDS[m.group(1)]
        return _kind(kind, "value") + (_named_choices(("none",)) if kind == "preprocessors" else [])
    if m and m.group(1) in PROPERTIES:
        return _values(None, declared)
    if re.match(rf"\s*({_IDENT})?$", line):
        items = _kind("layers", "class") + _names(declared.blocks, "function", "block")
        items += [Item(p, "property", "model property") for p in PROPERTIES]
        items.append(Item(REPEAT, "keyword", "repeat a group of layers"))
        return items
    return _values(None, declared)


def _in_call(name: str, head: str, segment: str, frames, before: str, declared: Declared) -> list[Item]:
    spec = _spec_of_call(name, head, frames[:-1], before, declared)
    m = re.match(rf"\s*({_IDENT})\s*=\s*({_IDENT})?$", segment)
    if m:  # a keyword argument's value
        p = spec.param(m.group(1)) if spec is not None and hasattr(spec, "param") else None
        return _for_type(p.type if p else None, declared)
    if re.match(rf"\s*({_IDENT})?$", segment):
        items = []
        if name == "Sequential":
            items += _kind("layers", "class")
        if spec is not None:
            written = set(re.findall(rf"[(,]\s*({_IDENT})\s*=", before[frames[-1].offset :]))
            items += [Item(f"{p.name}=", "property", describe_param(p), p.doc, insert=f"{p.name}=")
                      for p in getattr(spec, "params", ()) if p.name not in written]
        return items + _values(None, declared)
    return _values(None, declared)


def _spec_of_call(name: str, head: str, outer, before: str, declared: Declared):
    """The spec of the call ``name`` whose ``(`` ends ``head``, judged from where it is written."""
    if name in declared.blocks:
        return None
    line_head = head[head.rfind("\n") + 1 :]
    if re.match(rf"data\s+{_IDENT}\s*=\s*{_IDENT}$", line_head):
        return spec_of("data_sources", name)
    if outer and outer[-1].char == "{" or re.match(rf"\s+{_IDENT}$", line_head):
        spec = spec_of("layers", name)
        if spec is not None:
            return spec
    m = re.match(rf"\s*({_IDENT})\s+{_IDENT}$", line_head)
    if m and m.group(1) in PROPERTY_KINDS:
        return spec_of(PROPERTY_KINDS[m.group(1)], name)
    m = re.search(rf"({_IDENT})\s*=\s*\[?\s*{_IDENT}$", head)
    if m and outer:
        owner = re.search(rf"({_IDENT})\s*\($", before[: outer[-1].offset + 1])
        if owner:
            outer_spec = _spec_of_call(owner.group(1), before[: outer[-1].offset], outer[:-1], before, declared)
            p = outer_spec.param(m.group(1)) if outer_spec is not None and hasattr(outer_spec, "param") else None
            if p is not None and p.type in TYPE_KINDS:
                return spec_of(TYPE_KINDS[p.type], name)
    return guess(name)[1]


def _in_list(head: str, outer, before: str, declared: Declared) -> list[Item]:
    line_head = head[head.rfind("\n") + 1 :]
    m = re.match(rf"\s*({_IDENT})\s*$", line_head)
    if m and m.group(1) in PROPERTY_KINDS:  # metrics [
        return _kind(PROPERTY_KINDS[m.group(1)], "value")
    m = re.search(rf"({_IDENT})\s*=\s*$", head)
    if m:
        if outer and outer[-1].char == "(":
            owner = re.search(rf"({_IDENT})\s*$", before[: outer[-1].offset])
            spec = _spec_of_call(owner.group(1), before[: outer[-1].offset], outer[:-1], before, declared) if owner else None
        else:
            verb = before.split()[0] if before.split() else ""
            spec = spec_of("steps", verb)
        p = spec.param(m.group(1)) if spec is not None and hasattr(spec, "param") else None
        return _for_type(p.type if p else None, declared)
    return _values(None, declared)


# ---------------------------------------------------------------- item lists


def _for_type(type_name: str | None, declared: Declared) -> list[Item]:
    if type_name == "data":
        return _names(declared.data, "variable", "data source") + _kind("data_sources", "function")
    if type_name in TYPE_KINDS:
        kind = TYPE_KINDS[type_name]
        return _kind(kind, "class" if kind in ("callbacks", "layers") else "value") + _values(None, declared)
    if type_name in _CHOICES:
        return _named_choices(_CHOICES[type_name]) + _values(None, declared)
    return _values(type_name, declared)


def _values(type_name: str | None, declared: Declared) -> list[Item]:
    items = _names(declared.variables, "variable", "variable")
    items += [Item(c, "value", "constant") for c in CONSTANTS]
    if type_name is not None:
        items = [Item(i.label, i.kind, i.detail or describe_type(type_name)) for i in items]
    return items


def _named_choices(words) -> list[Item]:
    return [Item(w, "value", "") for w in words]


def _names(names, kind: str, what: str) -> list[Item]:
    return [Item(n, kind, what) for n in names]


def _kind(kind: str, item_kind: str) -> list[Item]:
    """Every registered name of ``kind``, with the catalogue's one-line summary where it has one."""
    what = singular(kind)
    return [Item(name, item_kind, what, catalogue_summary(kind, name)) for name in registry(kind).names()]

