"""A fast lexer and LALR driver over the parse tables lark builds from ``grammars/nn.lark``.

lark analyses the grammar; :func:`tables_from_lark` turns its LALR tables and terminals into
plain data (cached on disk by :mod:`nndsl.syntax.parser`, so a warm start never imports lark),
and :class:`Engine` runs them in one tight loop: a single master regex for the terminals, the
bracket post-lexing of :mod:`nndsl.syntax.lexer` inlined, and lark's child-filtering rules
followed by :class:`~nndsl.syntax.builder.Builder` on every reduction. Errors are raised as
:class:`UnexpectedCharacters` / :class:`UnexpectedToken` and translated in one place.
"""

from __future__ import annotations

import re

from ..source import Span
from .builder import MAX_BRACKETS, SyntaxProblem
from .lexer import _BODY_KEYWORDS, _OPENERS

TABLES_VERSION = 2  # bump when the layout of `tables_from_lark`'s result changes


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
    """A lexed token: cheaper to make than lark's ``str`` subclass, with the same position attributes."""

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


def _describe_rule(rule) -> tuple:
    """A lark rule as plain data: (size, keep, splice, inline, expand1, name, origin)."""
    exp = rule.expansion
    keep = [i for i, sym in enumerate(exp) if not (sym.is_term and sym.filter_out)]
    splice = [i for i in keep if not exp[i].is_term and exp[i].name.startswith("_")]
    inline = rule.origin.name.startswith("_")
    expand1 = bool(rule.options.expand1 and not rule.alias)
    # plain str: lark's names are Token objects, and unpickling those would import lark
    return (len(exp), keep, splice, inline, expand1, str(rule.alias or rule.origin.name), str(rule.origin.name))


def tables_from_lark(lark_obj) -> dict:
    """Everything :class:`Engine` needs, as plain picklable data, from a built LALR ``Lark``."""
    from lark.parsers.lalr_analysis import Shift

    table = lark_obj.parser.parser.parser.parse_table
    rule_ids = {}
    rules = []
    for rule in lark_obj.rules:
        rule_ids[rule] = len(rules)
        rules.append(_describe_rule(rule))
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
    master = f"(?:{ws})?(?:" + "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in ordered if t.name != "WS") + ")"
    dropped = sorted({sym.name for rule in lark_obj.rules for sym in rule.expansion if sym.is_term and sym.filter_out} - {"_NL"})
    return {
        "version": TABLES_VERSION, "rules": rules, "states": states,
        "start": table.start_states["start"], "end": table.end_states["start"],
        "keywords": keywords, "master": str(master), "dropped": [str(d) for d in dropped],
        "terminals": sorted(str(t.name) for t in terminals),
    }


def _make_callback(desc, builder):
    """The reduction function of one grammar rule: lark's child filtering, then the builder method."""
    size, keep, splice, inline, expand1, name, _origin = desc
    if expand1 and len(keep) == 1 and not splice:
        return None  # a pass-through such as `expr: sum`: the child is the result
    method = None if inline else getattr(builder, name)
    all_kept = len(keep) == size

    def gather(children):
        if not splice:
            return children if all_kept else [children[i] for i in keep]
        out = None
        for i in keep:
            child = children[i]
            if i in splice:
                if out is None:
                    out = child  # reuse the spliced list: left recursion stays linear
                else:
                    out.extend(child)
            else:
                if out is None:
                    out = []
                out.append(child)
        return out if out is not None else []

    if inline:
        return gather
    if expand1:
        def expand_one(children):
            out = gather(children)
            return out[0] if len(out) == 1 else method(out)
        return expand_one
    return lambda children: method(gather(children))


class Engine:
    """Lexes and parses text with tables made by :func:`tables_from_lark`."""

    def __init__(self, tables: dict, builder) -> None:
        callbacks = [_make_callback(desc, builder) for desc in tables["rules"]]
        self.start_state = tables["start"]
        self.end_state = tables["end"]
        # state -> token type -> (True, next state) | (False, (size, callback, origin name))
        self.states = {}
        rules = tables["rules"]
        for state, actions in tables["states"].items():
            row = {}
            for sym, (is_shift, arg) in actions.items():
                row[sym] = (True, arg) if is_shift else (False, (rules[arg][0], callbacks[arg], rules[arg][6]))
            self.states[state] = row
        self.keywords = dict(tables["keywords"])
        self.master = re.compile(tables["master"])
        # Punctuation the tree builder drops never becomes a token object.
        self.dropped = frozenset(tables["dropped"])
        self.allowed = set(tables["terminals"])
        self._unit_cache: dict = {}

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
                size, _callback, origin = arg
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

    def parse(self, text: str, comments: list, stack: list):
        """Parse ``text``; append COMMENT tokens to ``comments``; ``stack`` mirrors the open brackets."""
        states = self.states
        keywords = self.keywords
        match = self.master.match
        state_stack = [self.start_state]
        value_stack: list = []
        pos = 0
        n = len(text)
        line = 1
        line_start = 0
        body_pending = -1
        last_was_nl = True
        unit_cache = self._unit_cache

        def unit_chain(below, top, typ, origin):
            # A run of pass-through reductions depends only on the state below, the state on top and
            # the lookahead: follow it once, then remember where it ends.
            key = (below, top, typ)
            end = unit_cache.get(key)
            if end is None:
                end = states[below][origin][1]
                while True:
                    action = states[end].get(typ)
                    if action is None or action[0] or action[1][1] is not None:
                        break
                    end = states[below][action[1][2]][1]
                unit_cache[key] = end
            return end

        openers = _OPENERS
        dropped = self.dropped
        body_keywords = _BODY_KEYWORDS
        append_state = state_stack.append
        append_value = value_stack.append

        while True:
            # ---- lex one significant token
            if pos >= n:
                col = n - line_start + 1
                tok = Token("$END", "", n, line, col, line, col, n)
                typ = "$END"
                push = None
                pop = False
            else:
                m = match(text, pos)
                if m is None:
                    while pos < n and text[pos] in " \t\f\ufeff":
                        pos += 1
                    if pos >= n:
                        continue
                    raise UnexpectedCharacters(text, pos, line, pos - line_start + 1, allowed=self.acceptable(state_stack))
                typ = m.lastgroup
                end = m.end()
                pos = m.start(typ)
                value = m.group(typ)
                col = pos - line_start + 1
                if typ == "_NL":
                    tok = Token(typ, value, pos, line, col, line, col + len(value), end)
                    line += 1
                    line_start = pos = end
                    if (stack and stack[-1][0] != "body") or last_was_nl:
                        continue
                    last_was_nl = True
                    push = None
                    pop = False
                else:
                    if typ == "COMMENT":
                        comments.append(Token(typ, value, pos, line, col, line, col + len(value), end))
                        pos = end
                        continue
                    if typ == "NAME":
                        typ = keywords.get(value, "NAME")
                    elif typ in dropped:
                        # only an error message would ever look at it: keep its place, not an object.
                        # The automaton loop below is the main one inlined again on purpose: a
                        # shared function would cost a call per token on the hottest path.
                        tok = None
                        pos_of_dropped = pos
                        pos = end
                        last_was_nl = False
                        try:
                            while True:
                                is_shift, arg = states[state_stack[-1]][typ]
                                if is_shift:
                                    append_state(arg)
                                    append_value(None)
                                    break
                                size, callback, origin = arg
                                if callback is None:
                                    state_stack[-1] = unit_chain(state_stack[-2], state_stack[-1], typ, origin)
                                    continue
                                if size:
                                    children = value_stack[-size:]
                                    del state_stack[-size:]
                                    del value_stack[-size:]
                                else:
                                    children = []
                                append_value(callback(children))
                                append_state(states[state_stack[-1]][origin][1])
                        except KeyError:
                            tok = Token(typ, value, pos_of_dropped, line, col, line, col + len(value), end)
                            raise UnexpectedToken(tok, self.acceptable(state_stack)) from None
                        continue
                    tok = Token(typ, value, pos, line, col, line, col + len(value), end)
                    pos = end
                    last_was_nl = False
                    push = None
                    pop = False
                    if typ in openers:
                        push = (typ, tok)
                    elif typ == "LBRACE":
                        if body_pending == len(stack):
                            body_pending = -1
                            push = ("body", tok)
                            typ = tok.type = "LBODY"
                        else:
                            push = ("dict", tok)
                    elif typ == "RPAR" or typ == "RSQB" or typ == "RBRACE":
                        if stack:
                            kind = stack[-1][0]
                            if kind == "body":
                                if typ == "RBRACE":
                                    pop = True
                                    typ = tok.type = "RBODY"
                            elif (kind == "dict") == (typ == "RBRACE"):
                                pop = True
                    elif typ in body_keywords:
                        body_pending = len(stack)
            # ---- feed it to the LALR automaton
            while True:
                try:
                    is_shift, arg = states[state_stack[-1]][typ]
                except KeyError:
                    raise UnexpectedToken(tok, self.acceptable(state_stack)) from None
                if is_shift:
                    append_state(arg)
                    append_value(tok)
                    break
                size, callback, origin = arg
                if callback is None:
                    # pass-through rules of one child (expr: sum: product: ...): only the state changes
                    state_stack[-1] = unit_chain(state_stack[-2], state_stack[-1], typ, origin)
                    continue
                if size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                else:
                    children = []
                append_value(callback(children))
                append_state(states[state_stack[-1]][origin][1])
                if typ == "$END" and len(value_stack) == 1 and origin == "start":
                    return value_stack[0]
            if push is not None:
                stack.append(push)
                if len(stack) > MAX_BRACKETS:
                    raise SyntaxProblem(
                        f"expected brackets nested at most {MAX_BRACKETS} deep; received deeper nesting",
                        Span(tok.start_pos, tok.end_pos, tok.line, tok.column, tok.end_line, tok.end_column),
                        code="too-deep", hint="split the expression with let variables",
                    )
            elif pop:
                stack.pop()
