"""Generate ``nndsl/syntax/tables.json``, the parse tables of ``grammars/nn.lark``.

lark analyses the grammar; :func:`tables_from_lark` turns its LALR tables and terminals into
plain data that :class:`~nndsl.syntax.engine.Engine` runs, and :func:`render` writes them as
JSON. The file is committed, as the Keras catalogue is, so parsing never imports lark, never
analyses the grammar and writes nothing: lark is needed only here, to regenerate the file
after the grammar changes (a test fails, naming this command, while it is stale).

Usage::

    python -m nndsl.tools.gen_tables           # rewrite the committed file
    python -m nndsl.tools.gen_tables --check   # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys

from ..syntax.grammar import grammar_text
from ..syntax.tables import TABLES_PATH, TABLES_VERSION


def grammar_digest() -> str:
    """The SHA-256 of the grammar's text, recorded in the tables it gave."""
    return hashlib.sha256(grammar_text().encode("utf-8")).hexdigest()


def build_lark():
    """The LALR ``Lark`` parser of ``grammars/nn.lark``, as the tables are made from it."""
    from lark import Lark

    return Lark(grammar_text(), parser="lalr", lexer="basic", maybe_placeholders=False)


def _single_child_rules(rules) -> set:
    """The inlined ``_rules`` whose every alternative is one kept symbol that is not a list itself.

    Such a rule (``_arg: expr | kwarg``) would give a one-item list that its parent splices
    in; the engine passes the child itself up instead, and the parent appends it. The tree is
    the same, with one reduction less per item and no throwaway list.
    """
    alternatives: dict = {}
    for rule in rules:
        alternatives.setdefault(rule.origin.name, []).append(rule.expansion)

    def one_kept(exp) -> bool:
        return len(exp) == 1 and not (exp[0].is_term and exp[0].filter_out)

    single = {name for name, exps in alternatives.items() if name.startswith("_") and all(map(one_kept, exps))}
    while True:  # a child that is itself a spliced list disqualifies its parent
        lists = {
            name for name in single
            for (sym,) in alternatives[name]
            if not sym.is_term and sym.name.startswith("_") and sym.name not in single
        }
        if not lists:
            return single
        single -= lists


def _unpushed_terminals(rules) -> set:
    """The terminals every rule drops (``","``, ``_NL``): the engine never puts them on the value stack."""
    dropped, kept = set(), set()
    for rule in rules:
        for sym in rule.expansion:
            if sym.is_term:
                (dropped if sym.filter_out else kept).add(sym.name)
    return dropped - kept


def _describe_rule(rule, single: set, unpushed: set) -> tuple:
    """A lark rule as plain data: (size, values, keep, splice, inline, expand1, name, origin, pass_through).

    ``size`` counts the rule's symbols (the states it pops); ``values`` those of them on the
    value stack, all but the ``unpushed`` terminals. ``keep`` and ``splice`` index those values:
    the children lark's tree builder keeps, and the lists of inlined ``_rules`` among them to
    splice in. ``single`` holds the names from :func:`_single_child_rules`; their values are
    items, not lists to splice, and their own reductions pass the child through.
    """
    exp = rule.expansion
    on_stack = [i for i, sym in enumerate(exp) if not (sym.is_term and sym.name in unpushed)]
    keep = [j for j, i in enumerate(on_stack) if not (exp[i].is_term and exp[i].filter_out)]
    splice = [j for j in keep if not exp[on_stack[j]].is_term and exp[on_stack[j]].name.startswith("_")
              and exp[on_stack[j]].name not in single]
    inline = rule.origin.name.startswith("_")
    expand1 = bool(rule.options.expand1 and not rule.alias)
    pass_through = ((expand1 and len(keep) == 1 and not splice) or rule.origin.name in single) and len(on_stack) == 1
    # plain str: lark's names are Token objects, and unpickling those would import lark
    return (len(exp), len(on_stack), keep, splice, inline, expand1, str(rule.alias or rule.origin.name),
            str(rule.origin.name), pass_through)


def tables_from_lark(lark_obj) -> dict:
    """Everything :class:`~nndsl.syntax.engine.Engine` needs, as plain JSON data, from a built LALR ``Lark``.

    The states are renumbered in the order a walk from the start state meets them (symbols
    taken in sorted order): lark numbers them in an order that follows Python's string hashing,
    which changes from one process to the next, and the committed file must not.
    """
    from lark.parsers.lalr_analysis import Shift

    table = lark_obj.parser.parser.parser.parse_table
    rule_ids = {}
    rules = []
    single = _single_child_rules(lark_obj.rules)
    unpushed = _unpushed_terminals(lark_obj.rules)
    for rule in lark_obj.rules:
        rule_ids[rule] = len(rules)
        rules.append(_describe_rule(rule, single, unpushed))
    start = table.start_states["start"]
    number = _canonical_numbers(table.states, start, Shift)
    states = [None] * len(number)
    for state, actions in table.states.items():
        row = {}
        for sym, (action, arg) in sorted(actions.items(), key=lambda item: str(item[0])):
            row[str(sym)] = [True, number[arg]] if action is Shift else [False, rule_ids[arg]]
        states[number[state]] = row
    terminals = list(lark_obj.terminals)
    name_re = re.compile(next(t.pattern.to_regexp() for t in terminals if t.name == "NAME"))
    keywords = {}
    parts = []
    strings = []
    for t in terminals:
        if t.pattern.type == "str" and name_re.fullmatch(t.pattern.value):
            keywords[str(t.pattern.value)] = str(t.name)
        elif t.pattern.type == "str":
            strings.append(t)
        else:
            parts.append(t)
    parts.sort(key=lambda t: -t.priority)
    strings.sort(key=lambda t: -len(t.pattern.value))
    ordered = [t for t in parts if t.priority > 0] + strings + [t for t in parts if t.priority <= 0]
    ws = next(t.pattern.to_regexp() for t in terminals if t.name == "WS")
    # Spaces are skipped by the same match that finds the next token: one regex call per token.
    # Group 1 holds the spaces, so the token starts where it ends. Each terminal is named by an
    # empty group *after* its pattern rather than a group around it: an alternative that starts
    # with a literal or a character class is then rejected by the regex engine at the first
    # character, where one that starts with a group is tried in full (the regex runs ~40 % faster).
    master = f"((?:{ws})?)(?:" + "|".join(f"(?:{t.pattern.to_regexp()})(?P<{t.name}>)" for t in ordered if t.name != "WS") + ")"
    return {
        "version": TABLES_VERSION, "grammar_sha256": grammar_digest(), "rules": [list(r) for r in rules],
        "states": states, "start": number[start], "end": number[table.end_states["start"]],
        "keywords": dict(sorted(keywords.items())), "master": str(master),
        "unpushed": sorted(str(d) for d in unpushed), "terminals": sorted(str(t.name) for t in terminals),
        "singles": dict(sorted(_single_characters([t for t in ordered if t.name != "WS"], ws).items())),
    }


def _canonical_numbers(states: dict, start, shift) -> dict:
    """lark's state -> its number in the order of a breadth-first walk from ``start``."""
    number = {start: 0}
    queue = [start]
    for state in queue:
        for sym in sorted(states[state], key=str):
            action, arg = states[state][sym]
            if action is shift and arg not in number:
                number[arg] = len(number)
                queue.append(arg)
    for state in states:  # unreachable from the start (none expected): numbered last, still stable in count
        number.setdefault(state, len(number))
    return number


def _single_characters(ordered: list, ws: str) -> dict:
    """The characters that are always a whole token by themselves: {character: terminal name}.

    A terminal whose every match that starts with some character is that character alone
    (a one-character literal such as ``(``, or ``\\r?\\n`` for ``\\n``) qualifies when no terminal
    tried before it in the master regex can start with that character, and spaces cannot:
    wherever the character starts a token, the master regex would give that terminal and
    that one character. The engine then takes such tokens without calling the regex (about
    half the tokens are punctuation or line breaks). Unsure answers count against, so at
    worst a character is left to the regex.
    """
    try:
        from re import _parser as sre_parse
    except ImportError:  # Python before 3.11
        import sre_parse
    singles = {}
    for i, t in enumerate(ordered):
        try:
            if t.pattern.type == "str":
                ch = t.pattern.value
                if len(ch) != 1:
                    continue
            else:
                items = sre_parse.parse(t.pattern.to_regexp())
                ch = _lone_character(items, sre_parse)
                if ch is None:
                    continue
            if ch in singles or re.match(ws, ch):
                continue
            pre_empted = any(
                u.pattern.value.startswith(ch) if u.pattern.type == "str"
                else _can_start_with(sre_parse.parse(u.pattern.to_regexp()), ch, sre_parse)
                for u in ordered[:i]
            )
        except Exception:  # an unfamiliar regex construct: leave the character to the regex
            continue
        if not pre_empted:
            singles[str(ch)] = str(t.name)
    return singles


def _lone_character(items, sre) -> str | None:
    """The character ``c`` such that every match of the parsed regex that starts with ``c`` is ``c`` alone.

    Only the simple shape is recognised: optional parts that cannot start with ``c``, then the
    literal ``c``, then nothing (``\\r?\\n`` gives ``\\n``). None otherwise.
    """
    for i, (op, av) in enumerate(items):
        if op is sre.LITERAL:
            ch = chr(av)
            skipped = items[:i]
            if items[i + 1:] or any(_may_consume_first(sub, ch, sre) for _op, (_low, _high, sub) in skipped):
                return None
            return ch
        if op not in (sre.MAX_REPEAT, sre.MIN_REPEAT) or av[0] != 0:
            return None
    return None


def _can_start_with(items, ch: str, sre) -> bool:
    """Whether a match of the parsed regex ``items`` can begin with ``ch``; True when unsure."""
    return _may_consume_first(items, ch, sre) or _can_be_empty(items, sre)


def _may_consume_first(items, ch: str, sre) -> bool:
    """Whether the first character a match of ``items`` consumes can be ``ch``; True when unsure."""
    for op, av in items:
        if op is sre.LITERAL:
            return av == ord(ch)
        if op is sre.NOT_LITERAL:
            return av != ord(ch)
        if op is sre.IN:
            return _class_may_hold(av, ch, sre)
        if op is sre.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags or _may_consume_first(sub, ch, sre):
                return True
            if not _can_be_empty(sub, sre):
                return False
        elif op is sre.BRANCH:
            alternatives = av[1]
            if any(_may_consume_first(alt, ch, sre) for alt in alternatives):
                return True
            if not any(_can_be_empty(alt, sre) for alt in alternatives):
                return False
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, _high, sub = av
            if _may_consume_first(sub, ch, sre):
                return True
            if low > 0 and not _can_be_empty(sub, sre):
                return False
        else:
            return True  # any character, anchors, lookarounds, back references, ...
    return False  # nothing consumed here: the caller looks at what follows


def _can_be_empty(items, sre) -> bool:
    """Whether the parsed regex ``items`` can match the empty string; True when unsure."""
    for op, av in items:
        if op in (sre.LITERAL, sre.IN, sre.NOT_LITERAL, sre.ANY):
            return False
        if op is sre.SUBPATTERN:
            if not _can_be_empty(av[3], sre):
                return False
        elif op is sre.BRANCH:
            if not any(_can_be_empty(alt, sre) for alt in av[1]):
                return False
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            if av[0] > 0 and not _can_be_empty(av[2], sre):
                return False
    return True


_CATEGORIES = {"CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_SPACE": r"\s",
               "CATEGORY_NOT_SPACE": r"\S", "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W"}


def _class_may_hold(items, ch: str, sre) -> bool:
    """Whether the parsed character class ``items`` can match ``ch``; True when unsure."""
    negate = False
    found = False
    for op, av in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            found = found or av == ord(ch)
        elif op is sre.RANGE:
            found = found or av[0] <= ord(ch) <= av[1]
        elif op is sre.CATEGORY and str(av) in _CATEGORIES:
            found = found or re.match(_CATEGORIES[str(av)], ch) is not None
        else:
            return True
    return found != negate


def render(tables: dict) -> str:
    """The JSON text of ``tables``: one line per rule and per state, so a grammar change reads as a diff."""
    out = ["{"]
    items = list(tables.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if key in ("rules", "states"):
            rows = [json.dumps(row, ensure_ascii=True, separators=(",", ":")) for row in value]
            out.append(f"{json.dumps(key)}: [")
            out.extend(f"  {row}{',' if j < len(rows) - 1 else ''}" for j, row in enumerate(rows))
            out.append(f"]{comma}")
        else:
            out.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=True, separators=(',', ':'))}{comma}")
    out.append("}")
    return "\n".join(out) + "\n"


def generate() -> str:
    """The text the committed tables file should hold for the current grammar."""
    return render(tables_from_lark(build_lark()))


def main(argv: list[str] | None = None) -> int:
    """Write the tables file, or with ``--check`` compare it with the grammar.

    Args:
        argv: Command-line arguments; ``sys.argv[1:]`` when None.

    Returns:
        The exit status: 1 when ``--check`` finds the file stale, else 0.
    """
    parser = argparse.ArgumentParser(prog="python -m nndsl.tools.gen_tables", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report a stale file instead of writing it")
    args = parser.parse_args(argv)
    new = generate()
    old = TABLES_PATH.read_text(encoding="utf-8") if TABLES_PATH.exists() else ""
    if args.check:
        if old != new:
            print(f"{TABLES_PATH.name} is out of date for the grammar. Run: python -m nndsl.tools.gen_tables")
            return 1
        print(f"{TABLES_PATH.name} is current")
        return 0
    if old != new:
        TABLES_PATH.write_text(new, encoding="utf-8")
        print(f"wrote {TABLES_PATH}")
    else:
        print(f"{TABLES_PATH.name} is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
