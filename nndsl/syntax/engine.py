"""A fast lexer and LALR driver over the parse tables lark builds from ``grammars/nn.lark``.

lark analyses the grammar ahead of time (:mod:`nndsl.tools.gen_tables` writes the committed
:mod:`nndsl.syntax.tables`, so parsing never imports lark), and :class:`Engine` runs the
tables in one tight loop: a single master regex for the terminals (one-
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
from .lexer import BODY_KEYWORDS, OPENERS


class UnexpectedToken(Exception):
    """The parser met a token its tables do not allow here.

    Like lark's ``UnexpectedToken``, which carries its parser state, it carries what the error
    message needs: ``expected``, the terminals the parser could shift instead, and
    ``brackets``, the brackets open at the token, outermost first, as ``(kind, Token)`` where
    kind is a terminal name (``LPAR``, ``CALLEE``, ``LSQB``) or ``dict`` or ``body``.
    """

    def __init__(self, token, expected, brackets=()) -> None:
        super().__init__(f"unexpected {token!r}")
        self.token = token
        self.expected = set(expected)
        self.brackets = list(brackets)


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
    """Lexes and parses text with the tables of :mod:`nndsl.syntax.tables`.

    Tokens on the value stack are plain tuples ``(value, start, end, line, column)`` (a token
    never spans lines); punctuation the tree builder drops is pushed as None. A :class:`Token`
    is made only for an error message.

    The engine's ``builder`` keeps state for the parse under way (see
    :class:`~nndsl.syntax.builder.Builder`), so one engine runs one parse at a time; the parser
    keeps one engine per parse running at once.
    """

    def __init__(self, tables: dict, builder) -> None:
        self.builder = builder
        callbacks = [_make_callback(desc, builder) for desc in tables["rules"]]
        self.start_state = tables["start"]
        self.end_state = tables["end"]
        # state -> token type -> (True, next state) | (False, (size, values, callback, origin name, gotos)),
        # where gotos, filled as the parser meets them, maps the state below the reduced children
        # to the state after the reduction (see _goto)
        # (the states are numbered from 0: a list is indexed faster than a dict is looked up)
        rules = tables["rules"]
        self.states = [
            {
                sym: (True, arg) if is_shift else (False, (rules[arg][0], rules[arg][1], callbacks[arg], rules[arg][7], {}))
                for sym, (is_shift, arg) in actions.items()
            }
            for actions in tables["states"]
        ]
        self.keywords = dict(tables["keywords"])
        self.master = re.compile(tables["master"])
        roles = dict.fromkeys(OPENERS, _OPEN)
        roles.update({"LBRACE": _BRACE, "RPAR": _CLOSE, "RSQB": _CLOSE, "RBRACE": _CLOSE})
        roles.update(dict.fromkeys(BODY_KEYWORDS, _BODY_WORD))
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
        brackets = [
            (kind, _token({"dict": "LBRACE", "body": "LBODY"}.get(kind, kind), opener)) for kind, opener in stack
        ]
        token = Token(typ, text[start:end], start, line, column, line, column + end - start, end)
        return UnexpectedToken(token, self.acceptable(state_stack), brackets)

    def parse(self, text: str, comments: list):
        """Parse ``text``; append comments to ``comments`` as ``(text, start, end, line, column)``.

        One loop lexes a token and feeds it to the automaton, the end of the text last: its
        reductions end in lark's end state, which has no actions. The lexer keeps only the line
        number and where the line starts; columns are computed from offsets.

        Raises:
            UnexpectedCharacters: at text no terminal matches.
            UnexpectedToken: at a token the grammar does not allow there, with the open brackets.
            SyntaxProblem: from the builder, or for brackets nested too deep.
        """
        self.builder.begin()
        try:
            return self._run(text, comments)
        finally:
            self.builder.end()

    def _run(self, text: str, comments: list):
        """The loop of :meth:`parse`."""
        stack: list = []  # the open brackets, innermost last: (kind, token tuple)
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
