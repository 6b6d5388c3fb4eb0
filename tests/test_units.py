"""Honest units: with scale_target, every metric shown is in the target's raw units, for every
split, and the loss (the optimizer's, on the scaled target) is labelled so."""

from __future__ import annotations

import io
import json

import pytest

pytestmark = pytest.mark.keras

PROGRAM = """\
seed 2
data d = csv("d.csv", target="price")
model m {
    Input(shape=(2,))
    Dense(8, activation=relu)
    Dense(1)
    loss mse
    optimizer Adam(learning_rate=0.01)
    metrics [mae]
    scale_features standard
    scale_target standard
}
train m on d epochs=3 validation_data=d shuffle=false
test m on d
plot m to "curves.png"
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from nndsl.run.runner import run

    folder = tmp_path_factory.mktemp("units")
    rows = "".join(f"{i % 7},{i % 5},{1_000_000 + 50_000 * (i % 7) + 20_000 * (i % 5)}\n" for i in range(60))
    (folder / "d.csv").write_text("a,b,price\n" + rows)
    (folder / "model.nn").write_text(PROGRAM)
    out = io.StringIO()
    state = run(folder / "model.nn", out=out, err=io.StringIO(), progress="plain")
    return folder, state, out.getvalue()


def test_validation_metrics_are_the_raw_units_test_reports(trained):
    _, state, _ = trained
    history = state.models["m"].history
    test = state.results["m:d"]
    # validation on the test data, with the final weights: the same number as `test`, in dollars
    assert history["val_mae"][-1] == pytest.approx(test["mae"], rel=1e-4)
    assert history["mae"][-1] > 1000  # dollars, not a fraction of a standard deviation
    assert history["loss"][-1] < 10  # the optimizer's loss stays on the scaled target


def test_the_scaled_loss_is_labelled_everywhere_it_is_shown(trained):
    folder, state, out = trained
    lines = out.splitlines()
    assert any(line.startswith("m epoch 3/3 loss[scaled]=") and " mae=" in line and "val_loss[scaled]=" in line for line in lines)
    assert any(line.startswith("m train loss (scaled target) ") for line in lines)
    assert any(line.startswith("m validation loss (scaled target) ") for line in lines)
    assert any(line.startswith("m test loss ") for line in lines)  # test evaluates the saved model: raw units
    record = json.loads((folder / "model.run.json").read_text())
    assert record["preprocessing"]["m"]["scaled_loss"] is True
    assert (folder / "curves.png").stat().st_size > 0


def test_a_model_without_target_scaling_is_unchanged(tmp_path):
    from nndsl.run.runner import run

    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{i % 3},{i % 4},{i % 5}\n" for i in range(20)))
    (tmp_path / "model.nn").write_text(PROGRAM.replace('"price"', '"y"').replace("    scale_target standard\n", "")
                                       .replace('plot m to "curves.png"\n', ""))
    out = io.StringIO()
    run(tmp_path / "model.nn", out=out, err=io.StringIO(), progress="plain")
    assert "scaled" not in out.getvalue()
