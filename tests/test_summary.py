"""``nndsl summary``: static shapes without TensorFlow, and the built model's with --keras."""

from __future__ import annotations

from pathlib import Path

import pytest

from nndsl.cli import main

SALES = Path(__file__).resolve().parent.parent / "examples" / "sales" / "sales.nn"


def test_static_summary(capsys):
    assert main(["summary", str(SALES)]) == 0
    out = capsys.readouterr().out
    assert "(None, 50)" in out and "(None, 1)" in out
    # the scaling layer scale_features adds is counted, as the built model counts it (10,720 with --keras)
    assert "│ Normalization │ scale_features minmax │ (None, 9)    │         19 │" in out
    assert "total parameters: 10,720" in out


def test_unknown_model(capsys):
    assert main(["summary", str(SALES), "--model", "sale"]) == 2
    assert "did you mean 'sales'" in capsys.readouterr().err


@pytest.mark.keras
def test_keras_summary_matches(capsys):
    assert main(["summary", str(SALES), "--keras"]) == 0
    out = capsys.readouterr().out
    # Normalization after Input adds 2*9+1 non-trainable statistics
    assert "total parameters: 10,720" in out
