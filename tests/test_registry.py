"""Plugin registries: lazy entry points, collisions, broken plugins, embedding."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nndsl.errors import PluginError, did_you_mean
from nndsl.plugins import registry as reg_mod
from nndsl.plugins.registry import EntryPoint, Registry, normalize, registry


@pytest.fixture()
def fake_entry_points(monkeypatch):
    """Replace the installed entry points with a table the test writes."""
    table: dict[str, list] = {}

    def scan():
        return table

    scan.cache_clear = lambda: None
    monkeypatch.setattr(reg_mod, "_scan_entry_points", scan)
    reg_mod._REGISTRIES.clear()
    yield table
    reg_mod._REGISTRIES.clear()


def add(table, kind, name, dist, value):
    table.setdefault(f"nndsl.{kind}", []).append((name, dist, EntryPoint(name, value, f"nndsl.{kind}")))


def test_builtins_are_entry_points_of_nndsl():
    steps = registry("steps")
    assert {"train", "test", "evaluate", "save", "load", "predict", "summary"} <= set(steps.names())
    assert all(e.origin == "nndsl" for e in steps.entries() if e.name in ("train", "save"))
    assert registry("layers").entry("Dense").value == "nndsl.builtins.keras:layers.Dense"


def test_lookup_ignores_case_and_underscores():
    layers = registry("layers")
    assert layers.resolve("dense") == "Dense"
    assert layers.resolve("max_pooling2d") == "MaxPooling2D"
    assert layers.resolve("MaxPooling2D") == "MaxPooling2D"
    assert normalize("Max_Pooling2D") == "maxpooling2d"
    assert did_you_mean("Dens", layers.names(), normalize=normalize) == "did you mean 'Dense'?"


def test_listing_imports_no_plugin_code():
    code = (
        "import sys\n"
        "from nndsl.plugins.registry import registry, KINDS\n"
        "n = sum(len(registry(k).names()) for k in KINDS)\n"
        "assert n > 400, n\n"
        "bad = [m for m in sys.modules if m.startswith(('keras', 'tensorflow', 'nndsl.builtins', 'nndsl_example_plugin'))]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_collision_names_both_distributions(fake_entry_points):
    add(fake_entry_points, "layers", "Thing", "pkg-one", "json:dumps")
    add(fake_entry_points, "layers", "Thing", "pkg-two", "json:loads")
    with pytest.raises(PluginError) as e:
        registry("layers").get("Thing")
    assert "pkg-one" in str(e.value) and "pkg-two" in str(e.value)


def test_broken_plugin_names_distribution_and_entry_point(fake_entry_points):
    add(fake_entry_points, "steps", "explode", "broken-plugin", "no_such_module_xyz:STEP")
    add(fake_entry_points, "steps", "fine", "good-plugin", "json:dumps")
    reg = registry("steps")
    assert set(reg.names()) == {"explode", "fine"}  # listing still works
    with pytest.raises(PluginError) as e:
        reg.get("explode")
    msg = str(e.value)
    assert "broken-plugin" in msg and "no_such_module_xyz:STEP" in msg and "ModuleNotFoundError" in msg
    import json

    assert reg.get("fine") is json.dumps  # other plugins are unaffected


def test_broken_plugin_breaks_only_programs_that_use_it(fake_entry_points):
    import nndsl

    add(fake_entry_points, "steps", "explode", "broken-plugin", "no_such_module_xyz:STEP")
    from nndsl.builtins import steps as builtin_steps

    for name in ("train", "test", "save", "load", "predict"):
        add(fake_entry_points, "steps", name, "nndsl", f"nndsl.builtins.steps:{name.upper()}")
    add(fake_entry_points, "data_sources", "csv", "nndsl", "nndsl.builtins.data:CSV")
    text = 'data d = csv("x.csv")\nmodel m {\n    Input(shape=(2,))\n}\n'
    nndsl.check(text, keras=False)
    with pytest.raises(nndsl.NndslCheckError) as e:
        nndsl.check(text + "explode m on d\n", keras=False)
    assert "[plugin-error]" in e.value.render()
    del builtin_steps


def test_register_without_installing():
    from nndsl.plugins.spec import StepSpec

    spec = StepSpec(name="shout", doc="test", impl="json:dumps", target="none")
    registry("steps").register("shout", spec)
    assert registry("steps").get("shout") is spec
    with pytest.raises(PluginError):
        registry("steps").register("shout", spec)
    import nndsl

    nndsl.check("shout\n", keras=False)


def test_unknown_kind():
    with pytest.raises(ValueError):
        registry("gadgets")


def test_registry_is_lazy_per_kind():
    r = Registry("callbacks")
    assert r._entries is None
    r.names()
    assert r._entries is not None
