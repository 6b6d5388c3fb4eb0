"""The ``tune`` step: a search over the program's search spaces (:mod:`nndsl.run.search`), shown as it
goes (:mod:`nndsl.run.trials`), then the best model trained.

After the search, the model is rebuilt with the best trial's values and trained as the step's
``train`` would (the seed set again first), so the steps after ``tune`` use the best model, and
``nndsl run FILE --set ...`` with the printed flags trains the same model. ``--workers N`` starts
N-1 more processes on this machine sharing the study (:func:`work` is each one's entry point);
on several hosts, ``nndsl run FILE --storage URL`` on each. With ``track mlflow``, each trial is a
nested MLflow run of the run's, logged by the process that trains it (the workers included).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from ..semantics.check import CheckedStep
from .runner import ModelState, RunState
from .search import Search, TuneOptions, best_trial, optuna_for, reseed, shown_url, train_step
from .trials import TrialTable, record_of


def set_flags(texts: dict[str, str]) -> str:
    """``--set NAME=VALUE ...`` for the command line, each quoted for a POSIX shell where it needs it."""
    return " ".join(f"--set {shlex.quote(f'{name}={text}')}" for name, text in texts.items())


# ---------------------------------------------------------------- the step


def tune(state: RunState, step: CheckedStep) -> None:
    """``tune MODEL on DATA trials=N objective=... direction=...``: the search, then the best model trained."""
    options: TuneOptions = state.tune_options or TuneOptions()
    if state.group is not None and state.checked.spaces:
        raise state.error("expected a search in a run of one process; received a tune step in a multi-process run", step,
                          code="unsupported-option", span=step.node.verb_span,
                          hint="trials are independent: search with --workers N (one machine) or --storage URL (several hosts)")
    if not state.checked.spaces:
        # every space fixed (by --set): a search of one point is training it
        state.events.line(f"tune {step.target}: no search spaces left to search; training with the values given")
        reseed(state)
        train_step(state, step)
        return
    optuna = optuna_for(state, step)
    search = Search.of(state, step, options)
    search.open(optuna)
    trial_runs = getattr(state.tracker, "trial_runs", None)  # MLflow's; TensorBoard has no nested runs
    search.runs = trial_runs(state.err) if trial_runs is not None else None
    workers = _start_workers(state, step, search) if options.workers > 1 else []
    from .interrupt import Interrupted

    done_before = len(search.counted())
    if done_before:
        state.events.line(f"study {search.study_name}: {done_before} of {search.trials} trials done already"
                          + (" (--fresh starts over)" if done_before >= search.trials else "; resuming"))
    try:
        with TrialTable(state, search) as table:
            table.update(search)
            search.run(optuna, table)
            _wait(workers, state)
            table.update(search)
    except (Interrupted, KeyboardInterrupt):  # Ctrl-C in training, or between two trials
        _stop(workers)
        raise Interrupted(f"interrupted: {len(search.counted())} of {search.trials} trials of the search are done and kept in "
                          f"{_shown_storage(search)}\nto continue: nndsl run {state.nn_file.name}") from None
    except BaseException:
        _stop(workers)
        raise
    best = best_trial(search)
    state.record.data.setdefault("tune", {})[step.target] = record_of(search, best)
    if best is None:
        reasons = {t.user_attrs.get("failure") for t in search.study.get_trials(deepcopy=False) if t.user_attrs.get("failure")}
        raise state.error(f"expected at least one trial of the search to complete; received none of {len(search.counted())}",
                          step, code="run-error", hint=("the trials failed with: " + "; ".join(sorted(reasons)[:3])) if reasons else None)
    texts = best.user_attrs.get("set", {})
    state.events.line(f"best trial {best.number}: {search.objective}={best.value:.6g}")
    state.events.line(f"to train this model without searching: nndsl run {state.nn_file.name} {set_flags(texts)}")
    state.tune_studies = {**getattr(state, "tune_studies", {}), step.target: search}
    _train_best(state, step, texts)


def _train_best(state: RunState, step: CheckedStep, texts: dict[str, str]) -> None:
    """Rebuild the model with the best values and train it as ``train`` would; later steps use it."""
    from ..semantics.check import check

    overrides = {**(state.record.data.get("overrides") or {}), **texts}
    checked = check(state.checked.program, overrides=overrides, max_params=state.checked.max_params,
                    grants=state.checked.grants, nn_file=state.checked.nn_file)
    best_step = next(s for s in checked.steps if s.node is step.node)
    state.checked = checked
    state.models[step.target] = ModelState(step.target, checked.models.get(step.target))
    state.encoded.pop(step.target, None)
    reseed(state)
    train_step(state, best_step)


def _shown_storage(search: Search) -> str:
    url = search.storage_url
    return Path(url.removeprefix("sqlite:///")).name if url.startswith("sqlite:///") else shown_url(url)


# ---------------------------------------------------------------- more processes


def _start_workers(state: RunState, step: CheckedStep, search: Search) -> list:
    """N-1 more processes on this machine, each running trials of the same study until the budget is spent."""
    overrides = state.record.data.get("overrides") or {}
    procs = []
    for index in range(1, search.options.workers):
        argv = [sys.executable, "-m", "nndsl.run.tune", str(state.nn_file), "--line", str(step.node.span.line),
                "--storage", search.storage_url, "--index", str(index), "--backend", state.backend]
        argv += [arg for module in search.options.plugins for arg in ("--plugin", module)]  # names it registers
        for name, text in overrides.items():
            argv += ["--set", f"{name}={text}"]
        grants = state.checked.grants  # the same program, checked under the same rules
        argv += [arg for folder in grants.write for arg in ("--allow-write", str(folder))]
        argv += ["--allow-network"] if grants.network else []
        if search.runs is not None:  # each worker logs the trials it trains under the same parent run
            argv += ["--mlflow-uri", search.runs.uri, "--mlflow-parent", search.runs.parent_run_id]
        procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    state.events.line(f"searching with {search.options.workers} processes")
    return procs


def _wait(procs: list, state: RunState) -> None:
    for p in procs:
        _out, err = p.communicate()
        if p.returncode != 0:
            state.err.write(f"warning: a worker process of the search ended with status {p.returncode}\n{err}")


def _stop(procs: list) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def work(argv: list[str] | None = None) -> int:
    """A worker process started by ``--workers``: trials of the tune step at ``--line`` until the budget is spent."""
    import argparse
    import importlib

    from ..paths import Grants
    from ..semantics.check import check
    from ..syntax.parser import parse_file
    from .backend import activate
    from .quiet import prepare
    from .record import RunRecord

    parser = argparse.ArgumentParser(prog="nndsl tune worker")
    parser.add_argument("file")
    parser.add_argument("--line", type=int, required=True)
    parser.add_argument("--storage", required=True)
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--backend", default="tensorflow")
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--allow-write", action="append", default=[])
    parser.add_argument("--allow-network", action="store_true")
    parser.add_argument("--mlflow-uri")
    parser.add_argument("--mlflow-parent")
    parser.add_argument("--plugin", action="append", default=[])
    args = parser.parse_args(argv)
    for module in args.plugin:  # the same --plugin modules as the command line that started this worker
        importlib.import_module(module)
    overrides = dict(s.split("=", 1) for s in args.set)
    path = Path(args.file)
    grants = Grants(network=args.allow_network, write=tuple(Path(folder) for folder in args.allow_write))
    checked = check(parse_file(path), overrides=overrides, grants=grants)
    activate(args.backend, checked, from_cli=True)
    prepare(False)
    state = RunState(checked, base_dir=path.resolve().parent, out=sys.stdout, err=sys.stderr, progress="none",
                     record=RunRecord("", str(path), checked.settings.get("seed"), overrides), nn_file=path, backend=args.backend)
    step = next(s for s in checked.steps if s.verb == "tune" and s.node.span.line == args.line)
    search = Search.of(state, step, TuneOptions(storage=args.storage, worker_index=args.index))
    optuna = optuna_for(state, step)
    search.open(optuna)
    if args.mlflow_uri and args.mlflow_parent:
        from .tracking import TrialRuns

        search.runs = TrialRuns(args.mlflow_uri, args.mlflow_parent, sys.stderr)

    class Quiet:
        def update(self, search) -> None:
            pass

    search.run(optuna, Quiet())
    return 0


if __name__ == "__main__":
    sys.exit(work())
