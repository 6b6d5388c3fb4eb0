"""AST -> canonical ``.nn`` text. One ``_format_<node>`` function per node type.

The layout is canonical: four-space indents, one statement per line, ``=`` aligned across
runs of consecutive ``let`` or ``data`` lines, at most one blank line kept where the source
had one, and long calls broken one argument per line. Comments are kept: a comment on its
own line stays above the construct that follows it; a comment at the end of a line stays
at the end of that construct's line.

It sits after :mod:`nndsl.plugins` in the layering, not in :mod:`nndsl.syntax`: writing a
plugin name as registered (``dense`` -> ``Dense``) asks the plugin registries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import ast

INDENT = "    "
MAX_WIDTH = 100

_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "//": 2, "%": 2}


# ---------------------------------------------------------------- expressions


def format_expr(e, canon=None) -> str:
    """One expression as canonical text. ``canon(call) -> name`` may rewrite call names."""
    return _EXPR[type(e)](e, canon)


def _format_number(e: ast.Number, canon) -> str:
    v = e.value
    if isinstance(v, bool):  # defensive: bool is an int subclass
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if math.isinf(v):
        return "-1e999" if v < 0 else "1e999"
    text = repr(v)
    return text


_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def quote(s: str) -> str:
    """A string literal for ``s``."""
    out = []
    for ch in s:
        esc = _STRING_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF or ch in "\u2028\u2029\x85":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _format_string(e: ast.String, canon) -> str:
    return quote(e.value)


def _format_bool(e: ast.Bool, canon) -> str:
    return "true" if e.value else "false"


def _format_none(e: ast.NoneLit, canon) -> str:
    return "none"


def _format_name(e: ast.Name, canon) -> str:
    return e.id


def _format_tuple(e: ast.Tuple, canon) -> str:
    if len(e.items) == 1:
        return f"({format_expr(e.items[0], canon)},)"
    return "(" + ", ".join(format_expr(i, canon) for i in e.items) + ")"


def _format_list(e: ast.List, canon) -> str:
    return "[" + ", ".join(format_expr(i, canon) for i in e.items) + "]"


def _format_dict(e: ast.Dict, canon) -> str:
    return "{" + ", ".join(f"{format_expr(p.key, canon)}: {format_expr(p.value, canon)}" for p in e.items) + "}"


def _format_keyword(e: ast.Keyword, canon) -> str:
    return f"{e.name}={format_expr(e.value, canon)}"


def _call_name(e: ast.Call, canon) -> str:
    return canon(e) if canon is not None else e.name


def _call_args(e: ast.Call, canon) -> list[str]:
    if getattr(canon, "symbol", None) is None:
        return [format_expr(a, canon) for a in e.args] + [_format_keyword(k, canon) for k in e.kwargs]
    args = [_registered(a, canon.argument_kind(e, i), canon) for i, a in enumerate(e.args)]
    return args + [f"{k.name}={_registered(k.value, canon.argument_kind(e, k.name), canon)}" for k in e.kwargs]


def _registered(e, kind: str | None, canon) -> str:
    """A value where a registered name of ``kind`` is expected: bare names in their registered spelling."""
    if kind is not None and isinstance(e, ast.Name):
        return canon.symbol(kind, e.id)
    if kind is not None and isinstance(e, ast.List):
        return "[" + ", ".join(_registered(i, kind, canon) for i in e.items) + "]"
    return format_expr(e, canon)


def _format_call(e: ast.Call, canon) -> str:
    return f"{_call_name(e, canon)}(" + ", ".join(_call_args(e, canon)) + ")"


def _format_binop(e: ast.BinOp, canon) -> str:
    p = _PREC[e.op]
    left = format_expr(e.left, canon)
    if isinstance(e.left, ast.BinOp) and _PREC[e.left.op] < p:
        left = f"({left})"
    right = format_expr(e.right, canon)
    if isinstance(e.right, ast.BinOp) and _PREC[e.right.op] <= p:
        right = f"({right})"
    return f"{left} {e.op} {right}"


def _format_unaryop(e: ast.UnaryOp, canon) -> str:
    inner = format_expr(e.operand, canon)
    if isinstance(e.operand, ast.BinOp):
        return f"{e.op}({inner})"
    if isinstance(e.operand, (ast.Number, ast.UnaryOp)) or inner.startswith(("-", "+")):
        # `-5` would read back as the number -5, and `--x` as... the same thing twice: keep them apart
        return f"{e.op} {inner}"
    return f"{e.op}{inner}"


_EXPR = {
    ast.Number: _format_number, ast.String: _format_string, ast.Bool: _format_bool, ast.NoneLit: _format_none,
    ast.Name: _format_name, ast.Tuple: _format_tuple, ast.List: _format_list, ast.Dict: _format_dict,
    ast.Call: _format_call, ast.BinOp: _format_binop, ast.UnaryOp: _format_unaryop, ast.Keyword: _format_keyword,
}


def _format_call_block(call: ast.Call, indent: str, canon) -> list[str]:
    """A call on one line, or broken one argument per line when too long."""
    one = _format_call(call, canon)
    if len(indent) + len(one) <= MAX_WIDTH or not (call.args or call.kwargs):
        return [indent + one]
    lines = [f"{indent}{_call_name(call, canon)}("]
    lines += [f"{indent}{INDENT}{a}," for a in _call_args(call, canon)]
    lines.append(f"{indent})")
    return lines


# ---------------------------------------------------------------- layout units


@dataclass
class _Chunk:
    """Lines of output standing for source lines ``first..last``; comments are merged around chunks."""

    lines: list[str]
    first: int
    last: int
    indent: str
    align_group: str | None = None  # "let" / "data": align '=' with neighbours of the same group
    leading: list[str] = field(default_factory=list)
    blank_before: bool = False
    is_opening: bool = False  # the line after it starts a body
    closes: bool = False


def _dict_outside_brackets(e) -> bool:
    """Whether the text of ``e`` may have a dict's '{' that no bracket encloses (reached through operators)."""
    if isinstance(e, ast.Dict):
        return True
    if isinstance(e, ast.BinOp):
        return _dict_outside_brackets(e.left) or _dict_outside_brackets(e.right)
    if isinstance(e, ast.UnaryOp):
        return _dict_outside_brackets(e.operand)
    return False


def _body_chunks(body, indent: str, canon) -> list[_Chunk]:
    chunks: list[_Chunk] = []
    for item in body:
        if isinstance(item, ast.Layer):
            lines = _format_call_block(item.call, indent, canon)
            chunks.append(_Chunk(lines, item.span.line, item.span.end_line, indent))
        elif isinstance(item, ast.Property):
            kind = canon.property_kind(item.name) if getattr(canon, "symbol", None) is not None else None
            text = f"{indent}{item.name} {_registered(item.value, kind, canon)}"
            chunks.append(_Chunk([text], item.span.line, item.span.end_line, indent))
        elif isinstance(item, ast.Repeat):
            count = format_expr(item.count, canon)
            if _dict_outside_brackets(item.count):
                count = f"({count})"  # a '{' right after `repeat` would open the body
            head = _Chunk([f"{indent}repeat {count} {{"], item.span.line, item.count.span.end_line, indent, is_opening=True)
            chunks.append(head)
            chunks.extend(_body_chunks(item.body, indent + INDENT, canon))
            chunks.append(_Chunk([f"{indent}}}"], item.span.end_line, item.span.end_line, indent + INDENT, closes=True))
    return chunks


def _statement_chunks(stmt, canon_layer, canon_any) -> list[_Chunk]:
    s = stmt.span
    if isinstance(stmt, ast.Let):
        return [_Chunk([f"let {stmt.name} = {format_expr(stmt.value)}"], s.line, s.end_line, "", align_group="let")]
    if isinstance(stmt, ast.DataDecl):
        return [_Chunk([f"data {stmt.name} = {format_expr(stmt.source)}"], s.line, s.end_line, "", align_group="data")]
    if isinstance(stmt, ast.Setting):
        return [_Chunk([f"{stmt.name} {format_expr(stmt.value)}"], s.line, s.end_line, "")]
    if isinstance(stmt, ast.Step):
        parts = [stmt.verb]
        if stmt.target is not None:
            parts.append(stmt.target.id)
        for word, value in (("on", stmt.on), ("to", stmt.to), ("from", stmt.from_)):
            if value is not None:
                parts.append(f"{word} {format_expr(value, canon_any)}")
        parts.extend(_format_keyword(k, canon_any) for k in stmt.kwargs)
        return [_Chunk([" ".join(parts)], s.line, s.end_line, "")]
    if isinstance(stmt, (ast.ModelDecl, ast.BlockDecl)):
        if isinstance(stmt, ast.ModelDecl):
            head = f"model {stmt.name} {{"
        else:
            params = ", ".join(p.name if p.default is None else f"{p.name}={format_expr(p.default)}" for p in stmt.params)
            head = f"block {stmt.name}({params}) {{"
        body = stmt.body
        head_last = body[0].span.line - 1 if body and body[0].span.line > s.line else s.line
        chunks = [_Chunk([head], s.line, max(s.line, min(head_last, s.line)), "", is_opening=True)]
        chunks.extend(_body_chunks(body, INDENT, canon_layer))
        chunks.append(_Chunk(["}"], s.end_line, s.end_line, INDENT, closes=True))
        return chunks
    raise TypeError(f"cannot format {type(stmt).__name__}")


def format_program(program: ast.Program, *, canonical_names: bool = True) -> str:
    """The canonical text of ``program``, comments included.

    Args:
        program: a parsed (or constructed) program.
        canonical_names: write layer and other plugin names as registered (``dense`` -> ``Dense``).

    Returns:
        The formatted text, ending with one newline (empty for an empty program).
    """
    canon_layer = canon_any = None
    if canonical_names:
        from .plugins.names import call_canonicalizer

        canon_layer = canon_any = call_canonicalizer(program)
    chunks: list[_Chunk] = []
    for stmt in program.statements:
        chunks.extend(_statement_chunks(stmt, canon_layer, canon_any))
    source = program.source
    has_positions = source is not None and program.span.end > 0
    if has_positions:
        _attach_comments(chunks, program.comments, source)
    out: list[str] = []
    prev: _Chunk | None = None
    _align(chunks)
    for ch in chunks:
        if prev is not None:
            top_level_break = ch.indent == "" and not ch.closes and (
                prev.closes and prev.indent == INDENT or ch.is_opening
            )
            if (ch.blank_before and not prev.is_opening and not ch.closes) or top_level_break:
                if out and out[-1] != "":
                    out.append("")
        for c in ch.leading:
            out.append(c)
        out.extend(ch.lines)
        prev = ch
    if has_positions:
        last_line = chunks[-1].last if chunks else 0
        tail = [c for c in program.comments if c.span.line > last_line]
        if tail:
            prev_line = last_line
            for c in tail:
                if out and _blank_between(source, prev_line, c.span.line):
                    out.append("")
                out.append(c.text)
                prev_line = c.span.line
    text = "\n".join(out)
    return text + "\n" if text else ""


def _align(chunks: list[_Chunk]) -> None:
    """Align ``=`` over runs of consecutive one-line ``let`` / ``data`` statements."""
    i = 0
    while i < len(chunks):
        g = chunks[i].align_group
        if g is None:
            i += 1
            continue
        j = i
        while (
            j + 1 < len(chunks) and chunks[j + 1].align_group == g and not chunks[j + 1].leading
            and not chunks[j + 1].blank_before
        ):
            j += 1
        run = chunks[i : j + 1]
        if len(run) > 1:
            width = max(ln.lines[0].index(" = ") for ln in run)
            for ln in run:
                k = ln.lines[0].index(" = ")
                ln.lines[0] = ln.lines[0][:k].ljust(width) + ln.lines[0][k:]
        i = j + 1


def _blank_between(source, a: int, b: int) -> bool:
    return any(source.line_text(n).strip() == "" for n in range(a + 1, b))


def _attach_comments(chunks: list[_Chunk], comments, source) -> None:
    ci = 0
    comments = sorted(comments, key=lambda c: c.span.start)
    prev_last = 0
    for ch in chunks:
        leading_start = None
        while ci < len(comments) and comments[ci].span.line < ch.first:
            c = comments[ci]
            if c.span.line <= prev_last:
                # trailing comment of the previous chunk that ended on that line
                break
            if leading_start is None:
                leading_start = c.span.line
                if prev_last and _blank_between(source, prev_last, c.span.line):
                    ch.blank_before = True
            elif ch.leading and _blank_between(source, comments[ci - 1].span.line, c.span.line):
                ch.leading.append("")
            ch.leading.append(ch.indent + c.text)
            ci += 1
        first_content = ch.first
        ref = comments[ci - 1].span.line if leading_start is not None else prev_last
        if leading_start is not None and _blank_between(source, ref, first_content):
            ch.leading.append("")
        if leading_start is None and prev_last and _blank_between(source, prev_last, ch.first):
            ch.blank_before = True
        # comments inside or at the end of this chunk's lines
        inside = []
        while ci < len(comments) and comments[ci].span.line <= ch.last:
            inside.append(comments[ci])
            ci += 1
        if inside:
            if len(ch.lines) == 1 and len(inside) == 1 and inside[0].span.line == ch.last:
                ch.lines[0] = f"{ch.lines[0]}  {inside[0].text}"
            elif len(ch.lines) > 1 and all(c.span.line == ch.last for c in inside) and len(inside) == 1:
                ch.lines[-1] = f"{ch.lines[-1]}  {inside[0].text}"
            else:
                ch.leading.extend(ch.indent + c.text for c in inside)
        prev_last = ch.last
    # comments after the last chunk are written by the caller
