"""Locates the grammar file, both in an installed wheel and in a source checkout."""

from __future__ import annotations

import functools
from pathlib import Path

GRAMMAR_NAME = "nn.lark"


@functools.cache
def grammar_path() -> Path:
    """The path of ``nn.lark``: inside the installed package first, else the checkout's ``grammars/``."""
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "grammars" / GRAMMAR_NAME, package_dir.parent / "grammars" / GRAMMAR_NAME):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"the nndsl grammar {GRAMMAR_NAME} is missing from the installation")


@functools.cache
def grammar_text() -> str:
    """The grammar's text."""
    return grammar_path().read_text(encoding="utf-8")
