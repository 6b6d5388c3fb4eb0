"""The package's shape, read from its source: no import cycles, no private names borrowed across
modules, and every import running down the layers of docs/architecture.md.

Every module under ``nndsl/`` is parsed (never imported); its imports are collected wherever they
stand, at the top or inside a function (the lazy imports that keep TensorFlow off the check
path are imports all the same), relative or absolute. ``from pkg import name`` counts as an
import of the module ``pkg.name`` when there is one, else of ``pkg``. Imports under
``if TYPE_CHECKING:`` run only for type checkers: they count for the layers and for private
names, not for cycles.

The layers, bottom first (a module may import its own package and the packages of lower layers;
the base modules may import one another, and so may ``cli`` and ``__main__``):

    source, errors, vocabulary, version, highlight, collector, paths   the base
    ast -> syntax -> plugins, catalogue -> formatter -> semantics -> builtins -> compile -> data
        -> run -> interop, plots -> reports -> lsp, notebook -> cli -> tools

``nndsl/__init__.py`` is the facade: it may import anything (lazily), and nothing in the package
imports it. ``nndsl/__main__.py`` is the ``python -m nndsl`` entry and stands with ``cli``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "nndsl"

LAYERS: list[set[str]] = [
    {"source", "errors", "vocabulary", "version", "highlight", "collector", "paths"},
    {"ast"},
    {"syntax"},
    {"plugins", "catalogue"},
    {"formatter"},
    {"semantics"},
    {"builtins"},
    {"compile"},
    {"data"},
    {"run"},
    {"interop", "plots"},
    {"reports"},
    {"lsp", "notebook"},
    {"cli", "__main__"},
    {"tools"},
]
RANK = {part: i for i, parts in enumerate(LAYERS) for part in parts}
# The base modules are one package in all but name, and so are the command line and its entry:
# they import one another freely (cycles aside). Other parts of one layer stay apart.
GROUPS = {part: "base" for part in LAYERS[0]} | {"cli": "cli", "__main__": "cli"}



@dataclass(frozen=True)
class Import:
    """One import statement's edge: ``importer`` imports ``target`` (both module names)."""

    importer: str
    target: str
    names: tuple[str, ...]  # the names a `from` import takes from `target`; () for `import x`
    file: str  # relative to the repository
    line: int
    type_checking: bool

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def module_names(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of the package: dotted name -> file (a package is named by its ``__init__.py``)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _within(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is a module of the package."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else None
            if name == "TYPE_CHECKING":
                for stmt in node.body:
                    lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def scan(root: Path = ROOT, package: str = PACKAGE) -> tuple[dict[str, Path], list[Import], list[str]]:
    """The package's modules, the imports between them, and every private name borrowed from another module."""
    modules = module_names(root, package)
    imports: list[Import] = []
    private: list[str] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        guarded = _type_checking_lines(tree)
        file = path.relative_to(root).as_posix()
        bound: dict[str, str] = {}  # local name -> the package module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = _within(alias.name, modules)
                    if target is None:
                        continue
                    imports.append(Import(name, target, (), file, node.lineno, node.lineno in guarded))
                    if alias.asname:
                        bound[alias.asname] = target
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(name, _is_package(path), node)
                base = _within(source, modules)
                if base is None:
                    continue
                plain = []
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    if submodule in modules:
                        imports.append(Import(name, submodule, (), file, node.lineno, node.lineno in guarded))
                        bound[alias.asname or alias.name] = submodule
                    else:
                        plain.append(alias.name)
                        if _private(alias.name) and base != name:
                            private.append(f"{file}:{node.lineno}: {name} imports {alias.name} from {base}")
                if plain:
                    imports.append(Import(name, base, tuple(plain), file, node.lineno, node.lineno in guarded))
        for node in ast.walk(tree):
            # `from ..run import steps` then `steps._write_csv(...)`: a private name all the same
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                    and _private(node.attr) and bound[node.value.id] != name):
                private.append(f"{file}:{node.lineno}: {name} uses {node.attr} of {bound[node.value.id]}")
    return modules, imports, sorted(set(private))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def find_cycles(imports: list[Import]) -> list[list[str]]:
    """One cycle (a path that returns to its start) for each group of modules that import each other."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if not imp.type_checking and imp.importer != imp.target:
            graph.setdefault(imp.importer, set()).add(imp.target)
    # Tarjan's strongly connected components, iteratively: the package is deep enough for recursion limits to matter.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return [_cycle_in(sorted(c), graph) for c in sorted(components)]


def _cycle_in(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest path from the component's first module back to itself (breadth first)."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {component}")


def _part(module: str) -> str | None:
    """The module's top-level part under the package (``nndsl.run.steps`` -> ``run``); None for the facade."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def layer_violations(modules: dict[str, Path], imports: list[Import], root: Path = ROOT) -> list[str]:
    """Each import that runs up the layers or sideways into another package, and each module with no layer."""
    found = []
    for module, path in modules.items():
        part = _part(module)
        if part is not None and part not in RANK:
            found.append(f"{path.relative_to(root).as_posix()}:1: {module} belongs to no layer")
    for imp in imports:
        mine, theirs = _part(imp.importer), _part(imp.target)
        if mine is None or mine == theirs:  # the facade; or within one package
            continue
        if mine in GROUPS and GROUPS.get(theirs) == GROUPS[mine]:
            continue
        if theirs is None:
            found.append(f"{imp.where}: {imp.importer} imports the facade {imp.target} (import from the module that defines it)")
        elif mine in RANK and theirs in RANK and RANK[theirs] >= RANK[mine]:
            way = "sideways" if RANK[theirs] == RANK[mine] else "up"
            found.append(f"{imp.where}: {imp.importer} ({mine}) imports {imp.target} ({theirs}): {way} the layers")
    return sorted(set(found), key=_by_place)


def _by_place(line: str):
    file, number, _ = line.split(":", 2)
    return file, int(number), line


# ---------------------------------------------------------------- the package


@pytest.fixture(scope="module")
def package():
    return scan()


def test_every_module_is_read(package):
    modules, imports, _ = package
    assert {"nndsl", "nndsl.errors", "nndsl.syntax.parser", "nndsl.semantics", "nndsl.run.runner"} <= set(modules)
    assert any(i.importer == "nndsl.syntax.parser" for i in imports)


def test_no_import_cycles(package):
    _, imports, _ = package
    cycles = find_cycles(imports)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_names_across_modules(package):
    _, _, private = package
    assert not private, "private names used outside their module:\n" + "\n".join(private)


def test_imports_follow_the_layers(package):
    modules, imports, _ = package
    violations = layer_violations(modules, imports)
    assert not violations, "imports against the layering of docs/architecture.md:\n" + "\n".join(violations)


# ---------------------------------------------------------------- the checks themselves, on a made-up package


def _write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checks_find_cycles_private_names_and_upward_imports(tmp_path):
    _write_package(tmp_path, {
        "__init__.py": "def build():\n    from .compile import builder\n",
        "errors.py": "from . import source\n",
        "source.py": "",
        "data/__init__.py": "from ..plots import draw\n",
        "plots.py": "",
        "interop.py": "from .plots import draw\n",
        "syntax/__init__.py": "",
        "syntax/parser.py": "from ..run import files\nfrom .lexer import _tokens\n",
        "syntax/lexer.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import parser\n",
        "compile/__init__.py": "",
        "compile/builder.py": "def f():\n    from ..semantics import check\n    return check._hint\n",
        "semantics/__init__.py": "",
        "semantics/check.py": "import nndsl.semantics.keras_check\n_hint = 1\n",
        "semantics/keras_check.py": "from .. import errors\nfrom nndsl.semantics.check import _hint as h\n",
        "run/__init__.py": "from .. import __version__\n",
        "run/files.py": "from ..syntax import parser\n",
        "shiny.py": "",
    })
    modules, imports, private = scan(tmp_path)

    assert find_cycles(imports) == [
        ["nndsl.run.files", "nndsl.syntax.parser", "nndsl.run.files"],
        ["nndsl.semantics.check", "nndsl.semantics.keras_check", "nndsl.semantics.check"],
    ]  # lexer -> parser is under TYPE_CHECKING: no cycle
    assert private == [
        "nndsl/compile/builder.py:3: nndsl.compile.builder uses _hint of nndsl.semantics.check",
        "nndsl/semantics/keras_check.py:2: nndsl.semantics.keras_check imports _hint from nndsl.semantics.check",
        "nndsl/syntax/parser.py:2: nndsl.syntax.parser imports _tokens from nndsl.syntax.lexer",
    ]
    assert layer_violations(modules, imports, tmp_path) == [
        "nndsl/data/__init__.py:1: nndsl.data (data) imports nndsl.plots (plots): up the layers",
        "nndsl/interop.py:1: nndsl.interop (interop) imports nndsl.plots (plots): sideways the layers",
        "nndsl/run/__init__.py:1: nndsl.run imports the facade nndsl (import from the module that defines it)",
        "nndsl/shiny.py:1: nndsl.shiny belongs to no layer",
        "nndsl/syntax/parser.py:1: nndsl.syntax.parser (syntax) imports nndsl.run.files (run): up the layers",
    ]
