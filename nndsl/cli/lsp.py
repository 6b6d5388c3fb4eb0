"""``nndsl lsp``: the language server for editors, over stdin and stdout."""

from __future__ import annotations

from ..errors import UsageError

INSTALL = 'pip install "nndsl[lsp]"'


def add_parsers(sub) -> None:
    s = sub.add_parser("lsp", help="run the language server for editors (LSP over stdin/stdout; needs nndsl[lsp])")
    s.add_argument("--stdio", action="store_true", help="talk over stdin and stdout (the default and only transport)")
    s.set_defaults(func=cmd_lsp)


def cmd_lsp(args) -> int:
    """Serve until the editor says exit."""
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"the language server needs pygls and lsprotocol; received {exc}; install them with: {INSTALL}") from None
    from ..lsp.server import start

    start()
    return 0
