"""The example plugin package: installed like any third-party plugin, all four names used by a .nn file.

The plugin is found from its source folder with its entry points beside it (``nncases.example_plugin_path``),
as an installed copy would be found, so these tests run whether it is installed or not.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys

import pytest

from nncases import EXAMPLE_PLUGIN as PLUGIN
from nncases import example_plugin_path


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> list[str]:
    return example_plugin_path(tmp_path_factory.mktemp("example-plugin"))


@pytest.fixture(autouse=True)
def plugin_found(plugin_path, monkeypatch):
    """The plugin on sys.path (for this process) and on PYTHONPATH (for the processes it starts)."""
    from nndsl.plugins.registry import reset

    for folder in reversed(plugin_path):
        monkeypatch.syspath_prepend(folder)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([*plugin_path, *filter(None, [os.environ.get("PYTHONPATH")])]))
    reset()  # entry points are read again, on the new path


def test_plugin_names_are_listed_from_metadata():
    from nndsl.plugins.registry import registry

    assert registry("layers").entry("Scale").origin.replace("-", "_") == "nndsl_example_plugin"
    assert "bent_identity" in registry("activations").names()
    assert "ramp" in registry("data_sources").names()
    assert "histogram" in registry("steps").names()


def test_plugin_program_checks_without_keras():
    code = (
        "import sys, nndsl\n"
        f"nndsl.check(open({str(PLUGIN / 'plugin_demo.nn')!r}).read())\n"
        "bad = [m for m in sys.modules if m.startswith(('keras', 'tensorflow', 'nndsl_example_plugin.layers'))]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_plugin_shape_rule_is_used():
    import nndsl

    checked = nndsl.check((PLUGIN / "plugin_demo.nn").read_text())
    shapes = [rl.output_shape for rl in checked.models["demo"].resolved]
    assert shapes == [(None, 3), (None, 16), (None, 16), (None, 1)]


@pytest.mark.keras
def test_plugin_program_runs_and_its_model_reloads(tmp_path):
    from nndsl.run.runner import run

    shutil.copy(PLUGIN / "plugin_demo.nn", tmp_path / "plugin_demo.nn")
    out = io.StringIO()
    run(tmp_path / "plugin_demo.nn", overrides={"epochs": "2"}, out=out, err=io.StringIO(), progress="plain")
    assert (tmp_path / "demo.keras").is_file()
    hist = (tmp_path / "histogram.txt").read_text().splitlines()
    assert len(hist) == 8
    # a process with the plugin but without nndsl reloads the model (serializable layer and activation)
    code = (
        "import sys, keras, numpy as np\n"
        "import nndsl_example_plugin.layers, nndsl_example_plugin.activations\n"
        f"m = keras.models.load_model({str(tmp_path / 'demo.keras')!r})\n"
        "assert type(m.layers[1]).__name__ == 'Scale', m.layers\n"
        "print(m.predict(np.zeros((2, 3), 'float32'), verbose=0).shape)\n"
        "assert not any(k.startswith('nndsl.') or k == 'nndsl' for k in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(PLUGIN)  # the plugin's code only: no nndsl checkout, no entry points
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "(2, 1)" in proc.stdout
