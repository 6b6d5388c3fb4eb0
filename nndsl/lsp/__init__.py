"""The ``.nn`` language server (``nndsl lsp``), for editors that speak LSP.

It needs the optional dependencies of ``nndsl[lsp]`` (pygls and lsprotocol); everything it
knows comes from the parser, the check passes, the registries and the catalogue, so it never
imports TensorFlow. The modules:

- :mod:`~nndsl.lsp.analysis`: one document's parse, check findings and diagnostics;
- :mod:`~nndsl.lsp.symbols`: where each declared name is defined and used;
- :mod:`~nndsl.lsp.positions`: character offsets to and from LSP's UTF-16 positions;
- :mod:`~nndsl.lsp.lookup`: which registry a name is looked up in, and how a spec is shown;
- :mod:`~nndsl.lsp.completion` and :mod:`~nndsl.lsp.hover`: the two features read from context;
- :mod:`~nndsl.lsp.server`: the pygls server answering the protocol.
"""
