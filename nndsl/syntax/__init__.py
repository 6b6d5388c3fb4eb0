"""Reading .nn text: grammar, lexer, parse tables, parser, tree builder and syntax error messages."""
