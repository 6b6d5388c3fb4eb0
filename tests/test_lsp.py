"""The language server, driven over stdio by a real LSP client (pytest-lsp): no mocks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types as lsp  # noqa: E402  (after the importorskip above)
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

SERVER = [sys.executable, "-m", "nndsl", "lsp"]

PROGRAM = textwrap.dedent("""\
    let units = 64
    data d = csv("donn\u00e9es-\U0001f600.csv", targt="y")
    block pair(units, rate=0.1) {
        Dense(units, activation=relu)
        Dropout(rate)
    }
    model m {
        Input(shape=(4,))
        Dense(units, activaton=relu)
        pair(8)
        Dense(1)
        loss mse
        optimizer Adamm()
    }
    train m on dd epochs=2
""")

VALID = textwrap.dedent("""\
    let units = 64
    data d = csv("train.csv", target="y")
    block pair(units, rate=0.1) {
        Dense(units, activation=relu)
        Dropout(rate)
    }
    model m {
        Input(shape=(4,))
        Dense(units, activation=relu)
        pair(8)
        Dense(1)
        loss mse
        optimizer Adam(learning_rate=0.01)
    }
    train m on d epochs=2
""")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


_opened = iter(range(1_000_000))


async def open_doc(client: LanguageClient, text: str) -> str:
    """Open ``text`` as a new document and wait for its diagnostics; its URI."""
    uri = f"file:///project/doc{next(_opened)}.nn"
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="nn", version=1, text=text))
    )
    await diagnostics_for(client, uri)
    return uri


async def diagnostics_for(client: LanguageClient, uri: str) -> list[lsp.Diagnostic]:
    while True:
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if uri in client.diagnostics:
            return client.diagnostics[uri]


def pos(text: str, needle: str, delta: int = 0) -> lsp.Position:
    """The UTF-16 position of ``needle`` (plus ``delta`` characters) in ``text``."""
    offset = text.index(needle) + delta
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return lsp.Position(line=line, character=len(text[start:offset].encode("utf-16-le")) // 2)


# ---------------------------------------------------------------- diagnostics


@pytest.mark.asyncio(loop_scope="module")
async def test_diagnostics_on_open_have_codes_ranges_and_hints(client: LanguageClient):
    uri = await open_doc(client, PROGRAM)
    found = {(d.code, d.range.start.line, d.range.start.character, d.range.end.character) for d in client.diagnostics[uri]}
    # line 2's 'targt' follows a non-ASCII string: "é" is one UTF-16 unit, the emoji two
    assert ("unknown-argument", 1, 31, 36) in found
    assert ("unknown-argument", 8, 17, 26) in found
    assert ("unknown-name", 12, 14, 19) in found
    assert ("unknown-name", 14, 11, 13) in found
    by_code = {d.range.start.line: d for d in client.diagnostics[uri]}
    assert by_code[8].severity == lsp.DiagnosticSeverity.Error and by_code[8].source == "nndsl"
    assert "did you mean 'activation'?" in by_code[8].message
    assert by_code[8].data == {"suggestion": "activation"}


@pytest.mark.asyncio(loop_scope="module")
async def test_diagnostics_follow_changes_and_syntax_errors(client: LanguageClient):
    uri = await open_doc(client, VALID)
    assert list(client.diagnostics[uri]) == []
    # an incremental change: misspell `relu` on line 9
    start = pos(VALID, "relu)\n    pair")
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(start=start, end=lsp.Position(line=start.line, character=start.character + 4)), text="reluu"
                )
            ],
        )
    )
    diags = await diagnostics_for_version(client, uri, 2)
    assert [(d.code, d.range.start.line) for d in diags] == [("unknown-name", 8)]
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text="model m {\n    Dense(\n")],
        )
    )
    diags = await diagnostics_for_version(client, uri, 3)
    assert diags and all(d.severity == lsp.DiagnosticSeverity.Error for d in diags)


async def diagnostics_for_version(client: LanguageClient, uri: str, version: int) -> list[lsp.Diagnostic]:
    while True:
        params = await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if params.uri == uri and params.version == version:
            return list(params.diagnostics)


@pytest.mark.asyncio(loop_scope="module")
async def test_an_edit_after_non_ascii_text_lands_where_the_client_means(client: LanguageClient):
    uri = await open_doc(client, PROGRAM)
    # 'targt' stands at UTF-16 column 31 of line 2, after "é" (one unit) and an emoji (two)
    start = lsp.Position(line=1, character=31)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                lsp.TextDocumentContentChangePartial(range=lsp.Range(start=start, end=lsp.Position(line=1, character=36)), text="target")
            ],
        )
    )
    diags = await diagnostics_for_version(client, uri, 2)
    assert 1 not in {d.range.start.line for d in diags}
    hover = await client.text_document_hover_async(
        lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=1, character=32))
    )
    assert hover.range.start == start and hover.range.end == lsp.Position(line=1, character=37)
    assert "target" in hover.contents.value


@pytest.mark.asyncio(loop_scope="module")
async def test_duplicate_name_points_at_the_first_definition(client: LanguageClient):
    text = "let a = 1\nlet a = 2\n"
    uri = await open_doc(client, text)
    (d,) = client.diagnostics[uri]
    assert d.code == "duplicate-name" and d.range.start.line == 1
    (related,) = d.related_information
    assert related.location.uri == uri and related.location.range.start == lsp.Position(line=0, character=4)


@pytest.mark.asyncio(loop_scope="module")
async def test_warnings_are_published_as_warnings(client: LanguageClient):
    text = 'data d = csv("t.csv", target="y")\nmodel m {\n    Input(shape=(2,))\n    Dense(1)\n    loss mse\n}\n'
    uri = await open_doc(client, text)
    severities = {d.severity for d in client.diagnostics[uri]}
    assert lsp.DiagnosticSeverity.Error not in severities


# ---------------------------------------------------------------- completion


async def completions(client: LanguageClient, text: str, needle: str, delta: int) -> dict[str, lsp.CompletionItem]:
    uri = await open_doc(client, text)
    result = await client.text_document_completion_async(
        lsp.CompletionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos(text, needle, delta))
    )
    items = result.items if isinstance(result, lsp.CompletionList) else result
    return {i.label: i for i in items}


@pytest.mark.asyncio(loop_scope="module")
async def test_completion_of_layers_blocks_and_properties_in_a_body(client: LanguageClient):
    text = VALID.replace("    Dense(1)\n", "    De\n")
    items = await completions(client, text, "De\n", 2)
    assert {"Dense", "Dropout", "pair", "loss", "optimizer", "repeat"} <= set(items)
    assert items["Dense"].kind == lsp.CompletionItemKind.Class
    assert "densely-connected" in items["Dense"].documentation.value


@pytest.mark.asyncio(loop_scope="module")
async def test_completion_of_keywords_with_types_and_defaults(client: LanguageClient):
    text = VALID.replace("Dense(1)", "Dense(1, )")
    items = await completions(client, text, "Dense(1, )", len("Dense(1, "))
    assert items["activation="].detail == "activation: an activation or none = none"
    assert items["use_bias="].detail == "use_bias: true or false = true"
    assert "units" in items  # a variable, as a positional value


@pytest.mark.asyncio(loop_scope="module")
async def test_completion_by_place(client: LanguageClient):
    optimizers = await completions(client, VALID.replace("Adam(learning_rate=0.01)", "Ad"), "    optimizer Ad", len("    optimizer Ad"))
    assert {"Adam", "SGD", "RMSprop"} <= set(optimizers) and "Dense" not in optimizers
    losses = await completions(client, VALID.replace("loss mse", "loss m"), "loss m", len("loss m"))
    assert {"mse", "mean_squared_error", "Huber"} <= set(losses) and "Adam" not in losses
    activations = await completions(client, VALID.replace("activation=relu", "activation=r"), "activation=r", len("activation=r"))
    assert {"relu", "sigmoid", "tanh"} <= set(activations) and "Dense" not in activations
    init = VALID.replace("Dense(1)", "Dense(1, kernel_initializer=)")
    initializers = await completions(client, init, "kernel_initializer=)", len("kernel_initializer="))
    assert {"HeNormal", "glorot_uniform"} <= set(initializers)
    callbacks = await completions(client, VALID.replace("epochs=2", "epochs=2 callbacks=[]"), "callbacks=[]", len("callbacks=["))
    assert {"EarlyStopping", "ModelCheckpoint"} <= set(callbacks)
    metrics = await completions(client, VALID.replace("loss mse", "loss mse\n    metrics []"), "metrics []", len("metrics ["))
    assert {"mae", "AUC"} <= set(metrics)


@pytest.mark.asyncio(loop_scope="module")
async def test_completion_of_statements_steps_and_declared_names(client: LanguageClient):
    starts = await completions(client, VALID + "tr", "\ntr", 3)
    assert {"let", "data", "model", "block", "seed", "train", "predict"} <= set(starts)
    step = await completions(client, VALID + "test ", "\ntest ", 6)
    assert "m" in step and step["m"].detail == "model"
    data = await completions(client, VALID + "test m on ", "\ntest m on ", len("\ntest m on "))
    assert set(data) == {"d"}
    options = await completions(client, VALID + "train m on d ", "\ntrain m on d ", len("\ntrain m on d "))
    assert {"epochs=", "batch_size=", "callbacks="} <= set(options) and "on" not in options
    sources = await completions(client, VALID + "data e = ", "data e = ", len("data e = "))
    assert {"csv", "npz", "split"} <= set(sources)


# ---------------------------------------------------------------- hover


async def hover_at(client: LanguageClient, uri: str, text: str, needle: str, delta: int = 0) -> str | None:
    result = await client.text_document_hover_async(
        lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos(text, needle, delta))
    )
    return result.contents.value if result is not None else None


@pytest.mark.asyncio(loop_scope="module")
async def test_hover(client: LanguageClient):
    uri = await open_doc(client, VALID)
    dense = await hover_at(client, uri, VALID, "Dense(units, activation=relu)\n    pair", 1)
    assert "Dense(units, activation=none" in dense and "densely-connected" in dense
    assert "output shape `(None, 64)`" in dense and "320 parameters" in dense
    block_use = await hover_at(client, uri, VALID, "pair(8)", 1)
    assert "block pair(units, rate=0.1)" in block_use and "output shape `(None, 8)`" in block_use and "520 parameters" in block_use
    assert await hover_at(client, uri, VALID, "units = 64") == "```nn\nlet units = 64\n```"
    model = await hover_at(client, uri, VALID, "m {")
    assert "5 layers, output shape `(None, 1)`, 849 parameters" in model
    keyword = await hover_at(client, uri, VALID, "learning_rate")
    assert "learning_rate" in keyword and "0.01" not in keyword
    assert "Adam(learning_rate=0.001" in await hover_at(client, uri, VALID, "Adam(")
    assert "mean squared error" in (await hover_at(client, uri, VALID, "mse")).lower()
    assert "Fit the model" in await hover_at(client, uri, VALID, "train m")
    assert "parameter of block `pair`" in await hover_at(client, uri, VALID, "rate)")


# ---------------------------------------------------------------- navigation and rename


@pytest.mark.asyncio(loop_scope="module")
async def test_definition_and_references(client: LanguageClient):
    uri = await open_doc(client, VALID)
    found = await client.text_document_definition_async(
        lsp.DefinitionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos(VALID, "d epochs"))
    )
    assert found.range.start == lsp.Position(line=1, character=5)
    refs = await client.text_document_references_async(
        lsp.ReferenceParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=pos(VALID, "units = 64"),
            context=lsp.ReferenceContext(include_declaration=True),
        )
    )
    # the block's parameter `units` is another name: its uses are not the variable's
    assert sorted((r.range.start.line, r.range.start.character) for r in refs) == [(0, 4), (8, 10)]
    param = await client.text_document_references_async(
        lsp.ReferenceParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=pos(VALID, "units, rate"),
            context=lsp.ReferenceContext(include_declaration=False),
        )
    )
    assert [(r.range.start.line, r.range.start.character) for r in param] == [(3, 10)]
    block = await client.text_document_definition_async(
        lsp.DefinitionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos(VALID, "pair(8)"))
    )
    assert block.range.start == lsp.Position(line=2, character=6)


@pytest.mark.asyncio(loop_scope="module")
async def test_rename(client: LanguageClient):
    uri = await open_doc(client, VALID)
    edit = await client.text_document_rename_async(
        lsp.RenameParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos(VALID, "m on"), new_name="net")
    )
    edits = edit.changes[uri]
    assert sorted((e.range.start.line, e.range.start.character) for e in edits) == [(6, 6), (14, 6)]
    assert all(e.new_text == "net" for e in edits)
    with pytest.raises(Exception, match="reserved|expected a name"):
        await client.text_document_rename_async(
            lsp.RenameParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos(VALID, "m on"), new_name="model")
        )


@pytest.mark.asyncio(loop_scope="module")
async def test_document_symbols(client: LanguageClient):
    uri = await open_doc(client, VALID)
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert [(s.name, s.kind) for s in symbols] == [
        ("units", lsp.SymbolKind.Variable),
        ("d", lsp.SymbolKind.Field),
        ("pair", lsp.SymbolKind.Function),
        ("m", lsp.SymbolKind.Class),
        ("train m", lsp.SymbolKind.Event),
    ]
    assert [c.name for c in symbols[3].children] == ["Input", "Dense", "pair", "Dense", "loss", "optimizer"]


# ---------------------------------------------------------------- formatting and quick fixes


@pytest.mark.asyncio(loop_scope="module")
async def test_formatting_matches_nndsl_fmt(client: LanguageClient):
    from nndsl import format, parse

    messy = "let  units=64\nmodel m {\n  Input(shape=(4,))\n  Dense( units )\n}\n"
    uri = await open_doc(client, messy)
    edits = await client.text_document_formatting_async(
        lsp.DocumentFormattingParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), options=lsp.FormattingOptions(tab_size=4, insert_spaces=True)
        )
    )
    (edit,) = edits
    assert edit.range.start == lsp.Position(line=0, character=0) and edit.range.end == lsp.Position(line=5, character=0)
    assert edit.new_text == format(parse(messy))


@pytest.mark.asyncio(loop_scope="module")
async def test_quick_fix_applies_the_suggestion(client: LanguageClient):
    uri = await open_doc(client, PROGRAM)
    diagnostic = next(d for d in client.diagnostics[uri] if d.range.start.line == 8)
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=lsp.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    (action,) = actions
    assert action.kind == lsp.CodeActionKind.QuickFix and action.title == "Replace with 'activation'"
    (edit,) = action.edit.changes[uri]
    assert edit.range == diagnostic.range and edit.new_text == "activation"


# ---------------------------------------------------------------- the process


MODULES_AT_EXIT = """
import atexit, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write("\\n".join(sorted(sys.modules))))
from nndsl.cli import main
sys.exit(main(["lsp"]))
"""


def test_a_whole_session_imports_no_tensorflow(tmp_path: Path):
    """Open, change, complete, hover, format and exit: neither TensorFlow nor Keras is imported."""
    import asyncio

    record = tmp_path / "modules.txt"

    async def session():
        config = ClientServerConfig(server_command=[sys.executable, "-c", MODULES_AT_EXIT, str(record)])
        client = await config.start()
        await client.initialize_session(lsp.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
        uri = await open_doc(client, VALID)
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=PROGRAM)],
            )
        )
        await client.text_document_hover_async(
            lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos(PROGRAM, "Dense(units", 1))
        )
        await client.text_document_completion_async(
            lsp.CompletionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=pos(PROGRAM, "relu"))
        )
        await client.text_document_formatting_async(
            lsp.DocumentFormattingParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri), options=lsp.FormattingOptions(tab_size=4, insert_spaces=True)
            )
        )
        await client.shutdown_session()

    asyncio.run(session())
    modules = set(record.read_text().split())
    assert "nndsl.lsp.server" in modules
    assert not {m for m in modules if m.split(".")[0] in ("tensorflow", "keras", "numpy")}


def test_without_pygls_the_command_says_what_to_install():
    blocked = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('pygls', 'lsprotocol'):\n"
        "            raise ImportError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from nndsl.cli import main\n"
        "sys.exit(main(['lsp']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", blocked], check=False, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 2
    assert 'pip install "nndsl[lsp]"' in done.stderr and done.stdout == ""
