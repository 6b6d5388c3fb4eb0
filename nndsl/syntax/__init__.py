"""Reading .nn text: grammar, lexer, parser, tree builder and formatter."""
