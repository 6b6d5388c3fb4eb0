"""The command line: exit codes (0 ok, 1 the user's program, 2 the command line), messages, fmt and parse."""

from __future__ import annotations

import json
import re

import pytest

import nndsl
from nncases import CASES, read_nn
from nndsl.cli import main

SALES = CASES / "valid" / "sales.nn"


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


# ---------------------------------------------------------------- check


def test_check_ok(capsys):
    assert main(["check", "--language-only", str(SALES)]) == 0
    out = capsys.readouterr()
    assert out.out == f"{SALES}: ok\n"
    assert out.err == ""


def test_check_quiet(capsys):
    assert main(["check", "--language-only", "-q", str(SALES)]) == 0
    assert capsys.readouterr().out == ""


def test_check_reports_file_line_and_column(tmp_path, capsys):
    path = write(tmp_path, "bad.nn", "let a = 1\nlet b = a * \"x\"\n")
    assert main(["check", "--language-only", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2:13: error: expected a number on each side of '*'; received the string \"x\" [type-error]" in err
    assert "\x1b[" not in err


def test_check_syntax_error_exits_1(tmp_path, capsys):
    path = write(tmp_path, "broken.nn", "let a = (1, 2\nlet b = [\n")
    assert main(["check", "--language-only", str(path)]) == 1
    err = capsys.readouterr().err
    assert re.search(re.escape(str(path)) + r":2:1: error: missing '\)'", err)
    assert "found 2 errors" in err


def test_check_several_files_reports_each(tmp_path, capsys):
    bad = write(tmp_path, "bad.nn", "x = 3\n")
    assert main(["check", "--language-only", str(SALES), str(bad)]) == 1
    out = capsys.readouterr()
    assert f"{SALES}: ok" in out.out
    assert f"{bad}:1:1: error:" in out.err


def test_check_missing_file_is_a_usage_error(tmp_path, capsys):
    missing = tmp_path / "nope.nn"
    assert main(["check", "--language-only", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "expected an existing .nn file; received a path that does not exist" in err


def test_check_folder_is_a_usage_error(tmp_path, capsys):
    assert main(["check", "--language-only", str(tmp_path)]) == 2
    assert "expected a .nn file; received a folder" in capsys.readouterr().err


def test_check_non_utf8_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "latin1.nn"
    path.write_bytes("let a = \"größe\"\n".encode("latin-1"))
    assert main(["check", "--language-only", str(path)]) == 2
    assert "expected UTF-8 text" in capsys.readouterr().err


def test_set_without_equals_is_a_usage_error(capsys):
    assert main(["check", "--language-only", "--set", "hidden", str(SALES)]) == 2
    assert "--set hidden: expected NAME=VALUE; received no '='" in capsys.readouterr().err


def test_set_of_an_unknown_variable_suggests_the_closest(capsys):
    assert main(["check", "--language-only", "--set", "hiden=3", str(SALES)]) == 2
    err = capsys.readouterr().err
    assert "expected the name of a let variable; received 'hiden'" in err
    assert "did you mean 'hidden'?" in err


def test_set_with_a_value_that_does_not_parse(capsys):
    assert main(["check", "--language-only", "--set", "hidden=(", str(SALES)]) == 2
    assert "expected a value such as 128" in capsys.readouterr().err


def test_set_overrides_a_variable(tmp_path, capsys):
    path = write(tmp_path, "vars.nn", "let a = 2\nlet b = a * 3\n")
    assert main(["check", "--language-only", "--set", "a=4", str(path)]) == 0
    assert main(["check", "--language-only", "--set", 'a="x"', str(path)]) == 1
    assert "received the string \"x\"" in capsys.readouterr().err


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["check", "--no-such-option", str(SALES)])
    assert info.value.code == 2


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"nndsl {nndsl.__version__}"


# ---------------------------------------------------------------- fmt

UNFORMATTED = "let a=1\nmodel m {\n  Dense( a,activation = relu )\n}\n"
FORMATTED = "let a = 1\n\nmodel m {\n    Dense(a, activation=relu)\n}\n"


def test_format_of_the_unformatted_text():
    assert nndsl.format(nndsl.parse(UNFORMATTED)) == FORMATTED


def test_fmt_check_unformatted_exits_1_with_a_diff(tmp_path, capsys):
    path = write(tmp_path, "u.nn", UNFORMATTED)
    assert main(["fmt", "--check", str(path)]) == 1
    out = capsys.readouterr()
    assert f"--- {path}\n+++ {path} (formatted)\n" in out.out
    assert "-let a=1\n+let a = 1\n" in out.out
    assert f"{path}: not formatted" in out.err
    assert path.read_text(encoding="utf-8") == UNFORMATTED  # --check changes nothing


def test_fmt_check_formatted_exits_0_silently(tmp_path, capsys):
    path = write(tmp_path, "f.nn", FORMATTED)
    assert main(["fmt", "--check", str(path)]) == 0
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_fmt_rewrites_in_place(tmp_path, capsys):
    path = write(tmp_path, "u.nn", UNFORMATTED)
    assert main(["fmt", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == FORMATTED
    assert capsys.readouterr().out == f"formatted {path}\n"
    assert main(["fmt", str(path)]) == 0  # a second run has nothing to do
    assert capsys.readouterr().out == ""
    assert [p.name for p in tmp_path.iterdir()] == ["u.nn"]  # no temporary file left behind


def test_fmt_diff_changes_nothing(tmp_path, capsys):
    path = write(tmp_path, "u.nn", UNFORMATTED)
    assert main(["fmt", "--diff", str(path)]) == 0
    assert "+let a = 1" in capsys.readouterr().out
    assert path.read_text(encoding="utf-8") == UNFORMATTED


def test_fmt_refuses_a_file_that_does_not_parse(tmp_path, capsys):
    path = write(tmp_path, "bad.nn", "let a = (\n")
    assert main(["fmt", str(path)]) == 1
    assert f"{path}:1:9: error:" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "let a = (\n"


# ---------------------------------------------------------------- parse


@pytest.mark.parametrize("stem", ["sales", "steps", "containers", "comments"])
def test_parse_json_equals_the_golden(stem, capsys):
    path = CASES / "valid" / f"{stem}.nn"
    golden = (CASES / "valid" / f"{stem}.ast.json").read_text(encoding="utf-8")
    assert main(["parse", "--json", "--indent", str(path)]) == 0
    assert capsys.readouterr().out == golden
    assert main(["parse", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out) == json.loads(golden)


def test_parse_without_json_prints_statements(capsys):
    assert main(["parse", str(SALES)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Setting(name='seed'")
    assert len(out.splitlines()) == len(nndsl.parse(read_nn(SALES)).statements)


def test_parse_syntax_error_exits_1(tmp_path, capsys):
    path = write(tmp_path, "bad.nn", "model m {\n")
    assert main(["parse", "--json", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}:1:9: error: missing '}}'" in captured.err


def test_plugin_module_from_the_command_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_steps.py").write_text(
        "from nndsl.plugins.registry import registry\n"
        "from nndsl.plugins.spec import StepSpec\n"
        "registry('steps').register('shout', StepSpec(name='shout', doc='d', impl='json:dumps', target='none'))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    nn = tmp_path / "p.nn"
    nn.write_text("shout\n")
    assert main(["check", "--language-only", str(nn)]) == 1
    assert main(["--plugin", "my_steps", "check", "--language-only", str(nn)]) == 0
    assert main(["--plugin", "no_such_module_here", "check", str(nn)]) == 2
    assert "expected an importable Python module" in capsys.readouterr().err


# ---------------------------------------------------------------- reading .nn files and --set


def test_every_command_reads_a_nn_file_the_same_way(tmp_path, capsys):
    """One reader: a folder, a missing path or bytes that are not UTF-8 give one message, whatever the command."""
    bad = tmp_path / "latin.nn"
    bad.write_bytes("let name = \"mod\xe8le\"\n".encode("latin-1"))
    for argv in (["check"], ["fmt"], ["parse"], ["summary"], ["run"], ["export", "--to", "python"]):
        for path, words in ((tmp_path, "expected a .nn file; received a folder"),
                            (tmp_path / "nope.nn", "expected an existing .nn file; received a path that does not exist"),
                            (bad, "expected UTF-8 text; received bytes that are not (at offset 15)")):
            assert main([*argv, str(path)]) == 2, (argv, path)
            assert f"cannot read '{path}': {words}" in capsys.readouterr().err


def test_a_byte_order_mark_is_not_part_of_the_program(tmp_path, capsys):
    path = tmp_path / "bom.nn"
    path.write_bytes(b"\xef\xbb\xbflet a = 1\n")
    assert main(["parse", "--json", str(path)]) == 0
    from nndsl.syntax.json import to_json

    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(to_json(nndsl.parse("let a = 1\n"))))
    assert nndsl.parse_file(path) == nndsl.parse("let a = 1\n")


@pytest.mark.parametrize("item", ["epochs", "=3", " =3"])
def test_set_needs_name_equals_value(tmp_path, capsys, item):
    assert main(["check", "--language-only", "--set", item, str(SALES)]) == 2
    assert f"--set {item}: expected NAME=VALUE; received no '='" in capsys.readouterr().err
