"""``check(program) -> CheckedProgram``: every check pass, in order, all problems reported at once.

The passes are listed in :data:`PASSES`. Each reads the program and what earlier passes
found, and reports diagnostics into the shared :class:`~nndsl.semantics.context.Context`;
none imports TensorFlow. The language passes (names, variables, blocks, steps) are defined
here and come first; the Keras passes (layer names and arguments, compile properties,
shapes) follow, from :mod:`nndsl.semantics.keras_check`. The result types are in
:mod:`nndsl.semantics.result`, re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import ast
from ..errors import NndslCheckError, NndslError, Note, UsageError, did_you_mean
from ..paths import DEFAULT_GRANTS, Grants
from ..plugins.registry import registry
from ..plugins.spec import FORBIDDEN, REQUIRED, StepSpec
from ..vocabulary import DECLARATIONS, SETTINGS
from .arguments import check_argument_values
from .context import FAILED, Context, hint_for, type_hint
from .evaluate import Invocation, describe_value, free_names, render_value
from .files import check_files
from .keras_check import KERAS_PASSES
from .result import DEFAULT_MAX_PARAMS, CheckedData, CheckedModel, CheckedProgram, CheckedStep, ExpandedLayer
from .spaces import build_space, check_spaces, is_space_call
from .types import describe_type, fits
from .values import Symbol

MAX_BLOCK_NESTING = 50  # blocks using blocks: deeper chains are refused (expansion recurses once per level)
MAX_SEED = 2**32  # NumPy's and Keras's random generators take 32-bit seeds
MAX_LAYERS = 10_000  # layers after expanding blocks and repeats: beyond this is a mistake, not a model


_KIND_WORD = {ast.Let: "variable", ast.DataDecl: "data source", ast.ModelDecl: "model", ast.BlockDecl: "block"}


# ---------------------------------------------------------------- passes


def declare_names(ctx: Context) -> None:
    """Every let, data, model and block name is unique in the file."""
    for stmt in ctx.program.statements:
        if type(stmt) not in _KIND_WORD:
            continue
        first = ctx.decls.get(stmt.name)
        if first is not None:
            ctx.error(
                "duplicate-name",
                f"expected a new name; received '{stmt.name}', already defined as a {_KIND_WORD[type(first)]}",
                stmt.name_span,
                notes=[Note(f"'{stmt.name}' is first defined here", first.name_span)],
                hint="names of variables, data sources, models and blocks must be unique in a file",
            )
            continue
        ctx.decls[stmt.name] = stmt
        if isinstance(stmt, ast.BlockDecl):
            ctx.blocks[stmt.name] = stmt


# Settings whose value is one of a few names, written as bare words: `backend jax`.
SETTING_CHOICES = {  # the keys are vocabulary.SETTINGS with a fixed set of values
    "backend": ("tensorflow", "jax"),
    "distribute": ("none", "mirrored"),
    "track": ("none", "mlflow", "tensorboard"),
}


def _choice_setting(ctx: Context, stmt, value):
    choices = SETTING_CHOICES[stmt.name]
    word = str(value) if isinstance(value, str) else value
    if isinstance(word, str) and word.lower() in choices:
        return word.lower()
    guess = did_you_mean(word, choices) if isinstance(word, str) else None
    ctx.error("bad-setting", f"expected {' or '.join(choices)} for '{stmt.name}'; received {describe_value(value)}", stmt.value.span,
              hint=guess or f"write {stmt.name} {choices[-1]}")
    return FAILED


def _memory_budget(ctx: Context, stmt, value):
    """``memory_budget "512MB"``: the size in bytes (see nndsl.data.budget), or a located error."""
    from .sizes import EXAMPLE, parse_size

    size = parse_size(value)
    if isinstance(size, int):
        return size
    ctx.error("bad-setting", size, stmt.value.span,
              hint=f"write memory_budget {EXAMPLE}: tables estimated larger than that stream in record batches")
    return FAILED


def evaluate_variables(ctx: Context) -> None:
    """``let`` values, in file order, with command-line overrides applied."""
    later = {s.name for s in ctx.program.statements if isinstance(s, ast.Let)}
    for stmt in ctx.program.statements:
        if isinstance(stmt, ast.Setting):
            value = ctx.eval(stmt.value)
            if stmt.name == "seed" and value is not FAILED and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                ctx.error("bad-setting", f"expected a non-negative integer seed; received {describe_value(value)}", stmt.value.span)
            elif stmt.name == "seed" and value is not FAILED and value >= MAX_SEED:
                ctx.error("bad-setting", f"expected a seed below 2**32 ({MAX_SEED:,}); received {value:,}", stmt.value.span)
            if stmt.name in SETTING_CHOICES and value is not FAILED:
                value = _choice_setting(ctx, stmt, value)
            if stmt.name == "memory_budget" and value is not FAILED:
                value = _memory_budget(ctx, stmt, value)
            if stmt.name in ctx.settings:
                ctx.error("duplicate-name", f"expected one '{stmt.name}' setting; received a second", stmt.name_span)
            ctx.settings[stmt.name] = value
            continue
        if not isinstance(stmt, ast.Let) or ctx.decls.get(stmt.name) is not stmt:
            continue
        later.discard(stmt.name)
        early = False
        for n in free_names(stmt.value):
            if n.id in later and n.id not in ctx.variables:
                ctx.error(
                    "used-before-definition", f"expected '{n.id}' to be defined before it is used; received it earlier",
                    n.span, notes=[Note(f"'{n.id}' is defined here", ctx.decls[n.id].name_span)],
                )
                early = True
        if early and stmt.name not in ctx.overrides:
            ctx.variables[stmt.name] = FAILED  # its value would be computed from a bare name: say nothing more
            continue
        expr = ctx.overrides.get(stmt.name, stmt.value)
        if is_space_call(expr):
            # a search space: the variable holds its default for every later check
            space = build_space(ctx, stmt.name, expr)
            if space is not FAILED:
                ctx.spaces[stmt.name] = space
            value = space.default if space is not FAILED else FAILED
        else:
            value = ctx.eval(expr)
        ctx.variables[stmt.name] = value


def check_data(ctx: Context) -> None:
    """Each data source names a registered source, with arguments that fit its parameters."""
    defined: set[str] = set()
    for stmt in ctx.program.statements:
        if not isinstance(stmt, ast.DataDecl) or ctx.decls.get(stmt.name) is not stmt:
            continue
        spec, args = bind_data_source(ctx, stmt.source, defined)
        defined.add(stmt.name)
        if spec is not None:
            ctx.data[stmt.name] = CheckedData(stmt, spec, args)


def bind_data_source(ctx: Context, call: ast.Call, defined: set[str]):
    """Resolve and bind a data source call; returns (spec, args by name) or (None, None)."""
    sources = registry("data_sources")
    name = sources.resolve(call.name)
    if name is None:
        ctx.error(
            "unknown-name", f"expected a data source such as {', '.join(sources.names()[:4])}; received '{call.name}'",
            call.name_span, hint=hint_for(call.name, sources.names()),
        )
        return None, None
    try:
        spec = sources.get(name)
    except NndslError as exc:
        ctx.error("plugin-error", str(exc), call.name_span)
        return None, None
    value = ctx.eval(call)
    if value is FAILED:
        return None, None
    args = bind_arguments(ctx, call, value, spec.params, spec.var_positional, what=f"data source {spec.name}")
    if args is None:
        return None, None
    for p in spec.params:
        if p.name in args and p.type == "data":
            ref = args[p.name]
            node = _arg_node(call, p.name, list(spec.params))
            if isinstance(ref, Symbol):
                if ref not in ctx.decls or not isinstance(ctx.decls[ref], ast.DataDecl):
                    ctx.error(
                        "unknown-name", f"expected the name of a data source; received '{ref}'", node.span if node else call.span,
                        hint=hint_for(ref, [n for n, d in ctx.decls.items() if isinstance(d, ast.DataDecl)]),
                    )
                elif ref not in defined:
                    ctx.error("used-before-definition", f"expected data source '{ref}' to be defined before it is used; received it later",
                              node.span if node else call.span)
    return spec, args


def _arg_node(call: ast.Call, name: str, params: list):
    for k in call.kwargs:
        if k.name == name:
            return k.value
    names = [p.name for p in params]
    if name in names and names.index(name) < len(call.args):
        return call.args[names.index(name)]
    return None


def bind_arguments(ctx: Context, call: ast.Call, value: Invocation, params, var_positional: str | None, what: str):
    """Bind positional and keyword arguments of a call to declared parameters, reporting every mistake."""
    ok = True
    bound: dict[str, Any] = {}
    names_in_order = [p.name for p in params]
    if var_positional in names_in_order:
        # as in Python: positional arguments fill the parameters before *args; those after it are keyword-only
        positional = list(params)[: names_in_order.index(var_positional)]
    else:
        positional = list(params)
    extra = []
    for i, (arg, node) in enumerate(zip(value.args, call.args)):
        if i < len(positional):
            bound[positional[i].name] = arg
        elif var_positional is not None:
            extra.append(arg)
        else:
            ctx.error(
                "too-many-arguments",
                f"expected at most {len(positional)} positional argument{'s' if len(positional) != 1 else ''} for {what}; "
                f"received {len(value.args)}",
                node.span, hint="name the extra arguments: key=value",
            )
            ok = False
            break
    if var_positional is not None:
        bound[var_positional] = extra
        vp = next((p for p in params if p.name == var_positional), None)
        if vp is not None and extra and not fits(extra, vp.type):
            ctx.error("bad-argument-type", f"expected {describe_type(vp.type)} for '{var_positional}'; received {render_value(extra)}",
                      call.args[len(positional)].span.combine(call.args[-1].span))
            ok = False
    names = {p.name: p for p in params}
    for k in call.kwargs:
        if k.name not in names:
            ctx.error(
                "unknown-argument", f"expected an argument of {what} ({', '.join(names) or 'none'}); received '{k.name}'",
                k.name_span, hint=hint_for(k.name, names),
            )
            ok = False
            continue
        if k.name in bound:
            ctx.error("duplicate-argument", f"expected '{k.name}' once; received it again", k.name_span)
            ok = False
            continue
        bound[k.name] = value.kwargs[k.name]
    for p in params:
        if p.name == var_positional:
            if not bound.get(p.name):
                ctx.error("missing-argument", f"expected {describe_type(p.type)} for {what}; received none", call.span)
                ok = False
            continue
        if p.name not in bound:
            if p.required:
                ctx.error("missing-argument", f"expected argument '{p.name}' for {what} ({describe_type(p.type)}); received none",
                          call.span)
                ok = False
            continue
        v = bound[p.name]
        if v is FAILED:
            ok = False
            continue
        if not fits(v, p.type, p.nullable):
            node = _arg_node(call, p.name, [q for q in params if q.name != var_positional])
            ctx.error(
                "bad-argument-type", f"expected {describe_type(p.type, p.nullable)} for '{p.name}'; received {describe_value(v)}",
                node.span if node is not None else call.span, hint=type_hint(v, p.type, ctx.variables),
            )
            ok = False
    return bound if ok else None


def expand_models(ctx: Context) -> None:
    """Blocks and ``repeat`` are expanded into each model's flat layer list; properties are collected."""
    for stmt in ctx.program.statements:
        if not isinstance(stmt, ast.ModelDecl) or ctx.decls.get(stmt.name) is not stmt:
            continue
        layers: list[ExpandedLayer] = []
        props: dict[str, tuple[Any, ast.Property]] = {}
        budget = [MAX_LAYERS]
        _expand_body(ctx, stmt.body, ctx.variables, (), layers, props, budget, stack=())
        if not layers and not any(d.severity == "error" for d in ctx.diagnostics):
            ctx.error("empty-model", f"expected at least one layer in model '{stmt.name}'; received none", stmt.name_span,
                      hint="add layers such as Input(shape=(9,)) and Dense(1)")
        ctx.models[stmt.name] = CheckedModel(stmt, layers, props)
    for block in ctx.blocks.values():
        # Blocks no model uses are still checked for recursion and arity of their own uses.
        _expand_body(ctx, block.body, _block_env(ctx, block, {}), (), [], None, [MAX_LAYERS], stack=(block.name,), dry=True)


def _block_env(ctx: Context, block: ast.BlockDecl, given: dict) -> dict:
    env = dict(ctx.variables)
    for p in block.params:
        if p.name in given:
            env[p.name] = given[p.name]
        elif p.default is not None:
            env[p.name] = ctx.eval(p.default, env)
        else:
            env[p.name] = FAILED  # unknown while checking a block on its own: expressions using it are skipped
    return env


def _expand_body(ctx, body, env, via, layers, props, budget, stack, dry=False) -> None:
    for item in body:
        if budget[0] < 0:
            return
        if isinstance(item, ast.Property):
            if _spaced_call(ctx, item, stack):
                continue
            if props is None:
                ctx.error("property-in-block", f"expected layers in block '{stack[0]}'; received the property '{item.name}'",
                          item.name_span, hint="put loss, optimizer and metrics in the model")
                continue
            if item.name in props:
                ctx.error("duplicate-name", f"expected one '{item.name}' in the model; received a second",
                          item.name_span, notes=[Note("first given here", props[item.name][1].name_span)])
                continue
            props[item.name] = (ctx.eval(item.value, env), item)
        elif isinstance(item, ast.Repeat):
            count = ctx.eval(item.count, env)
            if count is FAILED:
                if not dry:
                    continue
                count = 1  # a block checked on its own: its body is still checked once
            if dry and isinstance(count, Symbol):
                count = 1
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                ctx.error("bad-repeat", f"expected a positive integer repeat count; received {describe_value(count)}", item.count.span)
                continue
            if count > MAX_LAYERS:
                ctx.error("expansion-limit", f"expected at most {MAX_LAYERS} repetitions; received {count}", item.count.span)
                budget[0] = -1
                return
            for _ in range(count):
                _expand_body(ctx, item.body, env, via, layers, props, budget, stack, dry)
                if budget[0] < 0:
                    return
        elif isinstance(item, ast.Layer):
            call = item.call
            block = ctx.blocks.get(call.name)
            if block is None:
                value = ctx.eval(call, env)
                if value is FAILED:
                    continue
                budget[0] -= 1
                if budget[0] < 0:
                    ctx.error("expansion-limit", f"expected at most {MAX_LAYERS} layers after expanding blocks and repeats; received more",
                              (via[0] if via else call).span, hint="a nested repeat or block multiplies the layer count")
                    return
                layers.append(ExpandedLayer(call, value.args, value.kwargs, via))
                continue
            if block.name in stack:
                cycle = stack[stack.index(block.name):]
                budget[0] = -1
                if frozenset(cycle) in ctx.reported_cycles:
                    return  # the same cycle, entered from another of its blocks
                ctx.reported_cycles.add(frozenset(cycle))
                chain = " -> ".join(cycle + (block.name,))
                ctx.error("recursive-block", f"expected a block that does not use itself; received {chain}", call.name_span,
                          notes=[Note(f"block '{block.name}' is defined here", block.name_span)])
                budget[0] = -1
                return
            if len(stack) >= MAX_BLOCK_NESTING:
                if ctx.reported_too_deep:
                    budget[0] = -1
                    return  # one report for the whole chain, not one per block on it
                ctx.reported_too_deep = True
                ctx.error("too-deep", f"expected blocks nested at most {MAX_BLOCK_NESTING} deep; received a deeper chain of block uses",
                          call.name_span, hint="a block that uses a block that uses a block ... this deep is a mistake")
                budget[0] = -1
                return
            given = _bind_block(ctx, block, call, env)
            if given is None:
                if not dry:
                    continue
                given = {}
            _expand_body(ctx, block.body, _block_env(ctx, block, given), via + (call,), layers, None if dry else _NoProps(block.name),
                         budget, stack + (block.name,), dry)


def _spaced_call(ctx: Context, item: ast.Property, stack) -> bool:
    """Report ``Dense (10)``: a layer or block call written with a space before its '('."""
    text = ctx.source.text if ctx.source is not None else ""
    end = item.name_span.end
    if not text or end <= 0 or end > len(text):
        return False
    rest = text[end:item.value.span.start + 1]
    paren = end + (len(rest) - len(rest.lstrip(" \t")))
    if not rest.lstrip(" \t").startswith("(") or paren == end:
        return False
    if not (item.name[:1].isupper() or item.name in ctx.blocks):
        return False
    ctx.error(
        "syntax", f"expected a layer call such as {item.name}(...); received '{item.name} (' with a space before '('",
        ctx.source.span(item.name_span.start, paren + 1),
        hint=f"a call has no space before its '(': write {item.name}(...)",
    )
    return True


class _NoProps(dict):
    """Properties are not allowed in blocks; the first use reports it."""

    def __init__(self, block: str) -> None:
        super().__init__()
        self.block = block


def _bind_block(ctx: Context, block: ast.BlockDecl, call: ast.Call, env) -> dict | None:
    value = ctx.eval(call, env)
    failed = value is FAILED
    if failed:
        # still check the arity, which does not depend on the values
        value = Invocation(call.name, tuple(FAILED for _ in call.args), {k.name: FAILED for k in call.kwargs}, call)
    params = [p.name for p in block.params]
    given: dict[str, Any] = {}
    ok = True
    if len(value.args) > len(params):
        ctx.error("block-arity", f"expected at most {len(params)} argument{'s' if len(params) != 1 else ''} for block '{block.name}'; "
                  f"received {len(value.args)}",
                  call.args[len(params)].span, notes=[Note(f"block '{block.name}({', '.join(params)})' is defined here", block.name_span)])
        ok = False
    for p, v in zip(params, value.args):
        given[p] = v
    for k in call.kwargs:
        if k.name not in params:
            ctx.error("block-arity", f"expected a parameter of block '{block.name}' ({', '.join(params) or 'none'}); received '{k.name}'",
                      k.name_span, hint=hint_for(k.name, params))
            ok = False
        elif k.name in given:
            ctx.error("duplicate-argument", f"expected '{k.name}' once; received it again", k.name_span)
            ok = False
        else:
            given[k.name] = value.kwargs[k.name]
    missing = [p.name for p in block.params if p.name not in given and p.default is None]
    if missing:
        ctx.error("block-arity",
                  f"expected {len(params)} argument{'s' if len(params) != 1 else ''} for block '{block.name}' ({', '.join(params)}); "
                  f"received {len(given)}, missing {', '.join(missing)}",
                  call.span, notes=[Note(f"block '{block.name}' is defined here", block.name_span)])
        ok = False
    return given if ok and not failed else None


def check_steps(ctx: Context) -> None:
    """Each step is a known verb naming a known model and data source, with options that fit."""
    models_with_weights: set[str] = set()
    known_models = {n for n, d in ctx.decls.items() if isinstance(d, ast.ModelDecl)}
    data_names = [n for n, d in ctx.decls.items() if isinstance(d, ast.DataDecl)]
    for stmt in ctx.program.statements:
        if not isinstance(stmt, ast.Step):
            continue
        spec = _step_spec(ctx, stmt)
        if spec is None:
            continue
        # Every check runs even after one fails: each mistake of a step is reported at once.
        ok = _check_step_target(ctx, stmt, spec, known_models)
        clauses, clauses_ok = _step_clauses(ctx, stmt, spec, data_names)
        kwargs, options_ok = _step_options(ctx, stmt, spec, data_names)
        ok = ok and clauses_ok and options_ok
        target = stmt.target.id if stmt.target is not None else None
        if ok and spec.needs_weights and target is not None and target not in models_with_weights:
            ctx.error("step-order", f"expected model '{target}' to be trained or loaded before '{stmt.verb}'; received '{stmt.verb}' first",
                      stmt.verb_span, hint=f"add 'train {target} on DATA' or 'load {target} from \"file.keras\"' before this step")
            ok = False
        if spec.trains or spec.target == "new_model":
            if target is not None:
                models_with_weights.add(target)
        if ok:
            ctx.steps.append(CheckedStep(stmt, spec, kwargs, **clauses))


def _step_spec(ctx: Context, stmt: ast.Step) -> StepSpec | None:
    """The registered spec of the step's verb, or None (reported)."""
    steps = registry("steps")
    name = steps.resolve(stmt.verb)
    if name is None:
        ctx.error("unknown-name", f"expected a step such as train, test, save, load or predict; received '{stmt.verb}'",
                  stmt.verb_span, hint=hint_for(stmt.verb, [*steps.names(), *DECLARATIONS, *SETTINGS]))
        return None
    try:
        return steps.get(name)
    except NndslError as exc:
        ctx.error("plugin-error", str(exc), stmt.verb_span)
        return None


def _check_step_target(ctx: Context, stmt: ast.Step, spec: StepSpec, known_models: set[str]) -> bool:
    """The model after the verb: present when the verb needs one, defined (or loaded) when it must be."""
    target = stmt.target.id if stmt.target is not None else None
    if spec.target in ("model", "new_model") and target is None:
        ctx.error("missing-model", f"expected a model name after '{stmt.verb}'; received nothing", stmt.verb_span,
                  hint=f"write: {stmt.verb} MODEL ..." + (f" (models here: {', '.join(sorted(known_models))})" if known_models else ""))
        return False
    if spec.target == "none" and target is not None:
        ctx.error("unexpected-model", f"expected no model after '{stmt.verb}'; received '{target}'", stmt.target.span)
        return False
    if spec.target == "model" and target not in known_models and target not in ctx.loaded_models:
        decl = ctx.decls.get(target)
        what = f", which is a {_KIND_WORD[type(decl)]}" if decl is not None else ""
        ctx.error("unknown-name", f"expected a model name; received '{target}'{what}", stmt.target.span,
                  hint=hint_for(target, sorted(known_models | ctx.loaded_models)))
        return False
    if spec.target == "new_model":
        ctx.loaded_models.add(target)  # later steps may name it, even when this one is refused below
        decl = ctx.decls.get(target)
        if decl is not None and not isinstance(decl, ast.ModelDecl):
            ctx.error("duplicate-name", f"expected a model name; received '{target}', already a {_KIND_WORD[type(decl)]}", stmt.target.span)
            return False
    return True


_CLAUSE_EXAMPLE = {"on": "on DATA", "to": 'to "model.keras"', "from": 'from "model.keras"'}


def _step_clauses(ctx: Context, stmt: ast.Step, spec: StepSpec, data_names) -> tuple[dict, bool]:
    """The ``on``, ``to`` and ``from`` clauses, by attribute name of :class:`CheckedStep`, and whether all fit."""
    target = stmt.target.id if stmt.target is not None else None
    ok = True
    clauses = {}
    for word, attr in (("on", "on"), ("to", "to"), ("from", "from_")):
        node = getattr(stmt, attr)
        need = getattr(spec, attr)
        if node is None:
            if need == REQUIRED:
                said = f"{stmt.verb} {target}" if target else stmt.verb
                said_span = stmt.verb_span if stmt.target is None else stmt.verb_span.combine(stmt.target.span)
                ctx.error("missing-clause", f"expected '{word}' after '{said}'; received nothing",
                          said_span, hint=f"write: {stmt.verb} {target or 'MODEL'} {_CLAUSE_EXAMPLE[word]}")
                ok = False
            continue
        if need == FORBIDDEN:
            ctx.error("unexpected-clause", f"expected no '{word}' clause for '{stmt.verb}'; received one", node.span)
            ok = False
            continue
        value = ctx.eval(node)
        if value is FAILED:
            ok = False
            continue
        if word == "on":
            value = _check_data_ref(ctx, node, value, data_names)
            ok = ok and value is not None
        elif not _check_path_clause(ctx, word, node, value):
            ok = False
        clauses[attr] = value
    return clauses, ok


def _check_path_clause(ctx: Context, word: str, node, value) -> bool:
    """A ``to`` or ``from`` clause holds a non-empty file path in a string."""
    if not isinstance(value, str) or isinstance(value, Symbol):
        ctx.error("bad-argument-type", f"expected a file path in a string after '{word}'; received {describe_value(value)}", node.span,
                  hint=f'put the path in quotes: {word} "{value}"' if isinstance(value, Symbol) else None)
        return False
    if "\0" in value or not value:
        what = "an empty string" if not value else "a string holding a NUL character (\\0)"
        ctx.error("bad-argument-type", f"expected a file path in a string after '{word}'; received {what}", node.span)
        return False
    return True


def _step_options(ctx: Context, stmt: ast.Step, spec: StepSpec, data_names) -> tuple[dict, bool]:
    """The step's ``key=value`` options, each known to the verb (unless it takes any) and fitting its type."""
    ok = True
    kwargs = {}
    for k in stmt.kwargs:
        p = spec.param(k.name)
        if p is None and not spec.open_params:
            ctx.error("unknown-argument", f"expected an option of '{spec.name}' ({', '.join(q.name for q in spec.params) or 'none'}); "
                      f"received '{k.name}'",
                      k.name_span, hint=hint_for(k.name, [q.name for q in spec.params]))
            ok = False
            continue
        if k.name in kwargs:
            ctx.error("duplicate-argument", f"expected '{k.name}' once; received it again", k.name_span)
            ok = False
            continue
        value = ctx.eval(k.value)
        if value is FAILED:
            ok = False
            continue
        if p is not None and not fits(value, p.type, p.nullable):
            ctx.error("bad-argument-type", f"expected {describe_type(p.type, p.nullable)} for '{k.name}'; received {describe_value(value)}",
                      k.value.span, hint=type_hint(value, p.type, ctx.variables))
            ok = False
            continue
        if p is not None and p.type == "data":
            value = _check_data_ref(ctx, k.value, value, data_names)
            if value is None:
                ok = False
                continue
        kwargs[k.name] = value
    return kwargs, ok


def _check_data_ref(ctx: Context, node, value, data_names):
    if isinstance(value, Symbol):
        if value in ctx.data:
            return value
        decl = ctx.decls.get(value)
        if decl is not None and isinstance(decl, ast.DataDecl):
            return None  # the data source itself already has a diagnostic
        what = f", which is a {_KIND_WORD[type(decl)]}" if decl is not None else ""
        ctx.error("unknown-name", f"expected the name of a data source; received '{value}'{what}", node.span,
                  hint=hint_for(value, data_names))
        return None
    if isinstance(value, Invocation):
        spec, args = bind_data_source(ctx, node, set(ctx.data))
        if spec is None:
            return None
        return CheckedData(ast.DataDecl(name=f"<inline {spec.name}>", source=node, span=node.span, name_span=node.span), spec, args)
    ctx.error("bad-argument-type", f"expected the name of a data source; received {describe_value(value)}", node.span)
    return None


Pass = Callable[[Context], None]

# The passes, in the order they run (as sqlglot's optimizer lists its rules). Each reads the
# program and what earlier passes found; a later pass skips what an earlier one reported.
LANGUAGE_PASSES: tuple[Pass, ...] = (declare_names, evaluate_variables, check_data, expand_models, check_steps,
                                     check_argument_values, check_files)
"""Names, variables, data sources, blocks and steps: everything but Keras."""

PASSES: tuple[Pass, ...] = LANGUAGE_PASSES + KERAS_PASSES
"""Every pass: the language passes, then the Keras passes (layer names and arguments, compile
properties, shapes)."""


def parse_overrides(overrides: dict[str, str] | None, program: ast.Program) -> dict[str, ast.Expr]:
    """``--set NAME=VALUE`` values parsed as expressions; unknown names are usage errors."""
    if not overrides:
        return {}
    from ..syntax.parser import parse

    lets = [s.name for s in program.statements if isinstance(s, ast.Let)]
    out = {}
    for name, text in overrides.items():
        if name not in lets:
            guess = did_you_mean(name, lets)
            hint = f"; {guess}" if guess else (f"; the variables are: {', '.join(lets)}" if lets else "; this file has no let variables")
            raise UsageError(f"--set {name}=...: expected the name of a let variable; received '{name}'{hint}")
        try:
            prog = parse(f"let {name} = {text}", filename=f"--set {name}")
        except NndslError as exc:
            raise UsageError(f"--set {name}={text}: expected a value such as 128, 0.01, \"text\" or relu; received {text!r}") from exc
        stmt = prog.statements[0]
        if len(prog.statements) != 1:
            raise UsageError(f"--set {name}={text}: expected one value; received more")
        out[name] = stmt.value
    return out


def check(program, *, filename: str = "<string>", overrides: dict[str, str] | None = None, keras: bool = True,
          max_params: int | None = None, passes: tuple[Pass, ...] | None = None, grants: Grants = DEFAULT_GRANTS,
          nn_file: Path | str | None = None, input_widths: dict[str, int] | None = None) -> CheckedProgram:
    """Check a program and return it with everything resolved.

    Args:
        program: ``.nn`` text or a parsed :class:`~nndsl.ast.Program`.
        filename: the name used in diagnostics when ``program`` is text.
        overrides: ``--set`` values, ``{"hidden": "128"}``.
        keras: also run the Keras passes (layer names, arguments, shapes); ``keras=False`` is
            ``passes=LANGUAGE_PASSES``.
        max_params: refuse models with more parameters than this (default 1e9).
        passes: the passes to run, in order (default :data:`PASSES`, or :data:`LANGUAGE_PASSES`
            with ``keras=False``); a pass reads what the ones before it found.
        grants: what the command line allows beyond the defaults (``--allow-network``,
            ``--allow-write``); by default nothing.
        nn_file: the ``.nn`` file the program comes from, whose folder its paths are relative to
            and held to (:mod:`nndsl.paths`); by default the program's file name when it names
            an existing file, else none (text from elsewhere: paths are listed, not held).
        input_widths: model -> the input width of a model without ``Input`` that trains on a
            table (the table's encoded width, :func:`nndsl.data.check.check_with_data`), so that
            its shapes are inferred; by default they are unknown until the data is read.

    Raises:
        NndslSyntaxError: the text does not parse.
        NndslCheckError: carrying every diagnostic, in source order.
        UsageError: an override names no variable.
    """
    if isinstance(program, str):
        from ..syntax.parser import parse

        program = parse(program, filename=filename)
    if passes is None:
        passes = PASSES if keras else LANGUAGE_PASSES
    limit = DEFAULT_MAX_PARAMS if max_params is None else max_params
    if nn_file is None and program.source is not None and os.path.isfile(program.source.name):
        nn_file = program.source.name
    nn_path = Path(os.path.abspath(nn_file)) if nn_file is not None else None
    ctx = Context(program, parse_overrides(overrides, program), max_params=limit, grants=grants, nn_file=nn_path,
                  input_widths=input_widths)
    for check_pass in passes:
        check_pass(ctx)
    check_spaces(ctx, passes)
    if ctx.failed:
        ordered = sorted(ctx.diagnostics, key=lambda d: (d.span.start if d.span else -1))
        raise NndslCheckError(diagnostics=ordered)
    return CheckedProgram(program, ctx.variables, ctx.settings, ctx.data, ctx.models, ctx.steps, ctx.loaded_models,
                          warnings=tuple(ctx.warnings), max_params=limit, grants=grants, files=tuple(ctx.files), nn_file=nn_path,
                          inputs=dict(ctx.inputs), spaces=dict(ctx.spaces))
