"""Ctrl-C during training, and ``nndsl run FILE --resume``.

The first SIGINT asks training to stop after the current batch (a second one aborts at once).
The model is then rolled back to the last completed epoch and written, with its optimizer
state, fitted preprocessing and loss history, to ``FILE.resume.keras`` next to the ``.nn``
file; nndsl prints how to resume and exits with status 130. ``--resume`` loads that
checkpoint at the same ``train`` step and continues from the next epoch; a run that finishes
removes it.
"""

from __future__ import annotations

import contextlib
import signal
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


class StopFlag:
    """Set by the first SIGINT; training stops at the next batch boundary."""

    def __init__(self) -> None:
        self.requested = False

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self.requested:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            self.requested = True

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def callback(flag: StopFlag, snapshots: dict):
    """Stops training when asked; keeps the weights and optimizer state of the last completed epoch."""
    import keras

    class Stop(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.seen = 0

        def on_train_batch_end(self, batch, logs=None):
            self.seen = batch + 1
            if flag.requested:
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            steps = self.params.get("steps")
            if flag.requested and steps and self.seen < steps:
                return  # stopped inside this epoch: the snapshot of the previous one stands
            snapshots["epoch"] = epoch + 1
            snapshots["weights"] = [v.numpy().copy() for v in self.model.weights]
            opt = self.model.optimizer
            snapshots["optimizer"] = [v.numpy().copy() for v in opt.variables] if opt is not None else []

    return Stop()


def restore(model, snapshots: dict) -> None:
    """Put the model back to the last completed epoch's state."""
    for v, value in zip(model.weights, snapshots.get("weights", ())):
        v.assign(value)
    opt = model.optimizer
    if opt is not None:
        for v, value in zip(opt.variables, snapshots.get("optimizer", ())):
            v.assign(value)
