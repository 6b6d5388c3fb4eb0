"""The committed Keras catalogue: current with the installed Keras, and well formed."""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import pytest

from nndsl.tools import gen_catalogue

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

TYPES = {
    "int", "float", "number", "bool", "str", "tuple", "list", "dict", "activation",
    "initializer", "regularizer", "constraint", "layer", "loss", "metric", "optimizer",
    "schedule", "callback", "shape", "any",
}
PARAM_KINDS = {"positional_or_keyword", "keyword_only"}


@pytest.fixture(scope="module")
def committed_text() -> str:
    return resources.files("nndsl.catalogue").joinpath("keras.json").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalogue(committed_text) -> dict:
    return json.loads(committed_text)


def _param(entry: dict, name: str) -> dict:
    return next(param for param in entry["params"] if param["name"] == name)


@pytest.mark.keras
def test_catalogue_is_current_for_installed_keras(committed_text):
    pytest.importorskip("keras")
    generated = gen_catalogue.generate()
    assert gen_catalogue.render(generated) == committed_text, (
        "nndsl/catalogue/keras.json is stale: run python -m nndsl.tools.gen_catalogue"
    )
    pyproject = PYPROJECT.read_text(encoding="utf-8")
    block = gen_catalogue.entry_points_block(generated)
    assert gen_catalogue.update_pyproject(pyproject, block) == pyproject, (
        "the generated entry points in pyproject.toml are stale: run python -m nndsl.tools.gen_catalogue"
    )


def test_pyproject_block_lists_every_catalogue_name(catalogue):
    pyproject = PYPROJECT.read_text(encoding="utf-8")
    block = gen_catalogue.entry_points_block(catalogue)
    assert gen_catalogue.update_pyproject(pyproject, block) == pyproject
    assert 'Convolution2D = "nndsl.builtins.keras:layers.Convolution2D"' in block


def test_dense_and_conv2d_schemas(catalogue):
    layers = catalogue["kinds"]["layers"]
    dense = layers["Dense"]
    assert dense["kind"] == "class"
    assert dense["qualname"] == "keras.layers.Dense"
    units = dense["params"][0]
    assert units["name"] == "units"
    assert units["required"] is True
    assert units["kind"] == "positional_or_keyword"
    assert units["type"] == "int"
    assert "default" not in units
    activation = _param(dense, "activation")
    assert activation == {**activation, "type": "activation", "default": None, "nullable": True}
    assert _param(dense, "kernel_initializer")["type"] == "initializer"
    assert dense["var_keyword"] is True and dense["var_positional"] is False

    conv = layers["Conv2D"]
    assert [param["name"] for param in conv["params"][:2]] == ["filters", "kernel_size"]
    assert conv["params"][0]["type"] == "int"
    kernel_size = conv["params"][1]
    assert kernel_size["type"] == "tuple" and kernel_size["accepts_scalar"] is True
    assert _param(conv, "strides")["default"] == {"tuple": [1, 1]}
    assert _param(conv, "padding")["type"] == "str"


def test_aliases(catalogue):
    kinds = catalogue["kinds"]
    assert kinds["layers"]["Convolution2D"] == {"alias_of": "Conv2D"}
    assert kinds["layers"]["MaxPool2D"] == {"alias_of": "MaxPooling2D"}
    assert kinds["losses"]["mse"] == {"alias_of": "mean_squared_error"}
    assert kinds["losses"]["mean_squared_error"]["kind"] == "function"
    assert kinds["optimizers"]["adam"] == {"alias_of": "Adam"}
    assert kinds["activations"]["swish"] == {"alias_of": "silu"}
    assert kinds["initializers"]["he_normal"] == {"alias_of": "HeNormal"}
    assert "LossScaleOptimizer" in kinds["optimizers"]
    for kind in kinds.values():
        for helper in ("get", "serialize", "deserialize"):
            assert helper not in kind


def test_compile_special_strings(catalogue):
    metrics = catalogue["kinds"]["metrics"]
    losses = catalogue["kinds"]["losses"]
    assert metrics["accuracy"]["compile_special"] is True
    assert metrics["accuracy"]["alias_of"] == "Accuracy"
    assert metrics["acc"]["compile_special"] is True
    for name in ("crossentropy", "ce"):
        assert losses[name]["compile_special"] is True
        assert set(losses[name]["compile_resolves_to"]) <= set(losses)


def test_catalogue_is_well_formed(catalogue):
    assert catalogue["keras_version"]
    for kind, entries in catalogue["kinds"].items():
        for name, entry in entries.items():
            where = f"{kind}.{name}"
            if "alias_of" in entry:
                target = entries[entry["alias_of"]]
                assert "kind" in target, f"{where} aliases an alias"
                continue
            if "kind" not in entry:
                assert entry.get("compile_special") is True, where
                continue
            assert entry["kind"] in ("class", "function"), where
            assert isinstance(entry["var_positional"], bool) and isinstance(entry["var_keyword"], bool)
            names = [param["name"] for param in entry["params"]]
            assert len(names) == len(set(names)), where
            for param in entry["params"]:
                assert param["kind"] in PARAM_KINDS, where
                assert param["type"] in TYPES, where
                assert ("default" in param) != param["required"], where
                assert len(param["doc"]) <= 200, where


def test_render_is_deterministic_json():
    catalogue = {"b": [1, 2], "a": {"y": None, "x": 1.5}}
    assert gen_catalogue.render(catalogue) == '{\n "a": {\n  "x": 1.5,\n  "y": null\n },\n "b": [\n  1,\n  2\n ]\n}\n'


def test_defaults_become_json():
    encode = gen_catalogue._json_default
    assert encode((1, (2, 3))) == {"tuple": [1, {"tuple": [2, 3]}]}
    assert encode([1, "a", None, True]) == [1, "a", None, True]
    assert encode(math.inf) == {"repr": "inf"}
    assert encode(object()) == {"repr": "<object object>"}
