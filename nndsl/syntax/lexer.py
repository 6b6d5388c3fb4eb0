"""The bracket rules of the lexer, shared by the engine and its error messages.

Newlines separate statements and body items, but inside ``()``, ``[]`` and dict ``{}`` they
are free: the engine (:mod:`nndsl.syntax.engine`) drops them there. A ``{`` opens a *body*
when it follows ``model NAME``, ``block NAME(...)`` or ``repeat COUNT`` at the same bracket
depth (the engine retypes it ``LBODY``, its closing brace ``RBODY``); every other ``{`` opens
a dict. The grammar declares ``LBODY``/``RBODY`` without a pattern for that reason.
"""

from __future__ import annotations

from ..vocabulary import BODY_OPENERS, TERMINALS

#: The terminals that open a bracket, and the character that closes it.
OPENERS = {"LPAR": ")", "LSQB": "]", "CALLEE": ")"}
#: The keyword terminals after which a ``{`` at the same depth opens a body.
BODY_KEYWORDS = frozenset(TERMINALS[word] for word in BODY_OPENERS)
