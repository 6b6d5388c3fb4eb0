"""Syntax highlighting: the Pygments lexer, the TextMate grammar, coloured diagnostics and diffs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nncases import EXAMPLES, INVALID, ROOT, VALID, ids, read_nn

pygments = pytest.importorskip("pygments")

from pygments.lexers import get_lexer_by_name, get_lexer_for_filename  # noqa: E402
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, String, Token  # noqa: E402

import nndsl  # noqa: E402
from nndsl.cli import main  # noqa: E402
from nndsl.errors import NndslError  # noqa: E402
from nndsl.highlight import NnLexer, ansi_line  # noqa: E402

PROGRAMS = EXAMPLES + VALID
GRAMMAR = ROOT / "nndsl" / "editors" / "nn.tmLanguage.json"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def tokens(text: str) -> list[tuple]:
    return [(t, v) for t, v in NnLexer().get_tokens(text) if v.strip()]


# ---------------------------------------------------------------- the Pygments lexer


@pytest.mark.parametrize("path", PROGRAMS, ids=ids(PROGRAMS))
def test_every_program_lexes_without_errors(path):
    text = read_nn(path)
    toks = list(NnLexer().get_tokens(text))
    assert [v for t, v in toks if t in Error] == []
    # nothing is lost: the tokens spell the text (Pygments drops \r and ends with one \n)
    assert "".join(v for _, v in toks).strip("\n") == text.replace("\r\n", "\n").strip("\n")


def test_registered_with_pygments():
    for alias in ("nn", "nndsl"):
        assert isinstance(get_lexer_by_name(alias), NnLexer)
    assert isinstance(get_lexer_for_filename("model.nn"), NnLexer)


SAMPLE = (
    "# a comment\n"
    "seed 42\n"
    "let rate = 1e-3 * 2 // 1  # trailing\n"
    'data train = csv("a\\tb \\u00e9.csv", target="y")\n'
    "block stage(units, rate=0.5) {\n"
    "    Dense(units, activation=relu)\n"
    "    repeat 2 {\n"
    "        dropout(rate)\n"
    "    }\n"
    "}\n"
    "model m {\n"
    "    Input(shape=(3,))\n"
    "    stage(8)\n"
    "    loss mse\n"
    "    metrics [mae, AUC(name=\"auc\")]\n"
    "    loss_weights {0: 1.0}\n"
    "}\n"
    "train m on train epochs=2 shuffle=true class_weight={0: 1, 1: .5}\n"
        'plot m to "c.png"\n'
    "histogram m on train bins=8\n"
)


def test_token_classes():
    toks = tokens(SAMPLE)
    kinds: dict[str, set] = {}
    for t, v in toks:
        kinds.setdefault(v, set()).add(t)
    assert kinds["# a comment"] == {Comment.Single}
    assert kinds["seed"] == {Keyword.Pseudo}
    assert kinds["let"] == kinds["data"] == kinds["block"] == kinds["model"] == {Keyword.Declaration}
    assert kinds["rate"] >= {Name.Variable, Name.Attribute, Name}
    assert kinds["1e-3"] == {Number.Float} and kinds[".5"] == {Number.Float} and kinds["42"] == {Number.Integer}
    assert kinds["*"] == kinds["//"] == {Operator}
    assert kinds["\\t"] == kinds["\\u00e9"] == {String.Escape}
    assert kinds["csv"] == {Name.Function} and kinds["Dense"] == kinds["AUC"] == kinds["Input"] == {Name.Class}
    assert kinds["stage"] == {Name.Function} and kinds["dropout"] == {Name.Function}
    assert kinds["repeat"] == kinds["on"] == kinds["to"] == {Keyword}
    assert kinds["true"] == {Keyword.Constant}
    assert kinds["loss"] == kinds["metrics"] == kinds["loss_weights"] == {Name.Tag}
    assert kinds["activation"] == kinds["epochs"] == kinds["shape"] == {Name.Attribute}
    assert kinds["train"] == {Name.Variable, Name.Builtin, Name}  # defined, the verb, the data source after `on`
    assert kinds["plot"] == kinds["histogram"] == {Name.Builtin}  # plugin verbs too
    assert kinds["m"] == {Name.Class}
    assert kinds["relu"] == kinds["mse"] == kinds["mae"] == {Name}
    assert {"{", "}", "(", ")", "[", "]", ",", ":"} <= {v for t, v in toks if t is Punctuation}


def test_every_builtin_step_and_setting_is_recognised():
    from nndsl.plugins.registry import registry
    from nndsl.vocabulary import SETTINGS, STEPS

    assert set(STEPS) <= set(registry("steps").names())
    for verb in STEPS:
        assert tokens(f"{verb} m\n")[0] == (Name.Builtin, verb)
    for setting in SETTINGS:
        assert tokens(f"{setting} 1\n")[0] == (Keyword.Pseudo, setting)


def test_mistakes_are_marked_not_fatal():
    toks = tokens('let s = "bad \\q escape"\nlet t = "unclosed\nlet u = 1 $ 2\n')
    assert (Error, "\\q") in toks
    assert (Keyword.Declaration, "let") in toks[-6:]  # lexing carries on after an unclosed string
    assert (Error, "$") in toks


def test_properties_only_in_bodies():
    # at the top level a line-start name is a step; in a body, a property
    assert tokens("loss m\n")[0] == (Name.Builtin, "loss")
    assert tokens("model m {\n    loss mse\n}\n")[3] == (Name.Tag, "loss")


# ---------------------------------------------------------------- colour on a terminal


def _errors() -> list[NndslError]:
    out = []
    for path in INVALID:
        try:
            nndsl.check(read_nn(path), filename=path.name)
        except NndslError as exc:
            out.append(exc)
    return out


def test_coloured_diagnostics_differ_from_plain_only_by_colour():
    errors = _errors()
    assert len(errors) > 10
    highlighted = 0
    for exc in errors:
        plain = exc.render(color=False)
        coloured = exc.render(color=True)
        assert "\x1b" not in plain
        assert ANSI.sub("", coloured) == plain
        highlighted += "\x1b[35m" in coloured or "\x1b[33m" in coloured  # a keyword or a call coloured
    assert highlighted > len(errors) // 2


def test_source_line_is_coloured_by_its_place():
    text = "model m {\n    loss mse\n}\ntrain m on d\n"
    assert ansi_line(text, 2) == "    \x1b[36mloss\x1b[0m mse"
    assert ansi_line(text, 4).startswith("\x1b[34mtrain\x1b[0m \x1b[33mm\x1b[0m \x1b[35mon\x1b[0m")
    assert ansi_line("let a = 1\t# c\r\n", 1) == "\x1b[35mlet\x1b[0m \x1b[1ma\x1b[0m = \x1b[36m1\x1b[0m    \x1b[90m# c\x1b[0m"
    assert ansi_line(text, 9) is None


UNFORMATTED = "let a=1\nmodel m {\n  Input(shape=(2,))\n  dense(1)\n}\n"


def test_fmt_diff_is_plain_when_not_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    path = tmp_path / "u.nn"
    path.write_text(UNFORMATTED, encoding="utf-8")
    assert main(["fmt", "--diff", str(path)]) == 0
    plain = capsys.readouterr().out
    assert "\x1b" not in plain and "+let a = 1\n" in plain and plain.startswith("--- ")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert main(["fmt", "--diff", str(path)]) == 0
    coloured = capsys.readouterr().out
    assert "\x1b[" in coloured
    assert [line.rstrip() for line in ANSI.sub("", coloured).splitlines()] == plain.splitlines()
    assert path.read_text(encoding="utf-8") == UNFORMATTED


# ---------------------------------------------------------------- the TextMate grammar

# Oniguruma syntax that Python's re does not have; patterns using it are not compiled here.
ONIGURUMA_ONLY = re.compile(r"\\[GhHAzZ]|\\p\{|\(\?<[a-zA-Z]|\\k<|\(\?>|[*+?}]\+")


def _grammar() -> dict:
    return json.loads(GRAMMAR.read_text(encoding="utf-8"))


def _regexes(node, where="$"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("match", "begin", "end") and isinstance(value, str):
                yield f"{where}.{key}", value
            else:
                yield from _regexes(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _regexes(value, f"{where}[{i}]")


def test_textmate_grammar_loads_and_compiles():
    grammar = _grammar()
    assert grammar["scopeName"] == "source.nn" and "nn" in grammar["fileTypes"]
    found = list(_regexes(grammar))
    assert len(found) > 20
    skipped = [where for where, rx in found if ONIGURUMA_ONLY.search(rx)]
    assert len(skipped) <= 2, skipped
    for where, rx in found:
        if where not in skipped:
            re.compile(rx)
    # every include names a rule of the repository
    text = GRAMMAR.read_text(encoding="utf-8")
    for name in re.findall(r'"include": "#([^"]+)"', text):
        assert name in grammar["repository"], name


class TextMate:
    """Enough of a TextMate tokenizer (match, begin/end, captures, includes) to check the grammar."""

    def __init__(self, grammar: dict) -> None:
        self.grammar = grammar
        self.repo = grammar["repository"]
        self.cache: dict[str, re.Pattern] = {}

    def rx(self, pattern: str) -> re.Pattern:
        if pattern not in self.cache:
            self.cache[pattern] = re.compile(pattern)
        return self.cache[pattern]

    def expand(self, patterns) -> list[dict]:
        out = []
        for p in patterns:
            if "include" in p:
                ref = p["include"]
                target = self.grammar if ref == "$self" else self.repo[ref[1:]]
                out.extend(self.expand([target] if ("match" in target or "begin" in target) else target["patterns"]))
            else:
                out.append(p)
        return out

    def scopes(self, text: str) -> tuple[list[list[str]], int]:
        """The scopes of every character of ``text``, and how many begin/end scopes stay open."""
        result: list[list[str]] = []
        stack: list[tuple[dict, list[str]]] = []  # (rule, scopes inside it)
        for line in text.replace("\r\n", "\n").split("\n"):
            line += "\n"
            chars: list[list[str] | None] = [None] * len(line)
            pos = 0
            while pos < len(line):
                outer = stack[-1][1] if stack else []
                rules = self.expand(stack[-1][0].get("patterns", []) if stack else self.grammar["patterns"])
                best = None
                if stack:
                    m = self.rx(stack[-1][0]["end"]).search(line, pos)
                    if m:
                        best = (m.start(), -1, m, None)
                for order, rule in enumerate(rules):
                    m = self.rx(rule.get("match") or rule["begin"]).search(line, pos)
                    if m and (best is None or m.start() < best[0]):
                        best = (m.start(), order, m, rule)
                if best is None:
                    for i in range(pos, len(line)):
                        chars[i] = outer
                    break
                start, _, m, rule = best
                for i in range(pos, start):
                    chars[i] = outer
                if rule is None:  # end of the innermost begin/end rule
                    closing, inner = stack.pop()
                    self._paint(chars, m, inner, closing.get("endCaptures", {}))
                elif "match" in rule:
                    scopes = outer + ([rule["name"]] if "name" in rule else [])
                    self._paint(chars, m, scopes, rule.get("captures", {}))
                else:
                    scopes = outer + ([rule["name"]] if "name" in rule else [])
                    self._paint(chars, m, scopes, rule.get("beginCaptures", {}))
                    stack.append((rule, scopes))
                pos = m.end() if m.end() > pos else pos + 1
            result.extend(c or [] for c in chars[:-1])
            result.append([])  # the line break
        return result[:-1], len(stack)

    @staticmethod
    def _paint(chars, m, scopes, captures) -> None:
        for i in range(m.start(), m.end()):
            chars[i] = scopes
        for group, capture in captures.items():
            g = int(group)
            if m.group(g) is not None and "name" in capture:
                for i in range(m.start(g), m.end(g)):
                    chars[i] = scopes + [capture["name"]]


# The TextMate scope each Pygments token class is expected to get.
EXPECTED_SCOPES = [
    (Comment, ("comment.line",)),
    (String, ("string.quoted",)),
    (Number.Float, ("constant.numeric.float",)),
    (Number.Integer, ("constant.numeric.integer",)),
    (Keyword.Declaration, ("storage.type",)),
    (Keyword.Constant, ("constant.language",)),
    (Keyword.Pseudo, ("keyword.other.setting",)),
    (Keyword, ("keyword.control",)),
    (Name.Builtin, ("support.function.step",)),
    (Name.Class, ("support.class", "entity.name.type.model")),
    (Name.Function, ("entity.name.function",)),
    (Name.Variable, ("variable.other.definition",)),
    (Name.Tag, ("support.type.property-name",)),
    (Name.Attribute, ("variable.parameter",)),
    (Name, ("variable.other", "variable.parameter")),
    (Operator, ("keyword.operator",)),
    (Punctuation, ("punctuation",)),
]


@pytest.mark.parametrize("path", PROGRAMS + ["sample"], ids=ids(PROGRAMS) + ["sample"])
def test_textmate_grammar_agrees_with_the_lexer(path):
    text = SAMPLE if path == "sample" else read_nn(path).replace("\r\n", "\n")
    name = getattr(path, "name", path)
    scopes, still_open = TextMate(_grammar()).scopes(text)
    assert still_open == 0, "a begin/end scope never closed"
    offset = 0
    for _, tok, value in NnLexer().get_tokens_unprocessed(text):
        if value.strip() and tok is not Token.Text.Whitespace:
            want = next(prefixes for kind, prefixes in EXPECTED_SCOPES if tok in kind)
            for i in range(offset, offset + len(value)):
                if text[i].isspace():
                    continue
                innermost = scopes[i][-1] if scopes[i] else ""
                assert innermost.startswith(want) or (tok in String and any(s.startswith("string") for s in scopes[i])), (
                    f"{name}:{text.count(chr(10), 0, i) + 1}: {value!r} is {tok} in Pygments but {scopes[i]} in TextMate")
        offset += len(value)


def test_editors_doc_points_at_the_grammar():
    doc = (ROOT / "docs" / "editors.md").read_text(encoding="utf-8")
    for word in ("VS Code", "Sublime Text", "Vim", "Emacs", "pygmentize -l nn", "nn.tmLanguage.json", "source.nn"):
        assert word in doc
    assert Path(GRAMMAR).is_file()
