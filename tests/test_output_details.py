"""Small things a user sees: help for every command-line argument, the plugins listing, the
final metrics table's order, the static summary's scaling layer."""

from __future__ import annotations

import argparse
import io
from types import SimpleNamespace

import pytest

from nndsl.cli import main
from nndsl.cli.app import build_parser


def _arguments(parser: argparse.ArgumentParser, path: tuple = ("nndsl",)):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {a.dest for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield path + (name,), "(the command itself)", name in helped
                yield from _arguments(sub, path + (name,))
        elif not isinstance(action, argparse._HelpAction):
            yield path, "/".join(action.option_strings) or action.dest, bool(action.help)


def test_every_command_and_argument_has_help():
    missing = [f"{' '.join(path)} {name}" for path, name, helped in _arguments(build_parser()) if not helped]
    assert not missing, missing


def test_plugins_lists_one_row_per_name_with_its_aliases(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")  # narrow: cells fold instead of ending in '…'
    assert main(["plugins", "layers"]) == 0
    assert "…" not in capsys.readouterr().out
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["plugins", "layers"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("│ AveragePooling1D ")]
    assert len(rows) == 1 and "AvgPool1D" in rows[0]
    assert not [line for line in out.splitlines() if line.startswith("│ AvgPool1D ")]


def _state(mode: str, history: dict, results: dict):
    out = io.StringIO()
    model = SimpleNamespace(history=history)
    return SimpleNamespace(models={"m": model}, results=results, events=SimpleNamespace(mode=mode), out=out, console=None), out


def test_the_final_table_lists_the_loss_first():
    from nndsl.run.report import final_table

    state, out = _state("plain", {"accuracy": [0.5, 0.75], "loss": [0.9, 0.6], "val_accuracy": [0.5, 0.5], "val_loss": [1.0, 0.8]},
                        {"m:test": {"accuracy": 0.7, "loss": 0.65}})
    final_table(state)
    assert out.getvalue().splitlines() == [
        "m train loss 0.6", "m train accuracy 0.75", "m validation loss 0.8", "m validation accuracy 0.5",
        "m test loss 0.65", "m test accuracy 0.7",
    ]


def test_static_summary_counts_the_scaling_layer(tmp_path, capsys):
    (tmp_path / "m.nn").write_text("model m {\n    Input(shape=(3,))\n    Dense(2)\n    loss mse\n    scale_features standard\n}\n")
    assert main(["summary", str(tmp_path / "m.nn")]) == 0
    out = capsys.readouterr().out
    assert "scale_features standard" in out and "total parameters: 15" in out  # 7 statistics + 8 weights


@pytest.mark.keras
def test_static_summary_counts_equal_the_built_models(tmp_path, capsys):
    text = "model m {\n    Dense(2, input_shape=(3,))\n    Dense(1)\n    loss mse\n    scale_features minmax\n}\n"
    (tmp_path / "m.nn").write_text(text)
    assert main(["summary", str(tmp_path / "m.nn")]) == 0
    static = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["summary", str(tmp_path / "m.nn"), "--keras"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == static == "total parameters: 18"


def test_fmt_gives_registered_names_their_canonical_spelling():
    import nndsl

    text = ("let act = Tanh\n\nmodel m {\n    Input(shape=(4,))\n    dense(8, activation=Relu, kernel_initializer=HE_NORMAL)\n"
            "    Dense(8, Relu)\n    Dense(8, activation=act)\n    Dense(1, activation=leaky_relu(0.2))\n"
            "    loss Mean_Squared_Error\n    optimizer ADAM\n    metrics [Mae, MAE, \"mae\"]\n}\n")
    out = nndsl.format(nndsl.parse(text))
    assert out == ("let act = Tanh\n\nmodel m {\n    Input(shape=(4,))\n    Dense(8, activation=relu, kernel_initializer=he_normal)\n"
                   "    Dense(8, relu)\n    Dense(8, activation=act)\n    Dense(1, activation=LeakyReLU(0.2))\n"
                   "    loss mean_squared_error\n    optimizer adam\n    metrics [mae, MAE, \"mae\"]\n}\n")
    assert nndsl.format(nndsl.parse(out)) == out
    # names the program defines are its own: a variable named like a registered name is left alone
    own = "let Relu = 3\n\nmodel m {\n    Input(shape=(4,))\n    Dense(Relu)\n}\n"
    assert nndsl.format(nndsl.parse(own)) == own
