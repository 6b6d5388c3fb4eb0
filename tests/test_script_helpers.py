"""The helpers ``nndsl export`` copies into scripts: read from a Python template, the runner's
constants written in place of their names."""

from __future__ import annotations

import ast
import re
import sys
from importlib import resources

import pytest

from nndsl.interop import script_helpers
from nndsl.run import defaults


@pytest.fixture(autouse=True)
def fresh_helpers():
    script_helpers.helpers.cache_clear()
    yield
    script_helpers.helpers.cache_clear()


def template_text() -> str:
    return (resources.files("nndsl.interop") / "templates" / script_helpers.TEMPLATE).read_text(encoding="utf-8")


def test_the_template_is_python():
    tree = ast.parse(template_text())
    defaults_import = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "nndsl.run.defaults"]
    assert defaults_import, "the placeholders are imported from nndsl.run.defaults"
    for alias in defaults_import[0].names:
        assert hasattr(defaults, alias.name), alias.name


def test_each_helper_is_python_and_needs_only_helpers_before_it():
    seen: set[str] = set()
    for name, helper in script_helpers.helpers().items():
        tree = ast.parse(helper.source)
        assert name in helper.defines, name
        assert [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))] == list(helper.defines)
        assert set(helper.needs) <= seen, (name, helper.needs)
        # standard modules, and pyarrow's for the tables Arrow reads ("pyarrow.parquet as pq")
        assert all(m.split(" as ")[0].split(".")[0] in {*sys.stdlib_module_names, "pyarrow"} for m in helper.imports), helper.imports
        assert helper.source.endswith("\n") and not helper.source.startswith("\n")
        seen.add(name)
    assert "Table" in seen and "load_keras_file" in seen


def test_placeholders_become_the_runners_values():
    helpers = script_helpers.helpers()
    placeholders = [alias.name for node in ast.parse(template_text()).body if isinstance(node, ast.ImportFrom)
                    and node.module == "nndsl.run.defaults" for alias in node.names]
    assert len(placeholders) == 6
    for helper in helpers.values():
        for name in placeholders:
            assert not re.search(rf"\b{name}\b", helper.source), (helper.name, name)
    assert f"min(batches + 1, {defaults.MAX_STEPS_PER_EXECUTION})" in helpers["one_call_per_epoch"].source
    assert f"len(x) <= {defaults.SMALL_INPUT}:" in helpers["predict_rows"].source
    assert f"batch_size or {defaults.PREDICT_BATCH}," in helpers["predict_rows"].source
    assert f"<= {defaults.ROW_SHUFFLE_LIMIT}:" in helpers["array_pipeline"].source
    assert f"else {defaults.STREAM_SHUFFLE_BUFFER}," in helpers["stream_pipeline"].source
    assert 'for attr in ("filepath", "filename", "log_dir", "backup_dir"):' in helpers["with_paths_here"].source


def test_a_changed_default_reaches_the_scripts(monkeypatch):
    monkeypatch.setattr(defaults, "PREDICT_BATCH", 512)
    monkeypatch.setattr(defaults, "CALLBACK_PATH_ATTRIBUTES", ("filepath",))
    helpers = script_helpers.helpers()
    assert "batch_size or 512," in helpers["predict_rows"].source
    assert 'for attr in ("filepath",):' in helpers["with_paths_here"].source


def test_the_runner_and_the_scripts_share_the_constants():
    from nndsl.run import pipeline, steps

    assert pipeline.ROW_SHUFFLE_LIMIT is defaults.ROW_SHUFFLE_LIMIT
    assert steps.PREDICT_BATCH is defaults.PREDICT_BATCH and steps.MAX_STEPS_PER_EXECUTION is defaults.MAX_STEPS_PER_EXECUTION
