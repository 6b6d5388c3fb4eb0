"""``text=[...]`` on table sources: columns read as text exactly as written, whatever they look
like (zip "02134", product "007", "1.50" beside "1.5"), used as categories of text: sorted as
text, never whole numbers, a string input of the saved model."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

import nndsl
from nndsl.errors import RunError

ROWS = [("r1", "02134", "1.50", 3.0, "yes"), ("r2", "2134", "1.5", 1.0, "no"), ("r3", "007", "1.50", 2.0, "yes"),
        ("r4", "10001", "1.5", 5.0, "no"), ("r5", "02134", "1.5", 4.0, "yes"), ("r6", "", "1.50", 1.0, "no")]
HEADER = ("id", "zip", "price", "amount", "y")
ARGS = {"target": "y", "id": "id", "text": ["zip", "price"]}


def _csv(path: Path, rows=ROWS, pad: int = 0) -> None:
    """The table as CSV; ``pad`` more copies of its rows make a file the Arrow reader takes."""
    lines = [",".join(HEADER)] + [",".join(str(v) for v in r) for r in rows * (1 + pad)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _json(path: Path) -> None:
    import json

    path.write_text("".join(json.dumps(dict(zip(HEADER, r))) + "\n" for r in ROWS), encoding="utf-8")


def _parquet(path: Path) -> None:
    """The zip codes as text; the price as a float column (cast to text as Arrow writes it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(zip(*ROWS))
    pq.write_table(pa.table({"id": list(columns[0]), "zip": list(columns[1]), "price": [float(v) for v in columns[2]],
                             "amount": list(columns[3]), "y": list(columns[4])}), path)


def _load(kind: str, folder: Path, budget=None, **args):
    from nndsl.data import csv, jsonl, parquet

    loader, name = {"csv": (csv.load, "t.csv"), "big": (csv.load, "t.csv"), "json": (jsonl.load, "t.jsonl"),
                    "parquet": (parquet.load, "t.parquet")}[kind]
    {"csv": _csv, "json": _json, "parquet": _parquet}.get(kind, lambda p: _csv(p, pad=6000))(folder / name)
    return loader({"path": name, **ARGS, **args}, name="t", base=folder, memory_budget=budget)


def _fit(ds):
    from nndsl.data.schema import fit

    def fail(message, **_):
        return AssertionError(message)

    return {f.name: f for f in fit(ds, loss_kind="binary", fail=fail).features}


@pytest.mark.parametrize("kind,budget", [("csv", None), ("big", None), ("csv", 1), ("json", None), ("json", 1)])
def test_each_reader_keeps_the_text_as_written(tmp_path, kind, budget):
    from nndsl.data.csv import SMALL_FILE

    ds = _load(kind, tmp_path, budget)
    if kind == "big":
        assert (tmp_path / "t.csv").stat().st_size > SMALL_FILE  # read by Arrow, not row by row
    if budget is None:
        assert ds.columns["zip"][:4] == ["02134", "2134", "007", "10001"]
        assert ds.columns["price"][:2] == ["1.50", "1.5"]
        assert ds.feature_names == ["amount"] and ds.categorical == ["zip", "price"] and ds.as_text == ["zip", "price"]
    else:
        assert ds.streamed and ds.as_text == ["zip", "price"]
    features = _fit(ds)
    # sorted as text, the missing cell a category of its own, never whole numbers
    assert features["zip"].categories == ("", "007", "02134", "10001", "2134") and not features["zip"].integer
    assert features["price"].categories == ("1.5", "1.50")


def test_a_non_text_parquet_column_is_cast_to_text(tmp_path):
    ds = _load("parquet", tmp_path)
    assert ds.columns["zip"][:3] == ["02134", "2134", "007"]
    assert ds.columns["price"][:2] == ["1.5", "1.5"]  # a float column: its values as Arrow writes them
    assert _fit(ds)["zip"].categories == ("", "007", "02134", "10001", "2134")


def test_without_text_the_codes_are_whole_numbers(tmp_path):
    """What text= is for: declared categorical=, "02134" and "2134" are one whole number to the saved model."""
    ds = _load("csv", tmp_path, text=None, categorical=["zip"], exclude=["price"], missing={"zip": "drop"})
    zip_code = _fit(ds)["zip"]
    assert zip_code.integer  # an int64 input of the saved model
    assert [int(c) for c in zip_code.categories] == [7, 2134, 2134, 10001]  # "02134" and "2134" tie, as numbers


def test_a_text_column_missing_from_later_data_is_declared_with_text_in_the_hint(tmp_path):
    """The hint names the argument the column was declared with: text= for zip, categorical= for the other."""
    from nndsl.data.check import failure
    from nndsl.data.schema import TableSchema, encode, fit

    ds = _load("csv", tmp_path, categorical=["amount"])
    schema = fit(ds, loss_kind="binary", fail=failure(ds, None, None))
    assert {f.name: f.text for f in schema.features} == {"zip": True, "price": True, "amount": False}
    assert TableSchema.from_dict(schema.to_dict()) == schema  # saved with the model
    for dropped, argument in (("zip", "text"), ("amount", "categorical")):
        later = dataclasses.replace(ds, columns={c: v for c, v in ds.columns.items() if c != dropped})
        with pytest.raises(RunError) as info:
            encode(later, schema, failure(later, None, None))
        assert info.value.diagnostics[0].hint == f'declare it: csv(..., {argument}=["{dropped}"])'


def test_an_unknown_text_column_is_located_with_a_suggestion(tmp_path):
    with pytest.raises(RunError) as info:
        _load("csv", tmp_path, text=["zp"])
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.message == "t.csv: expected a column 'zp' (text); received columns id, zip, price, amount, y"
    assert diagnostic.hint == "did you mean 'zip'?"


@pytest.mark.parametrize("args,message", [
    ({"numeric": ["amount", "zip"]}, "expected a column to be numeric or text; received 'zip' in both numeric= and text="),
    ({"exclude": ["zip"]}, "expected text= to name feature columns; received 'zip', excluded"),
    ({"id": ["id", "zip"]}, "expected text= to name feature columns; received 'zip', an id"),
])
def test_a_text_column_in_another_role_is_refused_by_the_loader(tmp_path, args, message):
    with pytest.raises(RunError) as info:
        _load("csv", tmp_path, **args)
    assert info.value.diagnostics[0].message == f"t.csv: {message}"


@pytest.mark.parametrize("option,hint", [
    ('numeric=["zip"]', "text= reads a column as categories of text; numeric= as numbers: name it in one of them"),
    ('exclude=["zip"]', "an excluded column is left out of the features; text= makes it one: name it in one of them"),
    ('id="zip"', "an id column is copied as text already, and kept out of the features: leave it out of text="),
    ('target="zip"', "a target of class labels is read as text already: leave it out of text="),
])
def test_a_text_column_in_another_role_is_a_located_conflict(option, hint):
    from nndsl.errors import NndslCheckError

    text = f'data d = csv("t.csv", {option}, text=["zip"])\n'
    with pytest.raises(NndslCheckError) as info:
        nndsl.check(text)
    d = info.value.diagnostics[0]
    assert d.code == "conflicting-arguments" and d.hint == hint
    name = option.split("=")[0]
    assert d.message == f"expected 'text' to name columns other than those of '{name}'; received 'zip', in both"
    assert text[d.span.start:d.span.end] == '["zip"]'


def test_check_data_lists_the_text_categories(tmp_path, capsys):
    from nndsl.cli import main

    _csv(tmp_path / "t.csv")
    (tmp_path / "m.nn").write_text('data d = csv("t.csv", target="y", id="id", text=["zip", "price"])\n'
                                   "model m {\n    Dense(1, activation=sigmoid)\n    loss binary_crossentropy\n}\n"
                                   "train m on d epochs=1\n", encoding="utf-8")
    assert main(["check", "--data", str(tmp_path / "m.nn")]) == 0
    out = capsys.readouterr().out
    assert "zip: 6 ((missing), 007, 02134, 10001, 2134, [UNK])" in out and "price: 3 (1.5, 1.50, [UNK])" in out


@pytest.mark.keras
def test_the_saved_model_takes_the_codes_as_strings(tmp_path):
    """The saved file takes ``zip`` as a string: "02134" and "2134" are two categories, "7" an unseen one."""
    import keras
    import numpy as np

    from nndsl.run.runner import run

    _csv(tmp_path / "t.csv")
    (tmp_path / "m.nn").write_text('seed 1\ndata d = csv("t.csv", target="y", id="id", text=["zip", "price"])\n'
                                   "model m {\n    Dense(1, activation=sigmoid)\n    loss binary_crossentropy\n}\n"
                                   'train m on d epochs=1\nsave m to "m.keras"\n', encoding="utf-8")
    run(tmp_path / "m.nn", out=io.StringIO(), err=io.StringIO(), progress="none")
    model = keras.models.load_model(tmp_path / "m.keras")
    assert {i.name: i.dtype for i in model.inputs} == {"amount": "float32", "zip": "string", "price": "string"}
    lookup = model.get_layer("zip_lookup")
    slots = np.asarray(lookup(np.array([["02134"], ["2134"], ["007"], ["7"], [""]], dtype=object)))
    # [UNK], (missing), 007, 02134, 10001, 2134
    assert slots.argmax(axis=1).tolist() == [3, 5, 2, 0, 1]
    rows = {"zip": np.array(["02134", "2134"], dtype=object), "price": np.array(["1.50", "1.50"], dtype=object),
            "amount": np.array([3.0, 3.0])}
    p = model.predict(rows, verbose=0).ravel()
    assert p.shape == (2,) and p[0] != p[1]
