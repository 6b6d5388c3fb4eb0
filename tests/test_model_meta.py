"""A saved model's ``nndsl.json`` is untrusted input: every reader of it (``load``, ``nndsl
predict``, ``nndsl evaluate``, ``nndsl import``) refuses one that is not shaped as nndsl writes it
with the same clean "not a model file nndsl saved" error, never a traceback."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndsl.data.schema import Feature, TableSchema, Target
from nndsl.run.modelmeta import MEMBER, BadMeta, checked

SCHEMA = TableSchema(
    (Feature("age", "numeric", 31.5), Feature("usage", "numeric", None),
     Feature("plan", "categorical", "", ("", "basic", "pro"), "oov"),
     Feature("zone", "categorical", None, ("1", "7"), "error", True)),
    (Target("churned", ("no", "yes")),),
)
META = {"format_version": 1, "target_names": ["churned"], "table": SCHEMA.to_dict(), "core": "churn",
        "feature_names": ["age", "usage"], "class_names": ["no", "yes"]}

# A value of each JSON type; a swap replaces a value with one of another type.
SWAPS = [None, True, 7, 2.5, "x", [], [1], {}, {"a": 1}]


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _paths(value, at=()):
    """Every (path, value) inside ``value``, the root excluded."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        yield (*at, key), inner
        yield from _paths(inner, (*at, key))


def _mutations(meta: dict):
    """Every change that makes ``meta`` not what nndsl writes: a key of the table (or ``core``)
    dropped, or any value of the table and the name lists swapped for one of another JSON type
    (but a fill may be null, its missing cells refused, or a number for a numeric column)."""
    out = []
    for path, value in _paths(meta):
        if path[0] not in ("table", "core", "target_names", "feature_names", "class_names"):
            continue
        if path[0] in ("table", "core") and path != ("table",) and isinstance(path[-1], str):
            out.append(("drop", path, None))
        allowed = {_kind(value)}
        if path[-1] == "fill":  # null: missing cells refused; a numeric column's fill is a number
            allowed |= {"null", "number" if _at(meta, path[:-1])["kind"] == "numeric" else "str"}
        for swap in SWAPS:
            if _kind(swap) in allowed:
                continue
            if path == ("table",) and swap in (None, {}):
                continue  # no table at all: a model saved without one
            out.append(("swap", path, swap))
    return out


def _at(meta, path):
    for key in path:
        meta = meta[key]
    return meta


def _mutated(meta: dict, mutation) -> dict:
    what, path, swap = mutation
    meta = copy.deepcopy(meta)
    parent = meta
    for key in path[:-1]:
        parent = parent[key]
    if what == "drop":
        del parent[path[-1]]
    else:
        parent[path[-1]] = swap
    return meta


def test_what_nndsl_writes_passes():
    assert checked(copy.deepcopy(META)) == META
    assert checked({"format_version": 1, "target_names": ["y"]}) == {"format_version": 1, "target_names": ["y"]}
    legacy = {"categorical": {"plan": ["a", "b"]}, "fills": {"age": 3}, "feature_names": ["age"]}
    assert checked(legacy) == legacy
    text = {**META, "table": {"features": [{**META["table"]["features"][2], "text": True}], "targets": []}}
    assert checked(copy.deepcopy(text)) == text  # a column declared with text=


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_mutations(META)))
def test_every_mutation_of_the_table_is_refused_by_name(mutation):
    with pytest.raises(BadMeta) as info:
        checked(_mutated(META, mutation))
    message = str(info.value)
    assert message.startswith(f"{MEMBER} ")
    assert "\n" not in message


@pytest.mark.parametrize("meta,words", [
    ({**META, "table": {**META["table"], "features": [*META["table"]["features"], META["table"]["features"][0]]}},
     "repeats a column in 'table.features'"),
    ({**META, "table": {"features": [{**META["table"]["features"][2], "categories": ["a", "a"]}], "targets": []}},
     "repeats a name in 'table.features[0].categories'"),
    ({**META, "table": {"features": [{**META["table"]["features"][2], "fill": "gold"}], "targets": []}},
     "holds the text 'gold' at 'table.features[0].fill', where nndsl writes one of the column's categories"),
    ({**META, "table": {"features": [{**META["table"]["features"][3], "categories": ["1", "x"]}], "targets": []}},
     "holds the text 'x' at 'table.features[0].categories[1]', where nndsl writes a whole number"),
    ({**META, "table": {"features": [{**META["table"]["features"][3], "categories": []}], "targets": []}},
     "where nndsl writes at least one category"),
    ({**META, "table": {"features": [{**META["table"]["features"][0], "fill": float("nan")}], "targets": []}},
     "holds the number nan at 'table.features[0].fill', where nndsl writes a finite number"),
    ({**META, "table": {"features": [{**META["table"]["features"][0], "kind": "picture"}], "targets": []}},
     "at 'table.features[0].kind', where nndsl writes 'numeric' or 'categorical'"),
    ({**META, "table": {"features": [{**META["table"]["features"][2], "text": "yes"}], "targets": []}},
     "holds the text 'yes' at 'table.features[0].text', where nndsl writes true or false"),
    ({"fills": {"age": "3"}}, "holds the text '3' at 'fills.age', where nndsl writes a finite number"),
    ([1, 2], "holds a list as a whole, where nndsl writes an object"),
])
def test_shapes_no_type_swap_reaches_are_refused(meta, words):
    with pytest.raises(BadMeta, match=None) as info:
        checked(meta)
    assert words in str(info.value)


# ---------------------------------------------------------------- every command, on a real file

DATA = "id,age,plan,churned\n" + "".join(
    f"c{i},{'' if i % 7 == 0 else 20 + i % 30},{'' if i % 5 == 0 else ['basic', 'pro'][i % 2]},{'yes' if i % 3 else 'no'}\n"
    for i in range(40))
PROGRAM = """\
data d = csv("d.csv", target="churned", id="id", categorical=["plan"])
model m {
    Dense(1, activation=sigmoid)
    loss binary_crossentropy
}
train m on d epochs=1
save m to "m.keras"
"""
LOADS = """\
data d = csv("d.csv", target="churned", id="id", categorical=["plan"])
load m from "bad.keras"
predict m on d to "p.csv"
"""


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A table model nndsl saved, built once for the module."""
    from nndsl.cli import main

    folder = tmp_path_factory.mktemp("meta")
    (folder / "d.csv").write_text(DATA, encoding="utf-8")
    (folder / "m.nn").write_text(PROGRAM, encoding="utf-8")
    (folder / "loads.nn").write_text(LOADS, encoding="utf-8")
    assert main(["run", str(folder / "m.nn"), "--progress", "none"]) == 0
    with zipfile.ZipFile(folder / "m.keras") as zf:
        meta = json.loads(zf.read(MEMBER))
    return folder, meta


def _write(folder: Path, member: bytes) -> Path:
    """``m.keras`` with its ``nndsl.json`` replaced by ``member``, as ``bad.keras``."""
    bad = folder / "bad.keras"
    with zipfile.ZipFile(folder / "m.keras") as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != MEMBER:
                dst.writestr(info, src.read(info))
        dst.writestr(MEMBER, member)
    return bad


def _commands(folder: Path) -> dict[str, list[str]]:
    bad = str(folder / "bad.keras")
    return {
        "predict": ["predict", bad, str(folder / "d.csv")],
        "evaluate": ["evaluate", bad, str(folder / "d.csv")],
        "import": ["import", bad, "-o", str(folder / "imported.nn")],
        "load": ["run", str(folder / "loads.nn"), "--progress", "none"],
    }


def _refused_by_every_command(folder: Path, capsys) -> None:
    from nndsl.cli import main

    for name, argv in _commands(folder).items():
        assert main(argv) == 1, name
        err = capsys.readouterr().err
        assert "Traceback" not in err, (name, err)
        assert f"expected a model file nndsl saved; received one whose {MEMBER} " in err, (name, err)
        assert "save the model again with nndsl" in err, (name, err)
        if name == "load":
            assert "loads.nn:2:" in err, err  # located at the load step


@pytest.mark.keras
def test_the_saved_model_is_read_back_as_written(saved, capsys):
    from nndsl.cli import main

    folder, meta = saved
    assert checked(meta) is meta
    _write(folder, json.dumps(meta).encode())
    assert main(["predict", str(folder / "bad.keras"), str(folder / "d.csv")]) == 0, capsys.readouterr().err


@pytest.mark.keras
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_command_refuses_a_mutated_member_cleanly(saved, capsys, data):
    folder, meta = saved
    mutation = data.draw(st.sampled_from(_mutations(meta)))
    _write(folder, json.dumps(_mutated(meta, mutation)).encode())
    _refused_by_every_command(folder, capsys)


@pytest.mark.keras
@pytest.mark.parametrize("member", [b"{not json", b"\xff\xfe", b"[]", b'"text"'])
def test_every_command_refuses_a_member_that_is_no_object(saved, capsys, member):
    folder, _ = saved
    _write(folder, member)
    _refused_by_every_command(folder, capsys)
