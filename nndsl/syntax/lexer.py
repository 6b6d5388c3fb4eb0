"""The post-lexer: drops newlines inside brackets and tells body braces from dict braces.

Newlines separate statements and body items, but inside ``()``, ``[]`` and dict ``{}`` they
are free. A ``{`` opens a *body* when it follows ``model NAME``, ``block NAME(...)`` or
``repeat COUNT`` at the same bracket depth; every other ``{`` opens a dict.
"""

from __future__ import annotations

_OPENERS = {"LPAR": ")", "LSQB": "]", "CALLEE": ")"}
_BODY_KEYWORDS = frozenset({"MODEL", "BLOCK", "REPEAT"})


class BracketPostLex:
    """A lark post-lexer. ``process`` yields the filtered stream and records the open brackets."""

    always_accept = ()

    def __init__(self) -> None:
        self.stack: list[tuple[str, Token]] = []

    def process(self, stream):
        from lark import Token
        stack: list[tuple[str, Token]] = []
        self.stack = stack
        body_pending = -1  # bracket depth at which a body keyword was seen, or -1
        last_was_nl = True
        for tok in stream:
            t = tok.type
            if t == "_NL":
                if stack and stack[-1][0] != "body":
                    continue
                if last_was_nl:
                    continue
                last_was_nl = True
                yield tok
                continue
            last_was_nl = False
            # The stack is updated after the token is handed over, so when the parser
            # rejects a token the stack still shows the brackets open before it.
            push = None
            pop = False
            if t in _OPENERS:
                push = (t, tok)
            elif t == "LBRACE":
                if body_pending == len(stack):
                    body_pending = -1
                    push = ("body", tok)
                    tok = Token.new_borrow_pos("LBODY", tok.value, tok)
                else:
                    push = ("dict", tok)
            elif t in ("RPAR", "RSQB", "RBRACE"):
                if stack:
                    kind = stack[-1][0]
                    if kind == "body":
                        if t == "RBRACE":
                            pop = True
                            tok = Token.new_borrow_pos("RBODY", tok.value, tok)
                    elif (kind == "dict") == (t == "RBRACE"):
                        pop = True
            elif t in _BODY_KEYWORDS:
                body_pending = len(stack)
            yield tok
            if push is not None:
                stack.append(push)
            elif pop:
                stack.pop()
