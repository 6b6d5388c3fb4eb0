"""A located error names the row (or line) of the file, blank lines counted, whichever rule
found it: a bad number, a missing category under ``missing="error"``, or an empty class label;
for a table read whole and for one streamed in record batches."""

from __future__ import annotations

from pathlib import Path

import pytest

from nndsl.errors import RunError

CASES = [
    # (file, text, arguments, the message)
    ("category.csv", "a,plan,y\n1,x,yes\n\n2,,no\n", {"target": "y", "categorical": ["plan"], "missing": "error"},
     "category.csv:row 4, column 'plan': expected a category; received an empty cell"),
    ("cells.csv", "a,plan,y\n1,x,yes\n,,\n\n\n2,,no\n", {"target": "y", "categorical": ["plan"], "missing": {"plan": "error"}},
     "cells.csv:row 6, column 'plan': expected a category; received an empty cell"),
    ("label.csv", "a,plan,y\n\n1,x,yes\n\n2,y,\n", {"target": "y", "categorical": ["plan"]},
     "label.csv:row 5, column 'y': expected a class label; received an empty cell"),
    ("number.csv", "a,b,y\n1,2,3\n\n,2,3\n", {"target": "y", "missing": "error"},
     "number.csv:row 4, column 'a': expected a number; received an empty cell"),
    ("label.jsonl", '{"a":1,"plan":"x","y":"yes"}\n\n\n{"a":2,"plan":"y","y":""}\n', {"target": "y", "categorical": ["plan"]},
     "label.jsonl:line 4, column 'y': expected a class label; received an empty cell"),
    ("category.jsonl", '\n{"a":1,"plan":"x","y":"yes"}\n\n{"a":2,"plan":"","y":"no"}\n',
     {"target": "y", "categorical": ["plan"], "missing": "error"},
     "category.jsonl:line 4, column 'plan': expected a category; received an empty cell"),
]


@pytest.mark.parametrize("budget", [None, 0, 1], ids=["whole", "whole-by-arrow", "streamed"])
@pytest.mark.parametrize("file,text,args,message", CASES, ids=[c[0] for c in CASES])
def test_errors_name_the_files_row_after_blank_lines(tmp_path, monkeypatch, file, text, args, message, budget):
    """Read whole (a small CSV row by row, or by Arrow as a large one is), and streamed."""
    from nndsl.data import csv as csv_source
    from nndsl.data.csv import load as load_csv
    from nndsl.data.jsonl import load as load_json

    if budget == 0:
        monkeypatch.setattr(csv_source, "SMALL_FILE", 0)
        budget = None
    (tmp_path / file).write_text(text, encoding="utf-8")
    load = load_json if file.endswith(".jsonl") else load_csv
    with pytest.raises(RunError) as info:
        load({"path": file, **args}, name="d", base=tmp_path, memory_budget=budget)
    assert info.value.diagnostics[0].message == message


def test_a_file_over_the_small_size_is_located_by_arrow_as_exactly(tmp_path):
    """A file past the row-by-row reader's size is read by Arrow, which skips empty lines itself."""
    from nndsl.data.csv import SMALL_FILE, load

    rows = ["a,plan,y"] + [f"{i},{'x' if i % 2 else 'z'},{'yes' if i % 3 else 'no'}" for i in range(SMALL_FILE // 10)]
    rows[5:5] = ["", ""]
    rows.append("7,,no")
    Path(tmp_path / "big.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(RunError) as info:
        load({"path": "big.csv", "target": "y", "categorical": ["plan"], "missing": "error"}, name="d", base=tmp_path)
    assert info.value.diagnostics[0].message == (f"big.csv:row {len(rows)}, column 'plan': expected a category; "
                                                 "received an empty cell")
