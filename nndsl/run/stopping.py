"""Saying when a callback ended training early, and which epoch's weights the model keeps.

Keras's ``EarlyStopping`` stops ``fit`` quietly (and, with ``restore_best_weights``, puts back
the weights of its best epoch). After ``fit`` returns, :func:`describe` reads what the
callbacks did and words it for the progress output, the JSON log and the run record.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stop:
    """How training ended, when a callback ended it or chose the weights kept.

    Epochs count from 1, as the progress lines do.

    Attributes:
        by: the callback's class name.
        stopped_epoch: the last epoch trained, when the callback stopped training early; else None.
        monitor: the quantity watched (``val_loss``), when the callback watches one.
        patience: epochs without improvement it waited.
        best_epoch: the epoch with the best value of ``monitor``.
        best: that value.
        restored: whether the model now holds the weights of ``best_epoch``.
    """

    by: str
    stopped_epoch: int | None
    monitor: str | None = None
    patience: int | None = None
    best_epoch: int | None = None
    best: float | None = None
    restored: bool = False

    def lines(self, model: str, epochs: int) -> list[str]:
        """What the progress output says about it."""
        out = []
        if self.stopped_epoch is not None:
            why = ""
            if self.monitor is not None and self.patience is not None:
                why = f": {self.monitor} did not improve for {self.patience} epoch{'s' if self.patience != 1 else ''}"
                if self.best_epoch is not None and self.best is not None:
                    why += f" (best {self.best:.6g} at epoch {self.best_epoch})"
            out.append(f"{model}: {self.by} stopped training after epoch {self.stopped_epoch} of {epochs}{why}")
        if self.restored and self.best_epoch is not None:
            out.append(f"{model}: restored the weights of epoch {self.best_epoch}, the best {self.monitor}; "
                       f"the final metrics are that epoch's")
        return out

    def fields(self) -> dict:
        """For the JSON log and the run record."""
        return {"by": self.by, "stopped_epoch": self.stopped_epoch, "monitor": self.monitor, "best_epoch": self.best_epoch,
                "best": self.best, "restored": self.restored}


def describe(model, callbacks, *, last_epoch: int, epochs: int) -> Stop | None:
    """What the callbacks of a finished ``fit`` did to it, or None when it ran its course untouched.

    Args:
        model: the Keras model just trained.
        callbacks: the callbacks given to ``fit``.
        last_epoch: the last epoch trained (counting from 1).
        epochs: the epochs asked for.
    """
    import keras

    for cb in callbacks:
        if not isinstance(cb, keras.callbacks.EarlyStopping):
            continue
        stopped = cb.stopped_epoch + 1 if cb.stopped_epoch > 0 else None
        restored = bool(cb.restore_best_weights and cb.best_weights is not None)
        if stopped is None and not restored:
            continue
        best = getattr(cb, "best", None)
        known = best is not None and abs(float(best)) != float("inf")
        return Stop(by=type(cb).__name__, stopped_epoch=stopped, monitor=cb.monitor, patience=cb.patience,
                    best_epoch=cb.best_epoch + 1 if known else None, best=float(best) if known else None, restored=restored)
    if getattr(model, "stop_training", False) and last_epoch < epochs:
        return Stop(by="a callback", stopped_epoch=last_epoch)
    return None
