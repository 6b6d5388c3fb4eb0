"""The language server: pygls wiring of the analyses in this package to LSP requests.

Each open document is analysed when it is opened and on every change, and its diagnostics are
published at once. Requests (hover, completion, definition, references, rename, outline,
formatting, code actions) read the latest analysis; none imports TensorFlow.
"""

from __future__ import annotations

import re

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from .. import ast
from ..errors import Diagnostic
from ..version import __version__
from ..vocabulary import RESERVED
from .analysis import Analyser, Analysis
from .completion import Item, complete, declared_names
from .positions import Positions
from .symbols import Occurrence

_SUGGESTION = re.compile(r"did you mean '([^']+)'\?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}
_ITEM_KINDS = {
    "keyword": lsp.CompletionItemKind.Keyword, "class": lsp.CompletionItemKind.Class,
    "function": lsp.CompletionItemKind.Function, "variable": lsp.CompletionItemKind.Variable,
    "property": lsp.CompletionItemKind.Property, "value": lsp.CompletionItemKind.Value,
}
_SYMBOL_KINDS = {
    ast.Let: lsp.SymbolKind.Variable, ast.DataDecl: lsp.SymbolKind.Field, ast.ModelDecl: lsp.SymbolKind.Class,
    ast.BlockDecl: lsp.SymbolKind.Function, ast.Setting: lsp.SymbolKind.Property, ast.Step: lsp.SymbolKind.Event,
}


class NnLanguageServer(LanguageServer):
    """The ``.nn`` language server: one :class:`~nndsl.lsp.analysis.Analysis` per open document."""

    def __init__(self) -> None:
        super().__init__("nndsl", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.analyses: dict[str, Analysis] = {}
        self.analysers: dict[str, Analyser] = {}

    # ------------------------------------------------------------ analyses
    def encoding(self) -> str:
        enc = self.workspace.position_encoding
        return str(getattr(enc, "value", enc) or "utf-16")

    def refresh(self, uri: str) -> Analysis:
        """Analyse the document's current text and publish its diagnostics."""
        doc = self.workspace.get_text_document(uri)
        analyser = self.analysers.get(uri)
        if analyser is None:
            analyser = self.analysers[uri] = Analyser(_display_name(uri))
        analysis = analyser.update(doc.source)
        self.analyses[uri] = analysis
        positions = Positions(analysis.source, self.encoding())
        diagnostics = [_diagnostic(d, uri, positions) for d in analysis.diagnostics]
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=doc.version))
        return analysis

    def analysis(self, uri: str) -> Analysis:
        found = self.analyses.get(uri)
        return found if found is not None else self.refresh(uri)

    def positions(self, analysis: Analysis) -> Positions:
        return Positions(analysis.source, self.encoding())


def _display_name(uri: str) -> str:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def _range(positions: Positions, span) -> lsp.Range:
    if span is None:
        return lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    (l1, c1), (l2, c2) = positions.range(span)
    return lsp.Range(lsp.Position(l1, c1), lsp.Position(l2, c2))


def _diagnostic(d: Diagnostic, uri: str, positions: Positions) -> lsp.Diagnostic:
    """An nndsl diagnostic as LSP's: notes with a place become related information; a
    "did you mean" hint becomes ``data.suggestion``, which the quick fix applies."""
    message = d.message
    related = []
    for note in d.notes:
        if note.span is not None:
            related.append(lsp.DiagnosticRelatedInformation(lsp.Location(uri, _range(positions, note.span)), note.message))
        else:
            message += f"\nnote: {note.message}"
    data = None
    if d.hint:
        message += f"\nhint: {d.hint}"
        m = _SUGGESTION.search(d.hint)
        if m and d.span is not None:
            written = d.source.text[d.span.start : d.span.end] if d.source is not None else ""
            if _IDENTIFIER.match(written):
                data = {"suggestion": m.group(1)}
    return lsp.Diagnostic(
        range=_range(positions, d.span), message=message, severity=_SEVERITY.get(d.severity, lsp.DiagnosticSeverity.Information),
        code=d.code, source="nndsl", related_information=related or None, data=data,
    )


server = NnLanguageServer()


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: NnLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: NnLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: NnLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.analyses.pop(uri, None)
    ls.analysers.pop(uri, None)
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _offset(ls: NnLanguageServer, analysis: Analysis, position: lsp.Position) -> int:
    return ls.positions(analysis).offset(position.line, position.character)


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["(", "=", "[", ","]))
def completion(ls: NnLanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    uri = params.text_document.uri
    analysis = ls.analysis(uri)
    offset = _offset(ls, analysis, params.position)
    items = complete(analysis.source.text, offset, declared_names(analysis))
    return lsp.CompletionList(is_incomplete=False, items=[_item(i) for i in items])


def _item(i: Item) -> lsp.CompletionItem:
    return lsp.CompletionItem(
        label=i.label, kind=_ITEM_KINDS.get(i.kind, lsp.CompletionItemKind.Text), detail=i.detail or None,
        documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, i.doc) if i.doc else None, insert_text=i.insert,
    )


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: NnLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
    from .hover import hover as describe

    analysis = ls.analysis(params.text_document.uri)
    found = describe(analysis, _offset(ls, analysis, params.position))
    if found is None:
        return None
    text, span = found
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text), _range(ls.positions(analysis), span))


def _occurrence(ls: NnLanguageServer, uri: str, position: lsp.Position) -> tuple[Analysis, Occurrence | None]:
    analysis = ls.analysis(uri)
    if analysis.symbols is None:
        return analysis, None
    return analysis, analysis.symbols.at(_offset(ls, analysis, position))


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: NnLanguageServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    uri = params.text_document.uri
    analysis, occ = _occurrence(ls, uri, params.position)
    target = analysis.symbols.definition(occ) if occ is not None else None
    return lsp.Location(uri, _range(ls.positions(analysis), target.span)) if target is not None else None


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: NnLanguageServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    uri = params.text_document.uri
    analysis, occ = _occurrence(ls, uri, params.position)
    if occ is None:
        return []
    positions = ls.positions(analysis)
    found = analysis.symbols.references(occ, include_declaration=params.context.include_declaration)
    return [lsp.Location(uri, _range(positions, o.span)) for o in found]


@server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
def prepare_rename(ls: NnLanguageServer, params: lsp.PrepareRenameParams) -> lsp.Range | None:
    analysis, occ = _occurrence(ls, params.text_document.uri, params.position)
    return _range(ls.positions(analysis), occ.span) if occ is not None else None


@server.feature(lsp.TEXT_DOCUMENT_RENAME)
def rename(ls: NnLanguageServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
    uri = params.text_document.uri
    analysis, occ = _occurrence(ls, uri, params.position)
    if occ is None:
        return None
    new = params.new_name
    if not _IDENTIFIER.match(new) or new in RESERVED:
        raise JsonRpcInvalidParams(f"expected a name (letters, digits and _, not a reserved word); received {new!r}")
    if occ.scope is None and new in analysis.symbols.declared and new != occ.name:
        raise JsonRpcInvalidParams(f"expected a new name; received '{new}', already declared in this file")
    positions = ls.positions(analysis)
    edits = [lsp.TextEdit(_range(positions, o.span), new) for o in analysis.symbols.references(occ)]
    return lsp.WorkspaceEdit(changes={uri: edits})


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: NnLanguageServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    analysis = ls.analysis(params.text_document.uri)
    if analysis.program is None:
        return []
    positions = ls.positions(analysis)
    out = []
    for stmt in analysis.program.statements:
        name, selection = _symbol_name(stmt)
        children = None
        if isinstance(stmt, (ast.ModelDecl, ast.BlockDecl)):
            children = [_body_symbol(item, positions) for item in stmt.body]
        out.append(lsp.DocumentSymbol(
            name=name, kind=_SYMBOL_KINDS[type(stmt)], range=_range(positions, stmt.span),
            selection_range=_range(positions, selection), children=children,
        ))
    return out


def _symbol_name(stmt) -> tuple[str, object]:
    if isinstance(stmt, ast.Step):
        target = f" {stmt.target.id}" if stmt.target is not None else ""
        return f"{stmt.verb}{target}", stmt.verb_span
    return stmt.name, stmt.name_span


def _body_symbol(item, positions: Positions) -> lsp.DocumentSymbol:
    if isinstance(item, ast.Layer):
        return lsp.DocumentSymbol(name=item.call.name, kind=lsp.SymbolKind.Object, range=_range(positions, item.span),
                                  selection_range=_range(positions, item.call.name_span))
    if isinstance(item, ast.Property):
        return lsp.DocumentSymbol(name=item.name, kind=lsp.SymbolKind.Property, range=_range(positions, item.span),
                                  selection_range=_range(positions, item.name_span))
    return lsp.DocumentSymbol(name="repeat", kind=lsp.SymbolKind.Array, range=_range(positions, item.span),
                              selection_range=_range(positions, item.span),
                              children=[_body_symbol(i, positions) for i in item.body])


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: NnLanguageServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
    from ..formatter import format_program

    analysis = ls.analysis(params.text_document.uri)
    if analysis.program is None:
        return None  # the text does not parse: the diagnostics say where
    formatted = format_program(analysis.program)
    text = analysis.source.text
    if formatted == text:
        return []
    end = ls.positions(analysis).position(len(text))
    return [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), lsp.Position(*end)), formatted)]


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
def code_actions(ls: NnLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    actions = []
    for d in params.context.diagnostics:
        suggestion = d.data.get("suggestion") if isinstance(d.data, dict) else None
        if not suggestion or d.source != "nndsl":
            continue
        actions.append(lsp.CodeAction(
            title=f"Replace with '{suggestion}'", kind=lsp.CodeActionKind.QuickFix, diagnostics=[d], is_preferred=True,
            edit=lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(d.range, suggestion)]}),
        ))
    return actions


def start() -> None:
    """Serve LSP over stdin and stdout until the client says exit."""
    server.start_io()
