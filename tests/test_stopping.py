"""Early stopping is said: at which epoch and why, which epoch's weights were restored, and the
final metrics are that epoch's."""

from __future__ import annotations

import io
import json

import pytest

pytestmark = pytest.mark.keras

PROGRAM = """\
seed 1
data d = csv("d.csv", target="y")
model m {{
    Input(shape=(2,))
    Dense(8, activation=relu)
    Dense(1)
    loss mse
    optimizer Adam(learning_rate=0.3)
}}
train m on d epochs=40 validation_split=0.25 callbacks=[{callback}]
"""


def _run(tmp_path, callback: str, progress: str = "plain"):
    from nndsl.run.runner import run

    rows = "".join(f"{i % 5},{i % 3},{(i % 5) * 2 + (i % 3)}\n" for i in range(40))
    (tmp_path / "d.csv").write_text("a,b,y\n" + rows)
    (tmp_path / "model.nn").write_text(PROGRAM.format(callback=callback))
    out = io.StringIO()
    state = run(tmp_path / "model.nn", out=out, err=io.StringIO(), progress=progress)
    return state, out.getvalue()


def test_early_stopping_says_when_and_why_and_reports_the_restored_epoch(tmp_path):
    state, out = _run(tmp_path, "EarlyStopping(patience=2, restore_best_weights=true)")
    history = state.models["m"].history
    trained = len(history["loss"])
    assert trained < 40
    best = min(range(trained), key=lambda i: history["val_loss"][i]) + 1
    lines = out.splitlines()
    assert f"m: EarlyStopping stopped training after epoch {trained} of 40: val_loss did not improve for 2 epochs " \
           f"(best {history['val_loss'][best - 1]:.6g} at epoch {best})" in lines
    assert f"m: restored the weights of epoch {best}, the best val_loss; the final metrics are that epoch's" in lines
    # the final table: the restored epoch's metrics, not the last epoch's
    assert f"m validation loss {history['val_loss'][best - 1]:.6g}" in lines
    assert f"m train loss {history['loss'][best - 1]:.6g}" in lines
    step = state.record.data["steps"][-1]
    assert step["stopped"]["stopped_epoch"] == trained and step["stopped"]["best_epoch"] == best and step["stopped"]["restored"]


def test_early_stopping_without_restoring_keeps_the_last_epoch(tmp_path):
    state, out = _run(tmp_path, "EarlyStopping(patience=1, min_delta=100)")
    history = state.models["m"].history
    assert len(history["loss"]) == 2  # no epoch improves by 100
    assert "m: EarlyStopping stopped training after epoch 2 of 40: val_loss did not improve for 1 epoch" in out
    assert "restored" not in out
    assert f"m train loss {history['loss'][-1]:.6g}" in out.splitlines()


def test_the_json_log_has_the_stop(tmp_path):
    _, out = _run(tmp_path, "EarlyStopping(patience=1, min_delta=100)", progress="json")
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    (stop,) = [e for e in events if e["event"] == "training_stopped"]
    assert stop["model"] == "m" and stop["by"] == "EarlyStopping" and stop["stopped_epoch"] == 2 and not stop["restored"]
