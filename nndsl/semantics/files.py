"""The files a program reads and writes, found at check time, and the path rules applied to them.

:func:`check_files` (a language pass) lists what the data sources, the ``.nn`` file and the
steps read and write; :func:`check_object_files` (run with the Keras passes, once callbacks and
layers are resolved) adds the files and folders of their path parameters (``CSVLogger``'s
``filename``, ``BackupAndRestore``'s ``backup_dir``, a vocabulary file...). Each write is held
to the rules of :mod:`nndsl.paths`, and a write that breaks one is a located error. The list is
kept in the checked program (``nndsl check --json`` shows it) for the run's gate.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import ast
from ..errors import Note
from ..paths import READ, SCRATCH_DIR, WRITE, WRITE_DIR, Access, absolute, check_write, reserved, same_file
from .context import Context
from .result import CheckedData, ResolvedCall

# The roles of a parameter's path (ParamSpec.path) as accesses.
_ROLE_KINDS = {"read": READ, "write": WRITE, "write_dir": WRITE_DIR, "scratch_dir": SCRATCH_DIR}


def _arg_span(call: ast.Call | None, name: str, params) -> object:
    """Where argument ``name`` of ``call`` is written (by keyword or by position), else the call."""
    if call is None:
        return None
    for k in call.kwargs:
        if k.name == name:
            return k.value.span
    names = [p.name for p in params]
    if name in names and names.index(name) < len(call.args):
        return call.args[names.index(name)].span
    return call.span


def _data_reads(data: CheckedData) -> list[Access]:
    """The files and folders a data source reads: its parameters typed ``path`` (or marked read)."""
    out = []
    for p in data.spec.params:
        value = data.args.get(p.name)
        if (p.type == "path" or getattr(p, "path", "") == "read") and isinstance(value, str) and value:
            out.append(Access(READ, str(value), f"the file of data source '{data.decl.name}'",
                              _arg_span(data.decl.source, p.name, data.spec.params)))
    return out


def _inline_data(step) -> list[CheckedData]:
    values = [step.on, *step.kwargs.values()]
    return [v for v in values if isinstance(v, CheckedData)]


def check_files(ctx: Context) -> None:
    """The ``.nn`` file, the data sources and the steps' ``from`` files are read; the steps' ``to``
    files are written. A write outside the allowed folders, onto an input, onto a device or onto
    a file nndsl keeps is reported at the path."""
    if ctx.base is not None and ctx.nn_file is not None:
        ctx.files.append(Access(READ, ctx.nn_file.name, "the .nn file itself", None))
        ctx.inputs[ctx.nn_file] = "the .nn file itself"
    for data in ctx.data.values():
        for access in _data_reads(data):
            _read(ctx, access)
    written: list[Path] = []
    for step in ctx.steps:
        for data in _inline_data(step):
            for access in _data_reads(data):
                _read(ctx, access)
        who = f"{step.verb} {step.target}" if step.target else step.verb
        if isinstance(step.from_, str):
            access = Access(READ, str(step.from_), f"the file '{who}' reads", step.node.from_.span)
            ctx.files.append(access)
            # a model file an earlier step wrote is the program's own; one read before any write is an input
            if ctx.base is not None and not any(same_file(absolute(step.from_, ctx.base), w) for w in written):
                ctx.inputs.setdefault(absolute(step.from_, ctx.base), f"the model file '{who}' reads")
        if isinstance(step.to, str):
            access = Access(WRITE, str(step.to), who, step.node.to.span)
            ctx.files.append(access)
            if ctx.base is not None:
                written.append(absolute(step.to, ctx.base))
    for access in ctx.files:
        if access.kind != READ:
            _check_write(ctx, access)


def _read(ctx: Context, access: Access) -> None:
    ctx.files.append(access)
    if ctx.base is not None:
        ctx.inputs.setdefault(absolute(access.path, ctx.base), access.what)


def check_object_files(ctx: Context) -> None:
    """The path parameters of callbacks and layers: a vocabulary file is read, a log written, a
    backup folder owned. Each write obeys the same rules as the steps'."""
    for model in ctx.models.values():
        for rl in model.resolved:
            for access in _object_accesses(rl.call, f"{rl.call.spec.name} in model '{model.name}'"):
                _add(ctx, access)
    for step in ctx.steps:
        for call in step.kwargs.get("callbacks") or ():
            if isinstance(call, ResolvedCall):
                for access in _object_accesses(call, call.spec.name):
                    _add(ctx, access)
    _check_scratch_folders(ctx)


def _check_scratch_folders(ctx: Context) -> None:
    """A folder a callback deletes after training (BackupAndRestore's) takes no other output:
    whatever another step or callback wrote there would be deleted with it."""
    if ctx.base is None:
        return
    scratch = [(a, absolute(a.path, ctx.base)) for a in ctx.files if a.kind == SCRATCH_DIR]
    for access in ctx.files:
        if access.kind in (READ, SCRATCH_DIR):
            continue
        target = absolute(access.path, ctx.base)
        for folder_access, folder in scratch:
            if target == folder or folder in target.parents:
                ctx.error("write-conflict",
                          f"expected an output outside '{folder_access.path}' ({folder_access.what}), a folder deleted after "
                          f"training; received '{access.path}' ({access.what})", access.span,
                          hint="write it elsewhere, or name a new folder for the backup, e.g. backup_dir=\"backup\"")
                break


def _add(ctx: Context, access: Access) -> None:
    if access.kind == READ:
        _read(ctx, access)
        return
    ctx.files.append(access)
    _check_write(ctx, access)


def _object_accesses(call: ResolvedCall, who: str) -> list[Access]:
    """The accesses of one resolved call's path parameters, given or defaulted (TensorBoard's ``logs``)."""
    out = []
    for p in call.spec.params:
        role = getattr(p, "path", "")
        if not role:
            continue
        value = call.args.get(p.name, p.default)
        if isinstance(value, (str, os.PathLike)) and str(value):
            span = _arg_span(call.node, p.name, call.spec.params) if p.name in call.args else getattr(call.node, "span", None)
            out.append(Access(_ROLE_KINDS[role], str(value), f"the {p.name} of {who}", span))
    return out


def _check_write(ctx: Context, access: Access) -> None:
    if ctx.base is None:
        return  # text without a file (the embedding API): nothing to hold the paths against
    refusal = check_write(access.path, access.kind, base=ctx.base, grants=ctx.grants, inputs=ctx.inputs,
                          reserved_names=reserved(ctx.nn_file) if ctx.nn_file is not None else {})
    if refusal is None:
        return
    notes = []
    for input_access in ctx.files:
        if input_access.kind == READ and input_access.span is not None and refusal.code == "write-conflict" \
                and same_file(absolute(input_access.path, ctx.base), absolute(access.path, ctx.base)):
            notes.append(Note(f"'{input_access.path}' is read here", input_access.span))
            break
    ctx.error(refusal.code, refusal.message, access.span, hint=refusal.hint, notes=notes)
