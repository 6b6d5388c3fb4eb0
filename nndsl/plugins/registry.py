"""Lazy, entry-point-backed registries, one per kind of name.

Each registry reads the entry-point group ``nndsl.<kind>``. Listing names reads package
metadata only; a plugin's module is imported the first time a program uses one of its names,
so a broken plugin breaks only the programs that use it. nndsl's own built-ins are entry
points of the ``nndsl`` distribution, declared in its ``pyproject.toml`` like any plugin's.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import PluginError

KINDS = (
    "layers", "activations", "losses", "optimizers", "schedules", "metrics", "initializers",
    "regularizers", "constraints", "callbacks", "data_sources", "preprocessors", "steps",
)


def normalize(name: str) -> str:
    """The lookup key of a name: case and underscores ignored (``max_pooling2d`` == ``MaxPooling2D``)."""
    return name.replace("_", "").lower()


@dataclass
class Entry:
    """One registered name: where it comes from, and (once loaded) the object."""

    name: str
    kind: str
    origin: str  # distribution name, or "<registered>" for Registry.register
    value: str  # "module:attr" for entry points, repr for registered objects
    loader: Callable[[], Any] | None = None
    obj: Any = None
    loaded: bool = False
    rivals: list[Entry] = field(default_factory=list)


@dataclass(frozen=True)
class EntryPoint:
    """``name = module:attr`` in group ``group``; ``load()`` imports it. (importlib.metadata's
    own class is not used: importing that module alone costs more than a whole scan here.)"""

    name: str
    value: str
    group: str

    def load(self) -> Any:
        module, _, attr = self.value.partition(":")
        obj = importlib.import_module(module.strip())
        for part in attr.strip().split(".") if attr.strip() else ():
            obj = getattr(obj, part)
        return obj


@functools.cache
def _scan_entry_points() -> dict[str, list[tuple[str, str, Any]]]:
    """group -> [(name, dist name, EntryPoint)] for every ``nndsl.*`` group, read once per process.

    Reads ``entry_points.txt`` of each installed distribution directly (the distribution's name
    comes from its folder name), which is several times faster than parsing every METADATA file
    through ``importlib.metadata.distributions()``; this runs on every ``nndsl check``.
    """
    groups: dict[str, list] = {}
    seen_nndsl = False
    seen_dists: set[str] = set()
    for folder in sys.path:
        try:
            entries = sorted(os.scandir(folder or "."), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if not (name.endswith(".dist-info") or name.endswith(".egg-info")):
                continue
            dist_name = name.rsplit(".", 1)[0].split("-")[0]
            key = dist_name.lower().replace("-", "_").replace(".", "_")
            # As importlib.metadata does: the first copy of a distribution on sys.path wins.
            if key in seen_dists:
                continue
            seen_dists.add(key)
            try:
                with open(os.path.join(entry.path, "entry_points.txt"), encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            if "[nndsl." not in text:
                continue
            for group, ep_name, value in _parse_entry_points(text):
                if group.startswith("nndsl."):
                    seen_nndsl = seen_nndsl or key == "nndsl"
                    ep = EntryPoint(ep_name, value, group)
                    groups.setdefault(group, []).append((ep_name, dist_name, ep))
    if not seen_nndsl:
        # Running from a source checkout that is not installed: read our own table.
        for group, rows in _checkout_entry_points().items():
            groups.setdefault(group, []).extend(rows)
    return groups


def _parse_entry_points(text: str):
    """(group, name, value) triples of an ``entry_points.txt`` (an INI file with one section per group)."""
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            continue
        if group is None or "=" not in line:
            continue
        name, _, value = line.partition("=")
        yield group, name.strip(), value.strip()


def _checkout_entry_points() -> dict[str, list]:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    try:
        import tomllib
    except ImportError:  # Python 3.10: the package must be installed
        return {}
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    if data.get("project", {}).get("name") != "nndsl":
        return {}
    out: dict[str, list] = {}
    for group, table in data["project"].get("entry-points", {}).items():
        for name, value in table.items():
            ep = EntryPoint(name, value, group)
            out.setdefault(group, []).append((name, "nndsl", ep))
    return out


class Registry:
    """The names of one kind. Built-ins and plugins come from entry points; embedders may ``register``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] | None = None
        self._by_key: dict[str, list[str]] | None = None

    # ------------------------------------------------------------ discovery
    def _load_table(self) -> dict[str, Entry]:
        if self._entries is None:
            entries: dict[str, Entry] = {}
            for name, dist, ep in _scan_entry_points().get(f"nndsl.{self.kind}", ()):
                entry = Entry(name, self.kind, dist, ep.value, loader=ep.load)
                if name in entries:
                    first = entries[name]
                    if first.origin != dist:
                        first.rivals.append(entry)
                    continue
                entries[name] = entry
            self._entries = entries
            self._by_key = None
        return self._entries

    def _keys(self) -> dict[str, list[str]]:
        if self._by_key is None:
            keys: dict[str, list[str]] = {}
            for name in self._load_table():
                keys.setdefault(normalize(name), []).append(name)
            self._by_key = keys
        return self._by_key

    def names(self) -> list[str]:
        """Every registered name, sorted; imports nothing."""
        return sorted(self._load_table())

    def entries(self) -> list[Entry]:
        """Every entry, sorted by name; imports nothing."""
        table = self._load_table()
        return [table[n] for n in sorted(table)]

    def has(self, name: str) -> bool:
        """Whether ``name`` is registered exactly as written."""
        return name in self._load_table()

    def __contains__(self, name: str) -> bool:
        return self.resolve(name) is not None

    def resolve(self, name: str) -> str | None:
        """The registered spelling of ``name``: exact first, then ignoring case and underscores."""
        table = self._load_table()
        if name in table:
            return name
        found = self._keys().get(normalize(name))
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        # e.g. the loss class MeanSquaredError and the function mean_squared_error: prefer the
        # spelling closest in form to what was written (capitalised -> class).
        if name[:1].isupper():
            caps = [f for f in found if f[:1].isupper()]
            if caps:
                return sorted(caps)[0]
        lower = [f for f in found if not f[:1].isupper()]
        return sorted(lower or found)[0]

    def entry(self, name: str) -> Entry:
        """The entry for a name (resolved as :meth:`resolve` does); KeyError when unknown."""
        resolved = self.resolve(name)
        if resolved is None:
            raise KeyError(name)
        return self._load_table()[resolved]

    def get(self, name: str) -> Any:
        """The object registered under ``name``, importing its plugin on first use.

        Raises:
            KeyError: the name is not registered.
            PluginError: two distributions register it, or its plugin fails to import.
        """
        entry = self.entry(name)
        if entry.rivals:
            origins = " and ".join(sorted({entry.origin, *(r.origin for r in entry.rivals)}))
            raise PluginError(
                f"the {self.kind[:-1].replace('_', ' ')} name '{entry.name}' is registered by both {origins}; "
                "expected exactly one distribution per name"
            )
        if not entry.loaded:
            try:
                entry.obj = entry.loader()
            except Exception as exc:  # a broken plugin: say which, and keep going for others
                raise PluginError(
                    f"the plugin for {self.kind[:-1].replace('_', ' ')} '{entry.name}' failed to load: expected "
                    f"entry point '{entry.value}' of distribution '{entry.origin}' to import; received "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            entry.loaded = True
        return entry.obj

    def register(self, name: str, obj: Any, *, origin: str = "<registered>", replace: bool = False) -> None:
        """Add ``obj`` under ``name`` without installing a package (for embedding code and tests)."""
        table = self._load_table()
        if name in table and not replace:
            raise PluginError(
                f"the {self.kind[:-1].replace('_', ' ')} name '{name}' is already registered by {table[name].origin}"
            )
        table[name] = Entry(name, self.kind, origin, repr(obj), obj=obj, loaded=True)
        self._by_key = None

    def unregister(self, name: str) -> None:
        self._load_table().pop(name, None)
        self._by_key = None


_REGISTRIES: dict[str, Registry] = {}


def registry(kind: str) -> Registry:
    """The registry of one kind (see :data:`KINDS`)."""
    try:
        return _REGISTRIES[kind]
    except KeyError:
        if kind not in KINDS:
            raise ValueError(f"unknown registry kind {kind!r}; expected one of {', '.join(KINDS)}") from None
        reg = _REGISTRIES[kind] = Registry(kind)
        return reg


def reset() -> None:
    """Forget every registry's contents, registered entries included (tests use this)."""
    _REGISTRIES.clear()
    _scan_entry_points.cache_clear()
