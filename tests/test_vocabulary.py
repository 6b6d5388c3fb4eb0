"""The vocabulary module against everything else that spells the language's words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import nndsl
from nndsl import vocabulary
from nndsl.syntax.grammar import grammar_text
from nndsl.syntax.tables import load_tables

ROOT = Path(__file__).resolve().parents[1]
TEXTMATE = ROOT / "nndsl" / "editors" / "nn.tmLanguage.json"


def _keyword_terminals() -> dict:
    """{word: terminal} for every terminal of the grammar that is a literal word (``LET: "let"``)."""
    found = {}
    for name, word in re.findall(r'^([A-Z_][A-Z0-9_]*)(?:\.\d+)?\s*:\s*"([^"]*)"\s*$', grammar_text(), re.M):
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", word):
            found[word] = name
    return found


def test_reserved_words_are_exactly_the_grammars_keyword_terminals():
    assert _keyword_terminals() == vocabulary.TERMINALS


def test_reserved_words_are_the_keywords_of_the_committed_tables():
    assert load_tables()["keywords"] == vocabulary.TERMINALS


def test_the_groups_cover_the_reserved_words_once():
    groups = (*vocabulary.DECLARATIONS, vocabulary.REPEAT, *vocabulary.CLAUSES, *vocabulary.CONSTANTS)
    assert sorted(groups) == sorted(vocabulary.RESERVED) and len(set(groups)) == len(groups)
    assert set(vocabulary.KEYWORDS) == set(vocabulary.RESERVED) - set(vocabulary.CONSTANTS)
    assert set(vocabulary.BODY_OPENERS) <= set(vocabulary.KEYWORDS)


@pytest.mark.parametrize("word", vocabulary.RESERVED)
def test_no_reserved_word_is_a_name(word):
    with pytest.raises(nndsl.NndslSyntaxError):
        nndsl.parse(f"let {word} = 1\n")


def test_settings_steps_and_properties_are_names_not_reserved_words():
    words = (*vocabulary.SETTINGS, *vocabulary.STEPS, *vocabulary.PROPERTIES)
    assert len(set(words)) == len(words)
    assert not set(words) & set(vocabulary.RESERVED)
    for word in words:
        nndsl.parse(f"let {word} = 1\n")


def test_steps_are_the_built_in_step_entry_points():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(project["project"]["entry-points"]["nndsl.steps"]) == set(vocabulary.STEPS)


def test_properties_are_what_the_checker_accepts_in_a_model_body():
    from nndsl.semantics.keras_check import COMPILE_ARGS, MODEL_OPTIONS

    assert set(COMPILE_ARGS) == set(vocabulary.COMPILE_PROPERTIES)
    assert set(MODEL_OPTIONS) == set(vocabulary.MODEL_OPTIONS)


def test_settings_are_what_the_parser_reads_as_settings():
    program = nndsl.parse("".join(f"{word} 1\n" for word in vocabulary.SETTINGS) + "train m\n")
    kinds = [type(s).__name__ for s in program.statements]
    assert kinds == ["Setting"] * len(vocabulary.SETTINGS) + ["Step"]


def _alternations(text: str) -> list[set]:
    """The word lists of the TextMate grammar's regexes: each ``(a|b|c)`` group of plain words."""
    return [set(group.split("|")) for group in re.findall(r"\((?:\?:)?([a-z_]+(?:\|[a-z_]+)+)\)", text)]


def test_the_textmate_grammar_spells_the_same_words():
    lists = _alternations(json.dumps(json.loads(TEXTMATE.read_text(encoding="utf-8"))))
    assert set(vocabulary.RESERVED) in lists  # names that are not reserved words
    assert set(vocabulary.PROPERTIES) in lists
    assert set(vocabulary.SETTINGS) in lists
    assert set(vocabulary.DECLARATIONS[:2]) in lists  # `let NAME` and `data NAME`
    # every list of words is one of the vocabulary's groups (or a part of one)
    groups = [set(vocabulary.RESERVED), set(vocabulary.PROPERTIES), set(vocabulary.SETTINGS),
              {*vocabulary.CLAUSES, vocabulary.REPEAT}, set(vocabulary.CONSTANTS), set(vocabulary.DECLARATIONS)]
    for words in lists:
        assert any(words <= group for group in groups), words
