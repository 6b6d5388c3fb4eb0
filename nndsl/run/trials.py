"""What a search shows and records: a live table of its trials, a line or a JSON event per trial, the run record's entry."""

from __future__ import annotations

from .runner import RunState
from .search import Search, shown_url


class TrialTable:
    """The trials so far: a live table on a terminal, a line per trial otherwise, JSON events for machines."""

    COLUMNS = ("trial", "values", "objective", "state", "seconds")

    def __init__(self, state: RunState, search: Search) -> None:
        self.events = state.events
        self.console = state.console
        self.live = None
        self.shown: set[int] = set()
        self.objective = search.objective

    def __enter__(self) -> TrialTable:
        if self.events.mode == "rich" and self.console is not None:
            from rich.live import Live

            self.live = Live(console=self.console, auto_refresh=False, transient=False)
            self.live.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.stop()

    def update(self, search: Search) -> None:
        trials = search.study.get_trials(deepcopy=False)
        best = best_number(search)
        if self.live is not None:
            self.live.update(self.rich_table(trials, best), refresh=True)
            return
        for t in trials:
            if t.number in self.shown or t.state.name == "RUNNING":
                continue
            self.shown.add(t.number)
            row = trial_row(t)
            self.events.emit("trial", number=t.number, values=t.user_attrs.get("set", {}), objective=t.value, state=row[3],
                             seconds=t.user_attrs.get("seconds"), reason=t.user_attrs.get("failure"))
            mark = " (best so far)" if t.number == best else ""
            self.events.line(f"trial {row[0]}: {row[1]}  {self.objective}={row[2]}  {row[3]}  {row[4]}s{mark}")

    def rich_table(self, trials, best):
        from rich.table import Table

        table = Table(title=f"trials ({self.objective})", title_justify="left")
        for c in self.COLUMNS:
            table.add_column(c, justify="right" if c in ("trial", "objective", "seconds") else "left")
        for t in trials:
            table.add_row(*trial_row(t), style="bold green" if t.number == best else None)
        return table


def trial_row(t) -> tuple[str, ...]:
    """One trial as the table shows it: number, values, objective, state, seconds."""
    values = " ".join(f"{k}={_short(v)}" for k, v in (t.user_attrs.get("set") or {}).items())
    objective = f"{t.value:.6g}" if t.value is not None else "-"
    state = t.state.name.lower()
    if t.state.name == "FAIL":
        state = f"failed: {t.user_attrs['failure']}" if "failure" in t.user_attrs else "failed: stopped before it finished"
    seconds = t.user_attrs.get("seconds")
    return str(t.number), values, objective, state, f"{seconds:.1f}" if seconds is not None else "-"


def _short(text: str) -> str:
    """A value as the table shows it: floats to four significant digits (the record and the flags keep every digit)."""
    try:
        value = float(text)
    except ValueError:
        return text
    return f"{value:.4g}" if any(c in text for c in ".e") else text


def best_number(search: Search) -> int | None:
    try:
        return search.study.best_trial.number
    except ValueError:  # no complete trial yet
        return None


def record_of(search: Search, best) -> dict:
    """The search as the run record keeps it: every trial, and the best."""
    trials = []
    for t in search.study.get_trials(deepcopy=False):
        trials.append({"number": t.number, "state": t.state.name.lower(), "values": t.user_attrs.get("set", {}), "objective": t.value,
                       "seconds": t.user_attrs.get("seconds"), "epochs": t.user_attrs.get("epochs"), "reason": t.user_attrs.get("failure"),
                       "intermediate": {str(k): v for k, v in t.intermediate_values.items()}})
    return {"study": search.study_name, "storage": shown_url(search.storage_url), "objective": search.objective,
            "direction": search.direction,
            "sampler": search.sampler, "pruner": search.pruner, "budget": search.trials, "trials": trials,
            "best": {"number": best.number, "objective": best.value, "values": best.user_attrs.get("set", {})} if best else None}
