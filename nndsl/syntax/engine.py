"""A fast lexer and LALR driver over the parse tables lark builds from ``grammars/nn.lark``.

lark analyses the grammar; :func:`tables_from_lark` turns its LALR tables and terminals into
plain data (cached on disk by :mod:`nndsl.syntax.parser`, so a warm start never imports lark),
and :class:`Engine` runs them in one tight loop: a single master regex for the terminals (one-
character tokens such as ``,`` and ``\n`` are taken without it), the bracket post-lexing of
:mod:`nndsl.syntax.lexer` inlined, and lark's child-filtering rules, compiled per rule,
followed by :class:`~nndsl.syntax.builder.Builder` on every reduction. Tokens are plain
tuples; runs of pass-through reductions are followed once and remembered. Errors are raised
as :class:`UnexpectedCharacters` / :class:`UnexpectedToken` and translated in one place.
"""

from __future__ import annotations

import re

from ..source import Source, Span
from .builder import MAX_BRACKETS, SyntaxProblem
from .lexer import _BODY_KEYWORDS, _OPENERS

TABLES_VERSION = 4  # bump when the layout of `tables_from_lark`'s result changes


class UnexpectedToken(Exception):
    """The parser met a token its tables do not allow here."""

    def __init__(self, token, expected) -> None:
        super().__init__(f"unexpected {token!r}")
        self.token = token
        self.expected = set(expected)


class UnexpectedCharacters(Exception):
    """The lexer met text no terminal matches."""

    def __init__(self, text, pos, line, column, allowed) -> None:
        super().__init__(f"unexpected character at {line}:{column}")
        self.pos_in_stream = pos
        self.line = line
        self.column = column
        self.char = text[pos] if pos < len(text) else ""
        self.allowed = set(allowed or ())


class Token:
    """A token for error translation, with the position attributes of lark's tokens.

    The engine itself passes tokens around as plain tuples; it makes one of these only when
    a token is refused, and for the open brackets named in that error.
    """

    __slots__ = ("type", "value", "start_pos", "line", "column", "end_line", "end_column", "end_pos")

    def __init__(self, type, value, start_pos, line, column, end_line, end_column, end_pos):
        self.type = type
        self.value = value
        self.start_pos = start_pos
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.end_pos = end_pos

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"

    def to_lark(self) -> "Token":
        return self  # error translation reads the same attributes lark's tokens have

    @staticmethod
    def new_borrow_pos(type, value, tok):
        return Token(type, value, tok.start_pos, tok.line, tok.column, tok.end_line, tok.end_column, tok.end_pos)


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
    """Everything :class:`Engine` needs, as plain picklable data, from a built LALR ``Lark``."""
    from lark.parsers.lalr_analysis import Shift

    table = lark_obj.parser.parser.parser.parse_table
    rule_ids = {}
    rules = []
    single = _single_child_rules(lark_obj.rules)
    unpushed = _unpushed_terminals(lark_obj.rules)
    for rule in lark_obj.rules:
        rule_ids[rule] = len(rules)
        rules.append(_describe_rule(rule, single, unpushed))
    states = {}
    for state, actions in table.states.items():
        row = {}
        for sym, (action, arg) in actions.items():
            row[str(sym)] = (True, arg) if action is Shift else (False, rule_ids[arg])
        states[state] = row
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
        "version": TABLES_VERSION, "rules": rules, "states": states,
        "start": table.start_states["start"], "end": table.end_states["start"],
        "keywords": keywords, "master": str(master), "unpushed": sorted(str(d) for d in unpushed),
        "terminals": sorted(str(t.name) for t in terminals),
        "singles": _single_characters([t for t in ordered if t.name != "WS"], ws),
    }


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


def _make_callback(desc, builder):
    """The reduction function of one grammar rule: lark's child filtering, then the builder method.

    It gets the rule's values from the value stack: a list of them, or the value itself when
    there is one (the engine then makes no list). It is None for a rule whose value is that
    one child; the builder method itself when the method takes the values as they are (a
    method marked :func:`~nndsl.syntax.builder.one_child` takes a lone value itself). Otherwise
    a small function compiled for the rule, such as ``def reduce(c): return method([c[0],
    *c[1], c[2]])`` for ``call: CALLEE _arg __call_star RPAR``: values lark drops are left
    out and the lists of inlined ``_rules`` spliced in, with no loop over a generic
    description at every reduction.
    """
    size, values, keep, splice, inline, expand1, name, _origin, pass_through = desc
    if pass_through:
        return None
    method = None if inline else getattr(builder, name)
    namespace = {"method": method}
    if values == 1:
        if not inline and not expand1 and keep == [0] and not splice and getattr(method, "one_child", False):
            return method
        c = "x"
        lines = ["out = [" + ("" if not keep else "*x" if splice else "x") + "]"]
    else:
        if keep == list(range(values)) and not splice and not expand1:
            return _as_is if inline else method  # the values are the arguments as they are
        c = "c"
        if keep and keep[0] in splice:
            # extend the first child's list in place rather than copy it: left recursion stays linear
            lines = [f"out = c[{keep[0]}]"]
            lines += [f"out.{'extend' if i in splice else 'append'}(c[{i}])" for i in keep[1:]]
        else:
            lines = ["out = [" + ", ".join(f"*c[{i}]" if i in splice else f"c[{i}]" for i in keep) + "]"]
    if inline:
        lines.append("return out")
    elif expand1:
        lines.append("return out[0] if len(out) == 1 else method(out)")
    else:
        lines.append("return method(out)")
    exec(f"def reduce({c}):\n    " + "\n    ".join(lines), namespace)
    return namespace["reduce"]


def _as_is(children):
    """The reduction of an inlined ``_rule`` that keeps all its children: the list of them."""
    return children


# How the lexer treats each terminal before the parser sees it.
_VALUE, _NAME, _DROPPED, _NEWLINE, _COMMENT, _END = range(6)
# Bracket roles: what a token does to the bracket stack once shifted.
_OPEN, _BRACE, _CLOSE, _BODY_WORD = range(4)


class Engine:
    """Lexes and parses text with tables made by :func:`tables_from_lark`.

    Tokens on the value stack are plain tuples ``(value, start, end, line, column)`` (a token
    never spans lines); punctuation the tree builder drops is pushed as None. A :class:`Token`
    is made only for an error message.
    """

    def __init__(self, tables: dict, builder) -> None:
        callbacks = [_make_callback(desc, builder) for desc in tables["rules"]]
        self.start_state = tables["start"]
        self.end_state = tables["end"]
        # state -> token type -> (True, next state) | (False, (size, values, callback, origin name, gotos)),
        # where gotos, filled as the parser meets them, maps the state below the reduced children
        # to the state after the reduction (see _goto)
        rows = {}
        rules = tables["rules"]
        for state, actions in tables["states"].items():
            row = {}
            for sym, (is_shift, arg) in actions.items():
                row[sym] = (True, arg) if is_shift else (False, (rules[arg][0], rules[arg][1], callbacks[arg], rules[arg][7], {}))
            rows[state] = row
        # lark numbers the states from 0: a list is indexed faster than a dict is looked up
        self.states = [rows[i] for i in range(len(rows))] if sorted(rows) == list(range(len(rows))) else rows
        self.keywords = dict(tables["keywords"])
        self.master = re.compile(tables["master"])
        roles = dict.fromkeys(_OPENERS, _OPEN)
        roles.update({"LBRACE": _BRACE, "RPAR": _CLOSE, "RSQB": _CLOSE, "RBRACE": _CLOSE})
        roles.update(dict.fromkeys(_BODY_KEYWORDS, _BODY_WORD))
        self.roles = roles
        # regex group number -> (terminal, how the lexer treats it, its bracket role); None for inner groups
        self.groups = [None] * (self.master.groups + 1)
        unpushed = set(tables["unpushed"])
        for name, index in self.master.groupindex.items():
            kind = {"NAME": _NAME, "_NL": _NEWLINE, "COMMENT": _COMMENT}.get(name, _DROPPED if name in unpushed else _VALUE)
            self.groups[index] = (name, kind, roles.get(name))
        # characters that are a whole token by themselves: taken without the regex
        self.singles = {ch: self.groups[self.master.groupindex[name]] for ch, name in tables["singles"].items()}
        self.allowed = set(tables["terminals"])

    def acceptable(self, state_stack) -> set:
        """The terminals the parser can really shift next from ``state_stack``.

        An LALR state's row also lists lookaheads merged in from other contexts; following
        each one through the reductions it triggers, on a copy of the stack, keeps only
        those the surrounding construct allows (for error messages only).
        """
        states = self.states
        out = set()
        for sym in states[state_stack[-1]]:
            if not sym.isupper():
                continue
            stack = list(state_stack)
            while True:
                action = states[stack[-1]].get(sym)
                if action is None:
                    break
                is_shift, arg = action
                if is_shift:
                    out.add(sym)
                    break
                size, _values, _callback, origin, _gotos = arg
                if origin == "start":
                    out.add(sym)  # only $END reduces the whole file
                    break
                if size:
                    del stack[-size:]
                goto = states[stack[-1]].get(origin)
                if goto is None:
                    break
                stack.append(goto[1])
        return out

    def _goto(self, below: int, origin: str, typ: str, gotos: dict) -> int:
        """The state after reducing to ``origin`` on top of ``below``, lookahead ``typ``.

        That is the goto, then the run of pass-through reductions (``expr: sum: product: ...``)
        the lookahead triggers there: each only changes the state on top, and the run depends
        on nothing but these three. Followed once, then remembered in ``gotos``, the reduce
        action's own table: the action fixes the rule and the lookahead, so only ``below``
        varies.
        """
        states = self.states
        end = states[below][origin][1]
        while True:
            action = states[end].get(typ)
            if action is None or action[0] or action[1][2] is not None or action[1][0] != 1:
                break
            end = states[below][action[1][3]][1]
        gotos[below] = end
        return end

    def _unexpected(self, typ, text, start, end, line, column, state_stack, stack) -> UnexpectedToken:
        """The error for a token the tables refuse, with the open brackets' tokens made readable."""
        for i, (kind, opener) in enumerate(stack):
            if type(opener) is tuple:
                opener_type = {"dict": "LBRACE", "body": "LBODY"}.get(kind, kind)
                stack[i] = (kind, _token(opener_type, opener))
        token = Token(typ, text[start:end], start, line, column, line, column + end - start, end)
        return UnexpectedToken(token, self.acceptable(state_stack))

    def parse(self, text: str, comments: list, stack: list):
        """Parse ``text``; append comments to ``comments`` as ``(text, start, end, line, column)``;
        ``stack`` mirrors the open brackets.

        One loop lexes a token and feeds it to the automaton, the end of the text last: its
        reductions end in lark's end state, which has no actions. The lexer keeps only the line
        number and where the line starts; columns are computed from offsets.
        """
        states = self.states
        keywords = self.keywords
        roles = self.roles
        # one string object per distinct name: a large tree then holds far fewer objects
        share = {}.setdefault
        groups = self.groups
        single_get = self.singles.get
        goto = self._goto
        match = self.master.match
        state = self.start_state  # the top of state_stack
        end_state = self.end_state
        typ = None
        state_stack = [state]
        value_stack: list = []
        append_state = state_stack.append
        append_value = value_stack.append
        pos = 0  # where the previous token ended
        line = 1
        line_start = 0
        body_pending = -1  # the bracket depth of a `model`/`block`/`repeat` still waiting for its `{`
        last_was_nl = True

        while True:
            # ---- lex one significant token
            try:
                single = single_get(text[pos])
            except IndexError:  # the end of the text, which the regex does not match either
                single = None
            if single is not None:
                typ, kind, role = single
                start = pos
                pos += 1
            else:
                m = match(text, pos)
                if m is not None:
                    typ, kind, role = groups[m.lastindex]
                    start = m.end(1)  # after the spaces
                    pos = m.end()
                else:  # spaces before the end, or a character no terminal allows
                    while pos < len(text) and text[pos] in " \t\f\ufeff":
                        pos += 1
                    if pos < len(text):
                        raise UnexpectedCharacters(text, pos, line, pos - line_start + 1, allowed=self.acceptable(state_stack))
                    if typ == "$END":
                        raise AssertionError("the parse tables shifted the end of the text")
                    typ, kind, role = "$END", _END, None
                    start = pos
            if kind == _VALUE:
                tok = (text[start:pos], start, pos, line, start - line_start + 1)
                last_was_nl = False
            elif kind == _NAME:
                value = text[start:pos]
                value = share(value, value)  # the first string of this text
                tok = (value, start, pos, line, start - line_start + 1)
                last_was_nl = False
                if value in keywords:
                    typ = keywords[value]
                    role = roles.get(typ)
            elif kind == _DROPPED:
                tok = None  # punctuation the tree builder drops: only an error message would look at it
                last_was_nl = False
            elif kind == _NEWLINE:
                line += 1
                line_start = pos
                if last_was_nl or (stack and stack[-1][0] != "body"):
                    continue
                tok = None
                last_was_nl = True
            elif kind == _COMMENT:
                comments.append((text[start:pos], start, pos, line, start - line_start + 1))
                continue
            else:  # the end of the text: fed like a token, until the whole file is reduced
                tok = None
            if role is not None:
                if role == _BRACE:
                    if body_pending == len(stack):
                        body_pending = -1
                        typ = "LBODY"
                elif role == _CLOSE:
                    if stack:
                        bracket = stack[-1][0]
                        if bracket == "body":
                            if typ == "RBRACE":
                                typ = "RBODY"
                            else:
                                role = None  # a ')' or ']' cannot close a body: the parser will say so
                        elif (bracket == "dict") != (typ == "RBRACE"):
                            role = None  # the wrong closer: left to the parser's error
                    else:
                        role = None
                elif role == _BODY_WORD:
                    body_pending = len(stack)
            # ---- feed it to the LALR automaton
            while True:
                try:
                    is_shift, arg = states[state][typ]
                except KeyError:
                    if state == end_state:  # lark's end state has no actions: the file is reduced
                        return value_stack[0]
                    raise self._unexpected(typ, text, start, pos, *Source("", text).position(start), state_stack, stack) from None
                if is_shift:
                    state = arg
                    append_state(state)
                    if tok is not None:  # punctuation every rule drops has no value
                        append_value(tok)
                    break
                size, values, callback, origin, gotos = arg
                # the rule's values: one is replaced in place (a pass-through rule keeps it as it is)
                if values == 1:
                    if callback is not None:
                        value_stack[-1] = callback(value_stack[-1])
                elif values:
                    children = value_stack[-values:]
                    del value_stack[-values:]
                    append_value(callback(children))
                else:
                    append_value(callback([]))
                # its states: the goto from the state below them
                if size == 1:
                    state = gotos.get(state_stack[-2])
                    if state is None:
                        state = goto(state_stack[-2], origin, typ, gotos)
                    state_stack[-1] = state
                else:
                    if size:
                        del state_stack[-size:]
                    below = state_stack[-1]
                    state = gotos.get(below)
                    if state is None:
                        state = goto(below, origin, typ, gotos)
                    append_state(state)
            # ---- the brackets it opens or closes
            if role is not None:
                if role == _CLOSE:
                    stack.pop()
                elif role != _BODY_WORD:
                    stack.append(("body" if typ == "LBODY" else "dict" if typ == "LBRACE" else typ, tok))
                    if len(stack) > MAX_BRACKETS:
                        tok_line, column = Source("", text).position(start)
                        raise SyntaxProblem(
                            f"expected brackets nested at most {MAX_BRACKETS} deep; received deeper nesting",
                            Span(start, pos, tok_line, column, tok_line, column + pos - start),
                            code="too-deep", hint="split the expression with let variables",
                        )


def _token(typ: str, tok: tuple) -> Token:
    """A :class:`Token` for error messages, from the engine's ``(value, start, end, line, column)``."""
    value, start, end, line, column = tok
    return Token(typ, value, start, line, column, line, column + end - start, end)
