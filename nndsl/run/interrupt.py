"""Ctrl-C during training, and ``nndsl run FILE --resume``.

The first SIGINT stops training after the batch in flight (a second one aborts at once). The
model is then rolled back to the last completed epoch and written, with its optimizer state,
fitted preprocessing and loss history, to ``FILE.resume.keras`` next to the ``.nn`` file; nndsl
prints how to resume and exits with status 130. ``--resume`` loads that checkpoint at the same
``train`` step and continues from the next epoch; a run that finishes removes it.

Stopping after the batch in flight takes more than a Python signal handler. Training runs up
to ``steps_per_execution`` batches inside one compiled call, and Python handlers only run once
that call returns. So the C-level handler's wake-up byte (``signal.set_wakeup_fd``) is read by a
small thread, which sets a boolean variable that the compiled training step reads before each
batch (:meth:`StopFlag.guard`): once it is set, the rest of the call passes over its remaining
batches without training on them, and returns. Reading one variable per batch costs nothing
measurable; a check in the input pipeline instead (``take_while``) cost 0.4 ms a batch.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from pathlib import Path

from ..errors import NndslError


class Interrupted(NndslError):
    """Training was stopped by Ctrl-C; a checkpoint was written."""

    exit_code = 130

    def render(self, color: bool = False) -> str:
        return str(self)


def checkpoint_path(nn_file: Path) -> Path:
    return nn_file.with_name(nn_file.stem + ".resume.keras")


# The parts of a fingerprint, in the words of the error when one differs.
FINGERPRINT_PARTS = {"layers": "its layers", "compile": "its loss, optimizer, metrics or preprocessing", "data": "its training data"}


def fingerprint(model, data_fingerprint) -> dict[str, str | None]:
    """What a resume checkpoint records of the program it belongs to, and ``--resume`` compares:
    a digest of the model's layers with their arguments, of its compile settings and
    preprocessing, and the training data's own fingerprint. None for a part that is unknown
    (a model defined by ``load`` has no layers in the program)."""
    import dataclasses
    import hashlib
    import json

    def digest(value) -> str:
        return hashlib.sha256(json.dumps(_plain(value), sort_keys=True).encode("utf-8")).hexdigest()[:16]

    if model is None:
        return {"layers": None, "compile": None, "data": None if data_fingerprint is None else str(data_fingerprint)}
    return {
        "layers": digest([rl.call for rl in model.resolved]),
        "compile": digest({"compile": model.compile, "options": dataclasses.asdict(model.options)}),
        "data": None if data_fingerprint is None else str(data_fingerprint),
    }


def changed_parts(recorded: dict | None, current: dict) -> list[str]:
    """The parts of a fingerprint that differ (a part unknown on either side is not compared)."""
    if not recorded:
        return list(FINGERPRINT_PARTS)  # a checkpoint without one: written by another version, or not by nndsl
    return [p for p in FINGERPRINT_PARTS if recorded.get(p) is not None and current.get(p) is not None and recorded[p] != current[p]]


def _plain(value):
    """A checked value as JSON: calls and names by their registered names, arguments by name."""
    spec = getattr(value, "spec", None)
    if spec is not None and hasattr(value, "args"):
        return {"call": spec.name, "args": {k: _plain(v) for k, v in sorted(value.args.items())}}
    if spec is not None and hasattr(value, "name"):
        return {"name": value.name}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


class StopFlag:
    """Set by the first SIGINT; training stops after the batch in flight."""

    def __init__(self) -> None:
        self.requested = False
        self._variable = None  # a tf.Variable(bool) the guarded training step reads, made by guard()

    # ------------------------------------------------------------ the guarded step
    def guard(self, model) -> None:
        """Make ``model``'s compiled training step skip its batch once Ctrl-C is pressed.

        The skipped steps change no weight and no optimizer state; the metrics they report
        are the ones already accumulated. Only the TensorFlow backend compiles several steps
        into one call; elsewhere the Python handler is reached after every batch.
        """
        import keras

        if keras.backend.backend() != "tensorflow" or getattr(model, "_nndsl_stop", None) is self:
            return
        import tensorflow as tf

        if self._variable is None:
            self._variable = tf.Variable(self.requested, trainable=False, dtype=tf.bool, name="nndsl_stop")
        go_on = self._variable
        train_step = model.train_step

        def guarded_train_step(data):
            # the training branch first: tracing it builds the metrics the other one reads
            return tf.cond(tf.logical_not(go_on), lambda: train_step(data), model.get_metrics_result)

        model.train_step = guarded_train_step
        model._nndsl_stop = self
        model.train_function = None  # retrace with the guarded step

    def _close(self) -> None:
        self.requested = True
        if self._variable is not None:
            self._variable.assign(True)

    # ------------------------------------------------------------ signal handling
    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        presses = []  # counted apart from the watcher's: both see every press

        def handler(signum, frame):
            presses.append(signum)
            if len(presses) > 1:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            self._close()

        previous = signal.signal(signal.SIGINT, handler)
        watcher = _Watcher(self)
        try:
            with watcher:
                yield
        finally:
            signal.signal(signal.SIGINT, previous)


class _Watcher:
    """Reads the signal wake-up bytes on a thread, so Ctrl-C reaches the guarded training step
    while the main thread is inside a compiled call."""

    def __init__(self, flag: StopFlag) -> None:
        self.flag = flag
        self.previous = -1
        self.pair = None
        self.thread = None
        self.presses = 0

    def __enter__(self):
        try:
            reader, writer = socket.socketpair()
            writer.setblocking(False)
            self.previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        except (OSError, ValueError):  # no socket pairs, or a wake-up fd owned elsewhere
            return self
        self.pair = (reader, writer)
        self.thread = threading.Thread(target=self._watch, name="nndsl-sigint", daemon=True)
        self.thread.start()
        return self

    def _watch(self) -> None:
        reader = self.pair[0]
        while True:
            try:
                data = reader.recv(64)
            except OSError:
                return
            if not data:
                return
            presses = data.count(signal.SIGINT)
            if not presses:
                continue
            self.presses += presses
            if self.presses > 1:
                # a second Ctrl-C while the main thread is busy in a compiled call: abort now;
                # every artefact is written atomically, so nothing half-written is left behind
                os.write(sys.stderr.fileno(), b"interrupted again: stopped without a checkpoint\n")
                os._exit(130)
            self.flag._close()

    def __exit__(self, *exc) -> None:
        if self.pair is None:
            return
        signal.set_wakeup_fd(self.previous)
        reader, writer = self.pair
        writer.close()  # the reader sees end of file and the thread ends
        self.thread.join(timeout=1.0)
        reader.close()


def callback(flag: StopFlag, snapshots: dict, *, together: bool = False):
    """Stops training when asked; keeps the weights and optimizer state of the last completed epoch.

    ``together``: one process of a multi-process group. Every process must train the same
    batches, so a Ctrl-C takes effect at the end of the epoch, once all processes have agreed.
    """
    import keras

    class Stop(keras.callbacks.Callback):
        # Batches are counted with the optimizer's step counter: a compiled call that the guard
        # cut short still reports the whole range of batches it was given.
        def on_epoch_begin(self, epoch, logs=None):
            self.start = _iterations(self.model)

        def on_train_batch_end(self, batch, logs=None):
            if flag.requested and not together:
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if together:
                from .distributed import any_process

                if any_process(flag.requested):
                    flag.requested = True
                    self.model.stop_training = True
            steps = self.params.get("steps")
            if flag.requested and steps and _iterations(self.model) - self.start < steps:
                return  # stopped inside this epoch: the snapshot of the previous one stands
            snapshots["epoch"] = epoch + 1
            snapshots["weights"] = [v.numpy().copy() for v in self.model.weights]
            opt = self.model.optimizer
            snapshots["optimizer"] = [v.numpy().copy() for v in opt.variables] if opt is not None else []

    return Stop()


def _iterations(model) -> int:
    opt = model.optimizer
    return int(opt.iterations.numpy()) if opt is not None and getattr(opt, "built", False) else 0


def restore(model, snapshots: dict) -> None:
    """Put the model back to the last completed epoch's state."""
    for v, value in zip(model.weights, snapshots.get("weights", ())):
        v.assign(value)
    opt = model.optimizer
    if opt is not None:
        for v, value in zip(opt.variables, snapshots.get("optimizer", ())):
            v.assign(value)
