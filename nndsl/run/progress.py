"""Training progress for people and machines: a rich live display, plain lines, or JSON events.

The Keras callback below follows ``keras.callbacks.ProgbarLogger``'s lifecycle and is used
with ``fit(verbose=0)``. The rich display has two reused rows (the epochs, and the batches of
the current epoch), with a line per finished epoch printed above them, as Keras prints. It is
redrawn from the callback at most twice a second; when many batches run in one compiled call
and the callback is not called for a while, a small timer redraws it twice a second (the time
columns move), so a long epoch never looks frozen, without splitting the compiled calls.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from .record import finite_json

REDRAW = 0.5  # seconds between redraws of the rich display
_BAR = 20  # the bar's width in the rich display
_TIME = 7  # the width of rich's elapsed and remaining times ("0:00:05")


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


def make_callback(events: Events, model_name: str, min_interval: float = 0.1, stop=None, ticker: bool = True,
                  scaled_loss: bool = False):
    """A ``keras.callbacks.Callback`` reporting epochs and batches to ``events``.

    Args:
        stop: the run's :class:`nndsl.run.interrupt.StopFlag`: once Ctrl-C is pressed, the epoch
            cut short is not reported as if it had finished.
        ticker: in rich mode, redraw twice a second while the callback is not called.
        scaled_loss: the loss is that of a scaled target: the lines and the display say so.
    """
    return _callback_type()(events, model_name, min_interval, stop, ticker, scaled_loss)


@functools.cache
def _callback_type() -> type:
    """:class:`_Reporter` as a Keras callback (built on first use: Keras is imported then)."""
    import keras

    return type("ProgressCallback", (_Reporter, keras.callbacks.Callback), {})


class _Reporter:
    """What the progress callback does at each point of ``fit``; :func:`make_callback` makes it a Keras callback."""

    def __init__(self, events: Events, model_name: str, min_interval: float, stop=None, ticker: bool = True,
                 scaled_loss: bool = False) -> None:
        super().__init__()
        self.scaled_loss = scaled_loss
        self.events = events
        self.model_name = model_name
        self.min_interval = min_interval
        self.stop = stop
        self.ticker = None if not ticker else _Ticker(self)
        self.real_drawn = time.monotonic()
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
        self.events.emit("train_begin", model=self.model_name, epochs=self.epochs, steps=self.steps,
                         **({"loss_on": "scaled target"} if self.scaled_loss else {}))
        if self.events.mode == "rich":
            self.progress = _rich_progress(self.events)
            self.progress.start()
            self.epoch_task = self.progress.add_task(f"{self.model_name} epochs", total=self.epochs, metrics="")
            self.task = self.progress.add_task(f"{self.model_name} epoch", total=self.steps, metrics="")
            if self.ticker is not None:
                self.ticker.start()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.epoch_start = self.events.clock()
        self.first_step = _optimizer_steps(getattr(self, "model", None))
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
        # with several batches per compiled call, Keras reports the call's last batch, which
        # may lie past the epoch's end: the counter stops at the epoch's size
        done = batch + 1 if not self.steps else min(batch + 1, self.steps)
        self.progress.update(self.task, completed=done, metrics=self._fit(self._logs(logs or {})), refresh=False)
        self._redraw(now)

    def on_epoch_end(self, epoch, logs=None):
        if self.stop is not None and self.stop.requested and not self._epoch_complete():
            return  # Ctrl-C cut this epoch short: it did not finish, and its logs are not its metrics
        logs = dict(logs or {})
        seconds = self.events.clock() - self.epoch_start
        self.events.emit("epoch_end", model=self.model_name, epoch=epoch + 1, epochs=self.epochs, seconds=round(seconds, 4), **logs)
        line = f"{self.model_name} epoch {epoch + 1}/{self.epochs} {self._logs(logs)} ({seconds:.2f}s)"
        if self.progress is not None:
            self.progress.update(self.task, completed=self.steps or 0, metrics="", refresh=False)
            self.progress.update(self.epoch_task, completed=epoch + 1, metrics=self._fit(self._logs(logs)), refresh=False)
            self.progress.console.print(line, highlight=False)  # above the live rows, which stay at the bottom
            self._redraw(self.events.clock(), force=True)
        elif self.events.mode == "plain":
            self.events.line(line)

    def _epoch_complete(self) -> bool:
        """Whether every batch of the epoch ran (counted with the optimizer's steps, as the
        interrupt guard counts them): a group of processes stops together at an epoch's end."""
        steps = self.steps
        first = getattr(self, "first_step", None)
        if not steps or first is None:
            return False
        done = _optimizer_steps(getattr(self, "model", None))
        return done is not None and done - first >= steps

    def _logs(self, logs: dict) -> str:
        if not self.scaled_loss:
            return format_logs(logs)
        # compact, for the lines: loss[scaled]=0.01 (the other metrics are in raw units)
        return format_logs({f"{k}[scaled]" if k in ("loss", "val_loss") else k: v for k, v in logs.items()})

    def _fit(self, metrics: str) -> str:
        """The metrics shortened to what the terminal leaves beside the bar, the counts and the times."""
        width = self.progress.console.width
        names = max(len(t.description) for t in self.progress.tasks)
        count = 2 * len(str(self.steps or self.epochs or 0)) + 1
        room = width - (names + 1) - (_BAR + 1) - (count + 1) - 2 * (_TIME + 1)
        if len(metrics) <= room:
            return metrics
        return metrics[:max(room - 1, 0)] + "…" if room > 1 else ""

    def _redraw(self, now, force=False):
        # Drawing happens here, at most every REDRAW seconds, so the display never competes
        # with training for the interpreter between batches (the ticker only fills long gaps).
        if force or now - self.drawn >= REDRAW:
            self.drawn = now
            self.real_drawn = time.monotonic()
            self.progress.refresh()

    def on_train_end(self, logs=None):
        if self.ticker is not None:
            self.ticker.stop()
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        self.events.emit("train_end", model=self.model_name)


class _Ticker:
    """Redraws the rich display every REDRAW seconds of the real clock while the callback is not
    called: a compiled call of many batches holds the callback back for the whole call."""

    def __init__(self, reporter: _Reporter) -> None:
        self.reporter = reporter
        self.done = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        self.done.clear()
        self.thread = threading.Thread(target=self._run, name="nndsl-progress", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()
            self.thread = None

    def _run(self) -> None:
        while not self.done.wait(REDRAW):
            progress = self.reporter.progress
            if progress is not None and time.monotonic() - self.reporter.real_drawn >= REDRAW:
                progress.refresh()


def _rich_progress(events: Events):
    """The rich display, not yet started: two rows, reused for the whole run (the epochs, and the
    batches of the current one). Few rows and a slow refresh keep the display's share of the CPU small."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.table import Column

    # The bar, the counts and the times keep their widths; the metrics come last and are the
    # one column shortened (with '…') when the terminal is narrow, as on 80 columns.
    def fixed():
        return Column(no_wrap=True)

    return Progress(
        TextColumn("[bold]{task.description}", table_column=fixed()), BarColumn(bar_width=_BAR, table_column=fixed()),
        MofNCompleteColumn(table_column=fixed()), TimeElapsedColumn(table_column=fixed()), TimeRemainingColumn(table_column=fixed()),
        TextColumn("{task.fields[metrics]}", table_column=Column(no_wrap=True, overflow="ellipsis")),
        console=events.console, auto_refresh=False, transient=False, get_time=events.clock,
        # not redirecting stdout/stderr: the redirection alone cost 5-15 % per epoch on
        # small models, and nothing prints while training runs
        redirect_stdout=False, redirect_stderr=False,
    )


def _optimizer_steps(model) -> int | None:
    """The optimizer's step counter, or None before it is built."""
    opt = getattr(model, "optimizer", None)
    if opt is None or not getattr(opt, "built", False):
        return None
    return int(opt.iterations.numpy())
