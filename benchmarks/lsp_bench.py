"""Language server latency: from a didChange of a 1,000-line file to its diagnostics.

Run: python benchmarks/lsp_bench.py [--lines N] [--edits N]
Target: at most 100 ms.

Starts ``nndsl lsp`` as an editor would (a subprocess over stdio, driven by pygls's client),
opens a generated file of about 1,000 lines (the parse benchmark's models, blocks and steps),
then edits one line at a time, as typing does: each change is one incremental edit, and the
time runs from sending it to receiving the publishDiagnostics notification for its version.
Every other edit puts an unknown layer name in, so the diagnostics alternate between none
and one. Prints the median, the best and the worst; the median is the figure to compare
against the target (the machine is shared, and the worst edit is often another process's).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parse_bench import generate


def _valid(lines: int) -> str:
    """The parse benchmark's file of ``lines`` lines, with inputs its convolutions fit."""
    return generate(lines).replace("Input(shape=(32, 32, 3))", "Input(shape=(4096, 4096, 3))")


async def measure(lines: int, edits: int) -> list[float]:
    client = LanguageClient("lsp-bench", "1")
    published: dict[int, asyncio.Future] = {}

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        waiting = published.get(params.version)
        if waiting is not None and not waiting.done():
            waiting.set_result(len(params.diagnostics))

    await client.start_io(sys.executable, "-m", "nndsl", "lsp")
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    client.initialized(lsp.InitializedParams())
    text = _valid(lines)
    uri = "file:///bench/model.nn"
    loop = asyncio.get_running_loop()
    published[1] = loop.create_future()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="nn", version=1, text=text)))
    count = await published[1]
    if count:
        raise SystemExit(f"the generated file should check cleanly; it has {count} diagnostics")
    # the edit: the name of a layer in the middle of the file, `Dense` <-> `Densx`
    target = text.index("    Dense(", len(text) // 2) + 4
    line = text.count("\n", 0, target)
    column = target - text.rfind("\n", 0, target) - 1
    times = []
    for i in range(edits):
        version = i + 2
        published[version] = loop.create_future()
        new = "Densx" if i % 2 == 0 else "Dense"
        t0 = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangePartial(
                range=lsp.Range(start=lsp.Position(line=line, character=column), end=lsp.Position(line=line, character=column + 5)),
                text=new)],
        ))
        count = await published[version]
        times.append(time.perf_counter() - t0)
        expected = 1 if new == "Densx" else 0
        if count != expected:
            raise SystemExit(f"edit {i}: expected {expected} diagnostics; received {count}")
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000, help="lines of the file (default 1,000)")
    ap.add_argument("--edits", type=int, default=40, help="edits to time (default 40)")
    args = ap.parse_args()
    times = asyncio.run(measure(args.lines, args.edits))
    ms = sorted(t * 1000 for t in times)
    print(f"didChange -> publishDiagnostics, {args.lines:,}-line file, {len(ms)} edits:")
    print(f"  median {statistics.median(ms):.1f} ms   best {ms[0]:.1f} ms   worst {ms[-1]:.1f} ms   (target <= 100 ms)")


if __name__ == "__main__":
    main()
