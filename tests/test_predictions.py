"""Predictions as a table: shared by the ``predict`` step and the ``nndsl predict`` command."""

from __future__ import annotations

import csv

import numpy as np

from nndsl.data.table import Dataset
from nndsl.run import predictions


def dataset() -> Dataset:
    return Dataset(name="d", x=np.zeros((3, 1), dtype="float32"), feature_names=["x"], columns={"id": ["a", "b", "c"]})


def test_column_names():
    assert predictions.column_names(1) == ["prediction"]
    assert predictions.column_names(2) == ["prediction_0", "prediction_1"]
    assert predictions.column_names(2, target_names=["lo", "hi"]) == ["lo", "hi"]
    assert predictions.column_names(3, target_names=["lo", "hi"]) == ["prediction_0", "prediction_1", "prediction_2"]
    assert predictions.column_names(1, target_names=["y"], column="price") == ["price"]
    assert predictions.column_names(2, column="p") == ["p_0", "p_1"]


def test_unknown_column():
    ds = dataset()
    assert predictions.unknown_column(ds, ["id", "x"]) is None
    assert predictions.unknown_column(ds, ["id", "nope", "other"]) == "nope"


def test_shown_rows_keep_columns_first_and_six_digits():
    flat = np.array([[1 / 3], [2.0], [1e-7]])
    assert predictions.shown_rows(dataset(), ["id"], flat, 2) == [["a", "0.333333"], ["b", "2"]]


def test_write_csv_or_npy(tmp_path):
    preds = np.array([[1 / 3, 1.0], [2.0, 0.5], [0.25, 0.125]])
    predictions.write(tmp_path / "p.csv", dataset(), ["id"], ["lo", "hi"], preds)
    with open(tmp_path / "p.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["id", "lo", "hi"], ["a", "0.333333333", "1"], ["b", "2", "0.5"], ["c", "0.25", "0.125"]]
    predictions.write(tmp_path / "p.npy", dataset(), ["id"], ["lo", "hi"], preds)
    assert np.array_equal(np.load(tmp_path / "p.npy"), preds)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv", "p.npy"]  # no temporary file left behind
