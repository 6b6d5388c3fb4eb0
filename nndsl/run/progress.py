"""Training progress for people and machines: a rich live display, plain lines, or JSON events.

The Keras callback below follows ``keras.callbacks.ProgbarLogger``'s lifecycle and is used
with ``fit(verbose=0)``. The rich display has two reused rows (the epochs, and the
batches of the current epoch) and no refresh thread: it is redrawn from the callback at most
twice a second, so it never competes with training between batches.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any, TextIO

from .record import finite_json

REDRAW = 0.5  # seconds between redraws of the rich display


def choose_mode(requested: str | None, stream: TextIO) -> str:
    """``rich`` on a terminal, ``plain`` elsewhere, unless a mode was asked for."""
    if requested and requested != "auto":
        return requested
    isatty = getattr(stream, "isatty", None)
    return "rich" if isatty is not None and isatty() else "plain"


def format_logs(logs: dict[str, Any]) -> str:
    return " ".join(f"{k}={_num(v)}" for k, v in logs.items())


def _num(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{f:.4g}"


class Events:
    """Where progress goes: ``emit(event, **fields)`` for json, lines for plain, a live display for rich."""

    def __init__(self, mode: str, stream: TextIO, console=None, clock: Callable[[], float] = time.monotonic) -> None:
        self.mode = mode
        self.stream = stream
        self.console = console
        self.clock = clock

    def emit(self, event: str, **fields) -> None:
        if self.mode == "json":
            # strict JSON, one object a line: a diverged loss is null, not NaN
            self.stream.write(json.dumps(finite_json({"event": event, **fields}), allow_nan=False) + "\n")
            self.stream.flush()

    def note(self, text: str) -> None:
        """Something the user should know (data left out...): a line, or a ``message`` event in json."""
        if self.mode == "json":
            self.emit("message", text=text)
        else:
            self.line(text)

    def line(self, text: str) -> None:
        if self.mode == "plain":
            self.stream.write(text + "\n")
            self.stream.flush()
        elif self.mode == "rich" and self.console is not None:
            self.console.print(text, highlight=False)


def make_callback(events: Events, model_name: str, min_interval: float = 0.1):
    """A ``keras.callbacks.Callback`` reporting epochs and batches to ``events``."""
    return _callback_type()(events, model_name, min_interval)


@functools.cache
def _callback_type() -> type:
    """:class:`_Reporter` as a Keras callback (built on first use: Keras is imported then)."""
    import keras

    return type("ProgressCallback", (_Reporter, keras.callbacks.Callback), {})


class _Reporter:
    """What the progress callback does at each point of ``fit``; :func:`make_callback` makes it a Keras callback."""

    def __init__(self, events: Events, model_name: str, min_interval: float) -> None:
        super().__init__()
        self.events = events
        self.model_name = model_name
        self.min_interval = min_interval
        self.progress = None
        self.task = None
        self.epoch_task = None
        self.drawn = float("-inf")
        self.epochs = 0
        self.steps = None
        self.last = 0.0
        self.epoch_start = 0.0
        self.epoch = 0

    def set_params(self, params):
        super().set_params(params)
        self.epochs = params.get("epochs") or 0
        self.steps = params.get("steps")

    def on_train_begin(self, logs=None):
        self.events.emit("train_begin", model=self.model_name, epochs=self.epochs, steps=self.steps)
        if self.events.mode == "rich":
            self.progress = _rich_progress(self.events)
            self.progress.start()
            self.epoch_task = self.progress.add_task(f"{self.model_name} epochs", total=self.epochs, metrics="")
            self.task = self.progress.add_task(f"{self.model_name} epoch", total=self.steps, metrics="")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.epoch_start = self.events.clock()
        if self.progress is not None:
            # update, not reset: rich's reset redraws the whole display every time
            self.progress.update(self.task, total=self.steps, completed=0, description=f"{self.model_name} epoch {epoch + 1}/{self.epochs}",
                                 metrics="", refresh=False)

    def on_train_batch_end(self, batch, logs=None):
        if self.progress is None:
            return
        now = self.events.clock()
        if now - self.last < self.min_interval:
            return
        self.last = now
        self.progress.update(self.task, completed=batch + 1, metrics=format_logs(logs or {}), refresh=False)
        self._redraw(now)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        seconds = self.events.clock() - self.epoch_start
        self.events.emit("epoch_end", model=self.model_name, epoch=epoch + 1, epochs=self.epochs, seconds=round(seconds, 4), **logs)
        if self.progress is not None:
            self.progress.update(self.task, completed=self.steps or 0, metrics=format_logs(logs), refresh=False)
            self.progress.update(self.epoch_task, completed=epoch + 1, metrics=format_logs(logs), refresh=False)
            self._redraw(self.events.clock(), force=epoch + 1 == self.epochs)
        elif self.events.mode == "plain":
            self.events.line(f"{self.model_name} epoch {epoch + 1}/{self.epochs} {format_logs(logs)} ({seconds:.2f}s)")

    def _redraw(self, now, force=False):
        # No refresh thread: drawing happens here, at most every REDRAW seconds, so the
        # display never competes with training for the interpreter between batches.
        if force or now - self.drawn >= REDRAW:
            self.drawn = now
            self.progress.refresh()

    def on_train_end(self, logs=None):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        self.events.emit("train_end", model=self.model_name)


def _rich_progress(events: Events):
    """The rich display, not yet started: two rows, reused for the whole run (the epochs, and the
    batches of the current one). Few rows and a slow refresh keep the display's share of the CPU small."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[metrics]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=events.console, auto_refresh=False, transient=False, get_time=events.clock,
        # not redirecting stdout/stderr: the redirection alone cost 5-15 % per epoch on
        # small models, and nothing prints while training runs
        redirect_stdout=False, redirect_stderr=False,
    )
