"""A catalogue of user mistakes, each run through the real command line.

Every case writes a small project (a ``model.nn`` and its files) into a fresh folder, with an
earlier model (``previous.keras``) and earlier predictions (``predictions.csv``) already there,
then runs ``python -m nndsl check`` or ``run`` on it and asserts:

- the exact message line (``model.nn:LINE:COL: error: ... [code]``; for data,
  ``... error: d.csv:row N, column 'c': ... [bad-data]``);
- the exit status: 1 for a mistake in the program or its data, 2 for the command line;
- no ``Traceback`` on stderr;
- the earlier artefacts are byte for byte unchanged, and nothing but the run record (and the
  run's folder in the history, ``runs/``) is left behind (no half-written or temporary file).

Starting an interpreter for each case would take most of the fast suite's time, so the cases
share processes: ``tests/mistakes/run_batch.py`` calls the CLI's ``main`` once per case, with
file descriptors 1 and 2 captured, as ``python -m nndsl`` would run it. The cases that stop
before TensorFlow (``check``, command-line mistakes) share one process, which never imports it;
the cases that ``run`` past checking share another and are marked ``keras``. A few cases also
run as ``python -m nndsl`` in a process of their own, so the real entry point stays covered.

The second half checks ``docs/errors.md``: every error code the package can report is
documented there (and nothing else), and every example in it is exactly what nndsl prints.
``pytest --update-goldens`` rewrites the examples' output from the current code.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import shlex
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BATCH = Path(__file__).resolve().parent / "mistakes" / "run_batch.py"
ERRORS_MD = ROOT / "docs" / "errors.md"

PREVIOUS_MODEL = b"PK\x03\x04 an earlier model that must survive every failed run"
PREVIOUS_PREDICTIONS = b"y\n41.5\n"
DIR = object()  # a file entry that is a folder
RECORD = "model.run.json"  # the run record: written even when a step fails
HISTORY = "runs"  # the run's folder in the history (runs/model-1), beside the latest record

ENV = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "PYTHONPATH")}
ENV.update(NO_COLOR="1", TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(ROOT))


def env_with_path(folder: Path, relative: tuple) -> dict:
    """ENV with the project's own folders (``PYTHONPATH=.``) first on the path."""
    if not relative:
        return ENV
    return dict(ENV, PYTHONPATH=os.pathsep.join([*(str(folder / p) for p in relative), str(ROOT)]))


# ---------------------------------------------------------------- the programs

HEAD = "let epochs = 5\n"  # every run uses --set epochs=1
DATA = 'data d = csv("d.csv", target="y")\n'
MODEL = """\
model m {
    Input(shape=(2,))
    Dense(4, activation=relu)
    Dense(1)
    loss mse
    optimizer Adam(learning_rate=0.01)
}
"""
TRAIN = "train m on d epochs=epochs\n"
ROWS = "a,b,y\n1,2,3\n4,5,6\n7,8,9\n"


def prog(*steps: str, data: str = DATA, model: str = MODEL, train: str = TRAIN) -> str:
    """line 1 let, line 2 data, lines 3-9 the model, line 10 train, line 11 on: the steps."""
    return HEAD + data + model + train + "".join(s + "\n" for s in steps)


def classifier(classes: int = 3) -> str:
    return MODEL.replace("Dense(1)", f"Dense({classes}, activation=softmax)").replace("loss mse", "loss sparse_categorical_crossentropy")


def model_with(*layers: str, first: str = "Input(shape=(2,))", props: str = "loss mse") -> str:
    body = "".join(f"    {x}\n" for x in (first, *layers) if x)
    return "model m {\n" + body + "".join(f"    {p}\n" for p in props.split(";") if p) + "}\n"


def zip_bytes(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buf.getvalue()


def _model_archive(keras_version: str, class_name: str) -> bytes:
    config = {"module": "keras", "class_name": class_name, "registered_name": class_name,
              "config": {"name": "m", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [None, 2]}}]}}
    return zip_bytes({
        "metadata.json": json.dumps({"keras_version": keras_version, "date_saved": "2031-01-01@00:00:00"}),
        "config.json": json.dumps(config),
        "model.weights.h5": bytes(range(256)) * 64,
    })


NEWER_MODEL = _model_archive("9.0.0", "HyperSequential")
TRUNCATED_MODEL = _model_archive("3.15.1", "Sequential")[:2000]
PNG = (ROOT / "examples" / "image_cnn" / "images" / "test" / "frame" / "frame_01.png").read_bytes()  # 752 bytes, 32x32


def _make_device(folder: Path) -> None:
    """A private copy of /dev/full (a character device whose writes fail with ENOSPC)."""
    try:
        os.mknod(folder / "full", stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except (AttributeError, OSError) as exc:
        pytest.skip(f"cannot create a device node here ({exc})")


def _read_only_folder(folder: Path) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; the parent-is-a-file case covers this as root")
    (folder / "locked").mkdir()
    (folder / "locked").chmod(0o555)


# ---------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Mistake:
    id: str
    program: str | bytes
    expected: str | Callable | None  # the exact stderr line ({dir}: the project folder), or a function of the folder
    # giving it; None: the command succeeds
    files: dict = field(default_factory=dict)
    command: str = "check"
    argv: tuple | None = None  # instead of [command, model.nn, ...]
    exit_code: int = 1
    line: int = 0  # which stderr line holds the message
    fsize_limit: int | None = None
    prepare: Callable | None = None
    creates: tuple = ()  # files a successful run adds
    also: tuple = ()  # text that must appear on stderr too (a hint, a note)
    pythonpath: tuple = ()  # folders of the project put on PYTHONPATH (for --plugin modules)
    hides: tuple = ()  # packages the case's process cannot import, installed or not (an environment without them)
    known_gap: str | None = None  # a known bug: the case states what should happen, and is expected to fail

    @property
    def needs_keras(self) -> bool:
        return self.command == "run" and self.exit_code != 2

    def args(self) -> list[str]:
        if self.argv is not None:
            return list(self.argv)
        if self.command == "run":
            return ["run", "model.nn", "--progress", "none", "--set", "epochs=1"]
        return ["check", "model.nn"]


M = Mistake

SYNTAX = [
    M("missing-closing-brace", "model m {\n    Input(shape=(2,))\n    Dense(1)\n    loss mse\n\n" + DATA + "train m on d\n",
      "model.nn:6:1: error: missing '}': expected '}'; received the keyword 'data' [syntax]"),
    M("brace-never-closed", "model m {\n    Input(shape=(2,))\n    Dense(1)\n",
      "model.nn:1:9: error: missing '}': expected '}'; received the end of the file [syntax]"),
    M("stray-comma", model_with("Dense(10,, activation=relu)"),
      "model.nn:3:14: error: expected a value or ')'; received ',' [syntax]"),
    M("stray-comma-in-source", 'data d = csv("d.csv", target="y",,)\n',
      "model.nn:1:34: error: expected a value or ')'; received ',' [syntax]"),
    M("unterminated-string", 'let path = "d.csv\n',
      "model.nn:1:12: error: expected a closing '\"'; received the end of the line [syntax]"),
    M("unterminated-string-mid-call", 'data d = csv("d.csv, target="y")\n',
      "model.nn:1:30: error: expected ')' or ','; received 'y' [syntax]"),
    M("non-ascii-identifier", "model modèle {\n    Input(shape=(2,))\n    Dense(1)\n}\n",
      "model.nn:1:10: error: expected an ASCII name; received 'è' [syntax]"),
    M("typographic-quotes", "data d = csv(\u201cd.csv\u201d)\n",
      "model.nn:1:14: error: expected a value or ')'; received the character '\u201c' [syntax]"),
    M("single-quotes", "data d = csv('d.csv')\n",
      "model.nn:1:14: error: expected a value or ')'; received the character \"'\" [syntax]"),
    M("unquoted-save-path", prog("save m to trained.keras"),
      "model.nn:11:11: error: expected a file path in a string after 'to'; received trained.keras without quotes [syntax]",
      also=('put the path in quotes: to "trained.keras"',)),
    M("file-name-as-data", HEAD + MODEL + "train m on train.csv epochs=epochs\n",
      "model.nn:9:12: error: expected a data source name or call after 'on'; received the file name train.csv [syntax]",
      also=('read the file with a data source: on csv("train.csv")',)),
    M("reserved-word-as-name", "let model = 3\n",
      "model.nn:1:5: error: expected a name; received the keyword 'model' [syntax]"),
    M("property-without-value", model_with("Dense(1)", props="loss"),
      "model.nn:4:9: error: expected a value after 'loss'; received a line break [syntax]"),
    M("windows-path-escape", 'data d = csv("C:\\data\\train.csv", target="y")\n',
      "model.nn:1:17: error: expected an escape such as \\n, \\t, \\\", \\\\ or \\uXXXX; received '\\d' [bad-escape]"),
    M("old-mac-line-endings", b"let a = 1\rlet b = 2\r",
      "model.nn:1:10: error: expected a line break (\\n or \\r\\n); received a lone carriage return (\\r) [syntax]"),
    M("not-utf8", "let name = \"mod\xe8le\"\n".encode("latin-1"),
      "error: cannot read 'model.nn': expected UTF-8 text; received bytes that are not (at offset 15)", exit_code=2),
]

NAMES = [
    M("misspelt-layer", model_with("Dens(1)"), "model.nn:3:5: error: expected a layer name; received 'Dens' [unknown-name]"),
    M("misspelt-activation", model_with("Dense(4, activation=rleu)"),
      "model.nn:3:25: error: expected an activation name; received 'rleu' [unknown-name]"),
    M("misspelt-loss", model_with("Dense(1)", props="loss mean_sqared_error"),
      "model.nn:4:10: error: expected a loss name; received 'mean_sqared_error' [unknown-name]"),
    M("misspelt-optimizer", model_with("Dense(1)", props="loss mse;optimizer Adm(learning_rate=0.1)"),
      "model.nn:5:15: error: expected an optimizer name; received 'Adm' [unknown-name]"),
    M("misspelt-metric", model_with("Dense(1)", props="loss mse;metrics [acurracy]"),
      "model.nn:5:14: error: expected a metric name; received 'acurracy' [unknown-name]"),
    M("misspelt-argument", model_with("Dense(4, activaton=relu)"),
      "model.nn:3:14: error: expected an argument of Dense; received 'activaton' [unknown-argument]"),
    M("misspelt-property", model_with("Dense(1)", props="los mse"),
      "model.nn:4:5: error: expected a compile argument (loss, optimizer, metrics, loss_weights, weighted_metrics, run_eagerly, "
      "steps_per_execution, jit_compile, auto_scale_loss) or scale_features, scale_target; received 'los' [unknown-argument]"),
    M("misspelt-step", prog().replace("train m on d", "trian m on d"),
      "model.nn:10:1: error: expected a step such as train, test, save, load or predict; received 'trian' [unknown-name]"),
    M("misspelt-callback", prog().replace("epochs=epochs", "epochs=epochs callbacks=[EarlyStoping(patience=3)]"),
      "model.nn:10:39: error: expected a callback name; received 'EarlyStoping' [unknown-name]"),
    M("misspelt-step-option", prog().replace("epochs=epochs", "epoch=epochs"),
      "model.nn:10:14: error: expected an option of 'train' (epochs, batch_size, validation_split, validation_data, shuffle, "
      "class_weight, initial_epoch, steps_per_epoch, validation_steps, validation_batch_size, validation_freq, callbacks, cache, "
      "prefetch, progress); "
      "received 'epoch' [unknown-argument]"),
    M("unknown-data-source", prog(data='data d = cvs("d.csv", target="y")\n'),
      "model.nn:2:10: error: expected a data source such as csv, image_folder, json, npy; received 'cvs' [unknown-name]"),
    M("unknown-data-name", prog().replace("train m on d", "train m on dd"),
      "model.nn:10:12: error: expected the name of a data source; received 'dd' [unknown-name]"),
    M("unknown-model-name", prog().replace("train m on d", "train mm on d"),
      "model.nn:10:7: error: expected a model name; received 'mm' [unknown-name]"),
    M("duplicate-model", MODEL + MODEL, "model.nn:8:7: error: expected a new name; received 'm', already defined as a model "
                                        "[duplicate-name]"),
]

TYPES = [
    M("units-as-string", model_with('Dense("four")'),
      "model.nn:3:11: error: expected an integer for 'units'; received the string \"four\" [bad-argument-type]"),
    M("units-as-float", model_with("Dense(4.5)"), "model.nn:3:11: error: expected an integer for 'units'; received the number 4.5 "
                                                  "[bad-argument-type]"),
    M("bool-as-number", model_with("Dense(4, use_bias=1)"),
      "model.nn:3:23: error: expected true or false for 'use_bias'; received the number 1 [bad-argument-type]"),
    M("learning-rate-as-string", model_with("Dense(1)", props='loss mse;optimizer Adam(learning_rate="fast")'),
      "model.nn:5:34: error: expected a number or a schedule such as ExponentialDecay(...) for 'learning_rate'; "
      "received the string \"fast\" [bad-argument-type]"),
    M("zero-epochs", prog().replace("epochs=epochs", "epochs=0"),
      "model.nn:10:21: error: expected a positive integer for 'epochs'; received the number 0 [bad-argument-type]"),
    M("validation-split-above-one", prog().replace("epochs=epochs", "validation_split=1.5"),
      "model.nn:10:31: error: expected a number from 0 up to (not including) 1 for 'validation_split'; received the number 1.5 "
      "[bad-argument-type]"),
    M("shape-not-a-tuple", model_with("Dense(1)", first="Input(shape=(9))"),
      "model.nn:2:18: error: expected a shape tuple such as (28, 28, 1) or none for 'shape'; received the number 9 [bad-argument-type]"),
    M("empty-output-path", prog('save m to ""'), "model.nn:11:11: error: expected a file path in a string after 'to'; received an empty "
                                                 "string [bad-argument-type]"),
    M("nul-in-path", prog('save m to "m\\0.keras"'),
      "model.nn:11:11: error: expected a file path in a string after 'to'; received a string holding a NUL character (\\0) "
      "[bad-argument-type]"),
    M("float-overflow", "let scale = 1e200\nlet area = scale * scale\n",
      "model.nn:2:12: error: expected a result within the range of a floating-point number; received an overflow in '*' [overflow]"),
]

MODELS = [
    M("conv-without-channels", model_with("Conv2D(8, (3, 3))", first="Input(shape=(28, 28))"),
      "model.nn:3:5: error: Conv2D expects 4-D input (batch, height, width, channels); received (None, 28, 28) [shape-mismatch]"),
    M("dropout-rate-above-one", model_with("Dense(4)", "Dropout(1.5)", "Dense(1)"),
      "model.nn:4:5: error: Dropout expects rate to be a fraction from 0 to 1; received 1.5 [shape-mismatch]"),
    M("missing-input-shape", model_with("Dense(1)", first="Dense(4)"),
      "model.nn:2:5: error: expected the model's input shape; received a first layer (Dense) without one [missing-input-shape]"),
    M("input-not-first", model_with("Input(shape=(2,))", first="Dense(4, input_shape=(2,))"),
      "model.nn:3:5: error: expected Input only as the first layer; received it later [misplaced-input]"),
    M("empty-model", "model m {\n}\n", "model.nn:1:7: error: expected at least one layer in model 'm'; received none [empty-model]"),
    M("too-many-parameters", model_with("Dense(100000)", first="Input(shape=(100000,))"),
      "model.nn:1:7: error: expected at most 1,000,000,000 parameters; received 10,000,100,000 in model 'm' [parameter-budget]"),
    M("train-without-loss", prog(model=model_with("Dense(1)", props="optimizer adam")),
      "model.nn:8:1: error: expected a loss in model 'm' to train it; received none [missing-loss]"),
    M("merge-layer-in-a-model", model_with("Dense(4)", "Concatenate()", "Dense(1)"),
      "model.nn:4:5: error: expected layers that take one input in a Sequential model; received Concatenate, which combines "
      "several inputs [merge-layer]"),
    M("misspelt-variable-as-units", "let hidden = 100\n" + model_with("Dense(hiden)", "Dense(1)"),
      "model.nn:4:11: error: expected an integer for 'units'; received the name 'hiden' [bad-argument-type]",
      also=("did you mean 'hidden'?",)),
    M("step-option-on-the-next-line", prog("    epochs=3"),
      "model.nn:11:11: error: expected a value, 'from', 'on', 'to', a line break or the end of the file; received '=' [syntax]",
      also=("a step and its options are one line: move epochs=... to the end of line 10",)),
    M("model-name-with-a-slash", model_with("Dense(1)", props='loss mse;name "a/b"'),
      "model.nn:5:10: error: expected a model name Keras accepts (not empty, without '/'); received the string \"a/b\" "
      "[bad-argument-type]"),
]

STEPS = [
    M("predict-before-train", HEAD + 'data d = csv("d.csv")\n' + MODEL + 'predict m on d to "predictions.csv"\n',
      "model.nn:10:1: error: expected model 'm' to be trained or loaded before 'predict'; received 'predict' first [step-order]"),
    M("save-before-train", HEAD + MODEL + 'save m to "previous.keras"\n',
      "model.nn:9:1: error: expected model 'm' to be trained or loaded before 'save'; received 'save' first [step-order]"),
    M("train-without-data", prog().replace("train m on d epochs=epochs", "train m epochs=epochs"),
      "model.nn:10:1: error: expected 'on' after 'train m'; received nothing [missing-clause]"),
    M("two-on-clauses", prog().replace("train m on d", "train m on d on d"),
      "model.nn:10:14: error: expected at most one 'on' clause; received a second one [duplicate-clause]"),
]

COMMAND_LINE = [
    M("nn-file-missing", "", "nndsl run: error: cannot read 'missing.nn': expected an existing .nn file; received a path that does not "
                             "exist",
      command="run", argv=("run", "missing.nn"), exit_code=2),
    M("nn-file-is-a-folder", "", "error: cannot read 'd.csv': expected a .nn file; received a folder",
      files={"d.csv": DIR}, argv=("check", "d.csv"), exit_code=2),
    M("set-unknown-variable", prog(), "nndsl run: error: --set epoch=...: expected the name of a let variable; received 'epoch'; did you "
                                      "mean 'epochs'?",
      command="run", argv=("run", "model.nn", "--set", "epoch=1"), exit_code=2),
    M("set-value-does-not-parse", prog(), "nndsl run: error: --set epochs=((: expected a value such as 128, 0.01, \"text\" or relu; "
                                          "received '(('",
      command="run", argv=("run", "model.nn", "--set", "epochs=(("), exit_code=2),
    M("unknown-progress-style", prog(),
      "nndsl run: error: argument --progress: invalid choice: 'fancy' (choose from 'auto', 'rich', 'plain', 'none')",
      command="run", argv=("run", "model.nn", "--progress", "fancy"), exit_code=2, line=-1),
]

# Files that must work: tabs, CRLF line breaks, a byte-order mark.
TABS_CRLF_BOM = prog('save m to "saved.keras"').replace("    ", "\t")
WORKING = [
    M("tab-indented-file", TABS_CRLF_BOM, None),
    M("crlf-file", TABS_CRLF_BOM.replace("\n", "\r\n").encode(), None),
    M("bom-file", b"\xef\xbb\xbf" + TABS_CRLF_BOM.encode(), None),
    M("tabs-crlf-and-bom-file-runs", b"\xef\xbb\xbf" + TABS_CRLF_BOM.replace("\n", "\r\n").encode(), None,
      files={"d.csv": ROWS}, command="run", creates=("saved.keras",)),
]


def csv_case(id, content, expected, also=()):
    files = {"d.csv": content} if content is not None else {}
    return M(id, prog(), expected, files=files, command="run", also=also)


DATA_PROBLEMS = [
    csv_case("data-file-missing", None,
             "model.nn:2:1: error: d.csv: expected an existing CSV file; received a path that does not exist ({dir}/d.csv) [bad-data]"),
    M("data-file-is-a-folder", prog(), "model.nn:2:1: error: d.csv: expected a CSV file; received a folder [bad-data]",
      files={"d.csv": DIR}, command="run"),
    csv_case("data-file-empty", "", "model.nn:2:1: error: d.csv: expected a header row and data rows; received an empty file [bad-data]"),
    csv_case("data-header-only", "a,b,y\n", "model.nn:2:1: error: d.csv: expected data rows after the header; received the header only "
                                            "[bad-data]"),
    csv_case("target-column-missing", "a,b,price\n1,2,3\n",
             "model.nn:2:1: error: d.csv: expected a column 'y' (target); received columns a, b, price [bad-data]"),
    csv_case("semicolon-separated-file", "a;b;y\n1;2;3\n",
             "model.nn:2:1: error: d.csv: expected a column 'y' (target); received columns a;b;y [bad-data]",
             also=("the file seems to be separated by ';': write csv(..., delimiter=\";\")",)),
    csv_case("duplicate-column", "a,a,y\n1,2,3\n",
             "model.nn:2:1: error: d.csv: expected unique column names; received 'a' twice in the header [bad-data]"),
    csv_case("non-numeric-cell", "a,b,y\n1,2,3\n4,five,6\n",
             "model.nn:2:1: error: d.csv:row 3, column 'b': expected a number; received 'five' [bad-data]"),
    # An empty cell is filled with the training mean by default; missing="error" refuses it.
    M("empty-cell", prog(data='data d = csv("d.csv", target="y", missing="error")\n'),
      "model.nn:2:1: error: d.csv:row 3, column 'b': expected a number; received an empty cell [bad-data]",
      files={"d.csv": "a,b,y\n1,2,3\n4,,6\n"}, command="run"),
    M("empty-cell-hint", prog(data='data d = csv("d.csv", target="y", missing="error")\n'),
      "model.nn:2:1: error: d.csv:row 3, column 'b': expected a number; received an empty cell [bad-data]",
      files={"d.csv": "a,b,y\n1,2,3\n4,,6\n"}, command="run",
      also=('missing="error" refuses empty cells: leave it out to fill them with the training mean',)),
    M("empty-cell-filled", prog(), None, files={"d.csv": "a,b,y\n1,2,3\n4,,6\n"}, command="run"),
    # Text in the target is class labels: a regression loss cannot train on them.
    csv_case("text-in-the-target", "a,b,y\n1,2,cat\n4,5,dog\n",
             "model.nn:7:5: error: expected a classification loss for the 2 classes of target 'y' (cat, dog); received loss "
             "mean_squared_error [class-count]",
             also=("sparse_categorical_crossentropy with a softmax layer of one unit per class",)),
    csv_case("nan-cell", "a,b,y\n1,2,3\n4,NaN,6\n", "model.nn:2:1: error: d.csv:row 3, column 'b': expected a finite number; received "
                                                    "'NaN' [bad-data]"),
    csv_case("infinite-target", "a,b,y\n1,2,3\n4,5,inf\n", "model.nn:2:1: error: d.csv:row 3, column 'y': expected a finite number; "
                                                           "received 'inf' [bad-data]"),
    csv_case("ragged-row", "a,b,y\n1,2,3\n4,5,6,7\n", "model.nn:2:1: error: d.csv:row 3: expected 3 fields like the header; received 4 "
                                                      "[bad-data]"),
    M("data-not-utf8", prog(data='data d = csv("d.csv", target="y", exclude=["n"])\n'),
      "model.nn:2:1: error: d.csv: expected UTF-8 text; received bytes that are not (at byte 8) [bad-data]",
      files={"d.csv": "n,a,b,y\n\xe9,1,2,3\n".encode("latin-1")}, command="run"),
    csv_case("feature-count-differs-from-model", "a,b,c,y\n1,2,3,4\n5,6,7,8\n",
             "model.nn:10:12: error: expected data with input shape (2,) for model 'm'; received 3 feature columns from 'd' [data-shape]"),
    M("scaled-feature-count-differs-from-model", prog(model=MODEL.replace("    loss mse", "    loss mse\n    scale_features standard")),
      "model.nn:11:12: error: expected data with input shape (2,) for model 'm'; received 3 feature columns from 'd' [data-shape]",
      files={"d.csv": "a,b,c,y\n1,2,3,4\n5,6,7,8\n"}, command="run"),
    # Columns are matched by name (issue 15): a feature column the model was trained on is missing.
    M("prediction-data-has-other-columns", prog('data new = csv("new.csv")', 'predict m on new to "predictions.csv"'),
      "model.nn:12:14: error: expected the feature column 'b' model 'm' was trained on; received data without it [missing-column]",
      files={"d.csv": ROWS, "new.csv": "a,c\n1,3\n"}, command="run"),
    M("prediction-data-with-more-columns-in-another-order", prog('data new = csv("new.csv")', 'predict m on new to "p.csv"'), None,
      files={"d.csv": ROWS, "new.csv": "c,b,a\n3,2,1\n"}, command="run", creates=("p.csv",)),
    M("train-on-data-without-target", prog(data='data d = csv("d.csv")\n'),
      "model.nn:10:12: error: expected data with a target column to train model 'm'; received 'd' without one [missing-target]",
      files={"d.csv": "a,b\n1,2\n"}, command="run"),
    # Whole-number labels are classes in sorted order: three of them, for a model with 4 outputs.
    M("label-outside-class-range", prog(model=classifier(4)),
      "model.nn:6:5: error: expected a last layer of 3 units for the 3 classes of target 'y' (0, 2, 3); received 4 [class-count]",
      files={"d.csv": "a,b,y\n1,2,0\n3,4,2\n5,6,3\n"}, command="run"),
    M("fractional-label", prog(model=classifier(3)),
      "model.nn:10:12: error: expected class labels 0 to 2 for a model with 3 outputs; received 1.5 at row 3 of 'd' [bad-labels]",
      files={"d.csv": "a,b,y\n1,2,0\n3,4,1.5\n"}, command="run"),
    M("unseen-category-in-prediction-data",
      prog('predict m on new to "predictions.csv"', data='data d = csv("d.csv", target="y", categorical=["c"], unknown="error")\n'
                                                         'data new = csv("new.csv", categorical=["c"])\n',
           model=MODEL.replace("shape=(2,)", "shape=(3,)")),
      "model.nn:3:1: error: new.csv:row 2, column 'c': expected one of the training data's categories (blue, red); received 'green' "
      "[bad-data]",
      files={"d.csv": "a,c,y\n1,red,3\n4,blue,6\n", "new.csv": "a,c\n1,green\n"}, command="run"),
    M("image-folder-without-images",
      prog(data='data d = image_folder("photos", image_size=(8, 8))\n',
           model=model_with("Flatten()", "Dense(2, activation=softmax)", first="Input(shape=(8, 8, 3))", props="loss "
                                                                                                               "sparse_categorical_crossentropy")),
      "model.nn:2:1: error: photos: expected one subfolder per class holding images (.bmp, .gif, .jpeg, .jpg, .png); received none "
      "[bad-data]",
      files={"photos/cats/notes.txt": "no pictures here", "photos/dogs": DIR}, command="run"),
    M("validation-split-on-streamed-folder",
      prog(data='data d = text_folder("texts")\n', train="train m on d epochs=epochs validation_split=0.2\n",
           model=model_with('TextVectorization(max_tokens=20, output_sequence_length=3, vocabulary=["bad", "good"])', "Embedding(21, 4)",
                            "GlobalAveragePooling1D()", "Dense(1, activation=sigmoid)", first="Input(shape=(1,), dtype=string)",
                            props="loss binary_crossentropy")),
      "model.nn:11:1: error: expected no validation_split for the streamed folder source 'd'; received validation_split=0.2 "
      "[unsupported-option]",
      files={"texts/neg/1.txt": "bad", "texts/pos/1.txt": "good"}, command="run"),
    M("loss-explodes", prog(data="seed 7\n" + DATA, model=MODEL.replace("0.01", "1e6"), train="train m on d epochs=epochs shuffle=false\n"),
      "model.nn:11:1: error: expected a finite training loss; received inf at epoch 1, batch 3 [nan-loss]",
      files={"d.csv": "a,b,y\n" + "".join(f"{i},{i},{i * 1e18}\n" for i in range(64))}, command="run"),
]

OUTPUT_PROBLEMS = [
    M("save-into-missing-folder", prog('save m to "out/m.keras"'),
      "model.nn:11:11: error: expected an existing folder for 'out/m.keras'; received a folder that does not exist ({dir}/out) "
      "[bad-output]",
      files={"d.csv": ROWS}, command="run"),
    M("save-where-parent-is-a-file", prog('save m to "previous.keras/m.keras"'),
      "model.nn:11:11: error: expected a folder for 'previous.keras/m.keras'; received a file ({dir}/previous.keras) [bad-output]",
      files={"d.csv": ROWS}, command="run"),
    M("save-into-read-only-folder", prog('save m to "locked/m.keras"'),
      "model.nn:11:11: error: expected to write 'locked/m.keras'; received Permission denied [write-failed]",
      files={"d.csv": ROWS}, command="run", prepare=_read_only_folder),
    M("save-to-existing-folder", prog('save m to "models"'),
      "model.nn:11:11: error: expected a file path; received a folder ({dir}/models) [bad-output]",
      files={"d.csv": ROWS, "models": DIR}, command="run"),
    M("save-with-unknown-extension", prog('save m to "m.model"'),
      "model.nn:11:11: error: expected a path ending in .keras for the Keras format; received 'm.model' [bad-output]",
      files={"d.csv": ROWS}, command="run"),
    M("disk-full-while-saving", prog('save m to "previous.keras"'),
      "model.nn:11:11: error: expected to write 'previous.keras'; received File too large [write-failed]",
      files={"d.csv": ROWS}, command="run", fsize_limit=4096),
    M("disk-full-while-predicting", prog('predict m on d to "predictions.csv"'),
      "model.nn:11:19: error: expected to write 'predictions.csv'; received File too large [write-failed]",
      files={"d.csv": "a,b,y\n" + "1,2,3\n" * 3000}, command="run", fsize_limit=8192),
    M("predictions-over-the-input-file", prog('predict m on d to "d.csv"'),
      "model.nn:11:19: error: expected an output path that is not an input; received 'd.csv', the file of data source 'd' [bad-output]",
      files={"d.csv": ROWS}, command="run"),
    M("predictions-with-unknown-extension", prog('predict m on d to "predictions.xlsx"'),
      "model.nn:11:19: error: expected a .csv or .npy path for predictions; received 'predictions.xlsx' [bad-output]",
      files={"d.csv": ROWS}, command="run"),
    M("keep-unknown-column", prog('predict m on d to "predictions.csv" keep=["id"]'),
      "model.nn:11:1: error: expected a column of 'd' to keep; received 'id' [unknown-column]",
      files={"d.csv": ROWS}, command="run"),
]


def load_case(id, model_file, content, expected):
    files = {"d.csv": ROWS}
    if content is not None:
        files[model_file] = content
    program = HEAD + DATA + f'load m from "{model_file}"\npredict m on d to "predictions.csv"\n'
    return M(id, program, expected, files=files, command="run")


CANNOT_LOAD = "model.nn:3:13: error: expected a Keras model file; received a file Keras cannot load"
MODEL_FILES = [
    load_case("load-missing-model", "trained.keras", None,
              "model.nn:3:13: error: expected an existing model file; received 'trained.keras', which does not exist [bad-model-file]"),
    load_case("load-folder", "trained.keras", DIR, "model.nn:3:13: error: expected a .keras or .h5 model file; received a folder "
                                                   "[bad-model-file]"),
    load_case("load-corrupted-model", "previous.keras", None,
              f"{CANNOT_LOAD} (ValueError: File not found: filepath={{dir}}/previous.keras. Please ensure the file is an accessible "
              "`.keras` zip file.) [bad-model-file]"),
    load_case("load-truncated-model", "cut.keras", TRUNCATED_MODEL,
              f"{CANNOT_LOAD} (OSError: Unable to synchronously open file (file signature not found)) [bad-model-file]"),
    load_case("load-empty-file", "empty.keras", b"",
              f"{CANNOT_LOAD} (ValueError: File not found: filepath={{dir}}/empty.keras. Please ensure the file is an accessible "
              "`.keras` zip file.) [bad-model-file]"),
    load_case("load-zip-that-is-not-a-model", "notes.keras", zip_bytes({"notes.txt": "not a model"}),
              f"{CANNOT_LOAD} (KeyError: \"There is no item named 'config.json' in the archive\") [bad-model-file]"),
    load_case("load-data-file-as-model", "d.csv", None,
              lambda folder: f"{CANNOT_LOAD} (ValueError: " + (f"File format not supported: filepath={folder}/d.csv. Keras 3 only "
                             "supports V3 `.keras` files, legacy H5 format files (`.h5` extension). Note that the legacy SavedModel "
                             "format is not supported by `load_model()` in Keras 3.")[:200] + ") [bad-model-file]"),
    load_case("load-model-from-newer-keras", "newer.keras", NEWER_MODEL,
              "model.nn:3:13: error: expected a model saved by Keras 3.15.1 or older; received one saved by Keras 9.0.0, which this "
              "Keras cannot load (ValueError: Could not deserialize 'keras.HyperSequential' because it is not a KerasSaveable "
              "subclass) [bad-model-file]"),
]

BROKEN_PLUGIN = """\
from nndsl.plugins.registry import registry
from nndsl.plugins.spec import LayerSpec

registry("layers").register("Sparkle", LayerSpec(name="Sparkle", doc="A layer.", impl="sparkle_layers_missing:Sparkle",
                                                 infer_shape=lambda args, shape: shape))
"""

# Mistakes that once escaped as tracebacks or did harm (a device replaced by a file).
KNOWN_GAPS = [
    M("output-file-name-too-long", prog('save m to "' + "x" * 300 + '.keras"'),
      "model.nn:11:11: error: expected a usable output path; received '" + "x" * 300 + ".keras' (File name too long) [bad-output]",
      files={"d.csv": ROWS}, command="run",
      ),
    M("keras-refuses-an-argument-value", prog(model=model_with("Dense(4)", "LeakyReLU(negative_slope=-1)", "Dense(1)")),
      "model.nn:6:5: error: expected arguments LeakyReLU accepts; received values Keras rejects: The negative_slope value of a "
      "Leaky ReLU layer cannot be None or negative value. Expected a float. Received: negative_slope=-1 [rejected-by-keras]",
      files={"d.csv": ROWS}, command="run",
      ),
    M("plugin-implementation-missing", prog(model=model_with("Sparkle()", "Dense(1)")),
      "model.nn:5:5: error: the plugin for layer 'Sparkle' failed to load: expected the code of a plugin at "
      "'sparkle_layers_missing:Sparkle' to import; received ModuleNotFoundError: No module named 'sparkle_layers_missing' [plugin-error]",
      files={"d.csv": ROWS, "sparkle_plugin.py": BROKEN_PLUGIN}, command="run", pythonpath=(".",),
      argv=("--plugin", "sparkle_plugin", "run", "model.nn", "--progress", "none", "--set", "epochs=1"),
      ),
    M("predictions-to-a-device", prog('predict m on d to "full"'),
      "model.nn:11:19: error: expected a regular file to write; received 'full', a device or other special file [bad-output]",
      files={"d.csv": ROWS}, command="run", prepare=_make_device,
      ),
]

def _npz(**arrays) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _array_case(id, files, source, expected):
    return M(id, prog(data=f"data d = {source}\n"), expected, files=files, command="run")


def _array_cases():
    import numpy as np

    return [
        _array_case("npz-of-python-objects", {"o.npz": _npz(x=np.array([{"a": 1}, None], dtype=object), y=np.array([1, 2]))},
                    'npz("o.npz")', "model.nn:2:1: error: o.npz:x: expected a NumPy .npz array; received a file NumPy cannot read "
                    "(it holds Python objects, which nndsl never unpickles) [bad-data]"),
        _array_case("empty-npy-file", {"e.npy": b""}, 'npy("e.npy")',
                    "model.nn:2:1: error: e.npy: expected a NumPy .npy array; received a file NumPy cannot read (No data left in file) "
                    "[bad-data]"),
        _array_case("npz-holding-a-single-number", {"z.npz": _npz(x=np.array(3.0), y=np.array(1.0))}, 'npz("z.npz")',
                    "model.nn:2:1: error: z.npz:x: expected an array with one row per example; received a single number (a 0-d array) "
                    "[bad-data]"),
        _array_case("npz-without-rows", {"r.npz": _npz(x=np.zeros((0, 2)), y=np.zeros((0,)))}, 'npz("r.npz")',
                    "model.nn:2:1: error: r.npz:x: expected at least one row; received an empty array (shape (0, 2)) [bad-data]"),
    ]


# A .nn file someone else wrote: no code, no network, nothing outside what it owns (docs/security.md).
SAFETY = _array_cases() + [
    M("lambda-layer", model_with("Lambda(relu)", "Dense(1)"),
      "model.nn:3:5: error: expected a name a .nn file may use; received 'Lambda', which runs Python code [runs-code]",
      also=("put the code in a plugin",)),
    M("saved-graph-layer", model_with('TFSMLayer("evil_sm", call_endpoint="serve")', "Dense(1)"),
      "model.nn:3:5: error: expected a name a .nn file may use; received 'TFSMLayer', which loads and runs a saved graph [runs-code]"),
    M("lambda-callback", prog().replace("epochs=epochs", "epochs=epochs callbacks=[LambdaCallback()]"),
      "model.nn:10:39: error: expected a name a .nn file may use; received 'LambdaCallback', which runs Python code [runs-code]"),
    M("schedule-function-by-name", prog().replace("epochs=epochs", "epochs=epochs callbacks=[LearningRateScheduler(my_schedule)]"),
      "model.nn:10:61: error: expected a Python function for 'schedule', which a .nn file cannot hold; received the name "
      "'my_schedule' [runs-code]"),
    M("remote-monitor-without-flag", prog().replace("epochs=epochs", 'epochs=epochs callbacks=[RemoteMonitor(root="http://10.0.0.1")]'),
      "model.nn:10:39: error: expected no network access without --allow-network; received 'RemoteMonitor', which sends data to "
      "a server [needs-network]", command="run"),
    M("remote-monitor-with-flag", prog().replace("epochs=epochs", 'epochs=epochs callbacks=[RemoteMonitor(root="http://10.0.0.1")]'),
      None, argv=("check", "--allow-network", "model.nn")),
    M("budget-past-a-layer-without-shape-rule", prog(model=model_with("RMSNormalization()", "Dense(1000)", "Dense(1)")),
      "model.nn:3:7: error: expected at most 3,000 parameters; received 4,003 in model 'm' [parameter-budget]",
      files={"d.csv": ROWS}, command="run",
      argv=("run", "model.nn", "--progress", "none", "--set", "epochs=1", "--max-params", "3000")),
    M("plugin-given-a-path", prog(), "nndsl check: error: --plugin ./my_plugin.py: expected the name of an importable module, such "
      "as my_plugin or package.module; received the path './my_plugin.py'", argv=("--plugin", "./my_plugin.py", "check", "model.nn"),
      exit_code=2),
    M("plugin-empty-name", prog(), "nndsl check: error: --plugin : expected the name of an importable module, such as my_plugin or "
      "package.module; received an empty name", argv=("--plugin", "", "check", "model.nn"), exit_code=2),
    M("seed-too-large", "seed 99999999999\n", "model.nn:1:6: error: expected a seed below 2**32 (4,294,967,296); received "
      "99,999,999,999 [bad-setting]"),
    M("id-is-the-target", prog(data='data d = csv("d.csv", target="y", id="y")\n'),
      "model.nn:2:38: error: expected 'id' to name columns other than the target; received 'y', the target [conflicting-arguments]"),
    M("features-include-the-target", prog(data='data d = csv("d.csv", target="y", features=["a", "y"])\n'),
      "model.nn:2:44: error: expected 'features' to name columns other than the target; received 'y', the target "
      "[conflicting-arguments]"),
    M("initial-epoch-not-below-epochs", prog().replace("epochs=epochs", "epochs=3 initial_epoch=3"),
      "model.nn:10:37: error: expected 'initial_epoch' below 'epochs' (3); received 3 [conflicting-arguments]"),
    M("initial-epoch-negative", prog().replace("epochs=epochs", "initial_epoch=-1"),
      "model.nn:10:28: error: expected a non-negative integer for 'initial_epoch'; received the number -1 [bad-argument-type]"),
    M("class-weight-not-numbers", prog().replace("epochs=epochs", 'class_weight={0: "high"}'),
      "model.nn:10:27: error: expected class indexes (0, 1, ...) mapped to non-negative numbers for 'class_weight'; received the "
      "string \"high\" for class 0 [bad-argument-type]"),
    M("batch-size-too-large", prog().replace("epochs=epochs", "batch_size=10000000000"),
      "model.nn:10:25: error: expected a batch size of at most 2,147,483,647 rows for 'batch_size'; received 10,000,000,000 "
      "[bad-argument-type]"),
    M("color-mode-misspelt", prog(data='data d = image_folder("imgs", color_mode="rbg")\n'),
      "model.nn:2:42: error: expected one of grayscale, rgb, rgba for 'color_mode'; received the string \"rbg\" [bad-argument-type]",
      also=("did you mean 'rgb'?",)),
    M("image-size-not-a-pair", prog(data='data d = image_folder("imgs", image_size=(0, 3))\n'),
      "model.nn:2:42: error: expected a (height, width) pair of positive integers for 'image_size'; received the tuple (0, 3) "
      "[bad-argument-type]"),
    M("predictions-outside-the-folder", prog('predict m on d to "../../home/.bashrc" keep=["a"]'),
      "model.nn:11:19: error: expected a path inside the folder of the .nn file or a folder given with --allow-write; received "
      "'../../home/.bashrc', a path outside them [write-outside]", files={"d.csv": ROWS}, command="run"),
    M("log-over-the-training-data", prog().replace("epochs=epochs", 'epochs=epochs callbacks=[CSVLogger(filename="d.csv")]'),
      "model.nn:10:58: error: expected an output path that is not an input; received 'd.csv', the file of data "
      "source 'd' [bad-output]", files={"d.csv": ROWS}),
    M("log-over-the-program", prog().replace("epochs=epochs", 'epochs=epochs callbacks=[CSVLogger(filename="model.nn")]'),
      "model.nn:10:58: error: expected an output path that is not an input; received 'model.nn', the .nn file "
      "itself [bad-output]"),
    M("backup-in-the-program-folder", prog().replace("epochs=epochs", 'epochs=epochs callbacks=[BackupAndRestore(backup_dir=".")]'),
      "model.nn:10:67: error: expected a folder of its own (new or empty), which is deleted after training; received '.', which "
      "holds the .nn file itself [write-conflict]", files={"d.csv": ROWS}, command="run"),
    M("predictions-over-a-later-source", prog('predict m on t to "t.csv"', data=DATA + 'data t = csv("t.csv")\n'),
      "model.nn:12:19: error: expected an output path that is not an input; received 't.csv', the file of data "
      "source 't' [bad-output]", files={"d.csv": ROWS, "t.csv": "a,b\n1,2\n"}),
    M("save-over-the-resume-checkpoint", prog('save m to "model.resume.keras"'),
      "model.nn:11:11: error: expected a path nndsl does not keep for itself; received 'model.resume.keras', the checkpoint nndsl "
      "keeps for run --resume [write-conflict]"),
    M("validation-data-of-other-columns",
      prog(data=DATA + 'data v = csv("v.csv", target="y")\n').replace("epochs=epochs", "epochs=epochs validation_data=v"),
      "model.nn:11:44: error: expected the feature column 'a' model 'm' was trained on; received data without it [missing-column]",
      files={"d.csv": ROWS, "v.csv": "z,w,y\n1,2,3\n"}, command="run"),
    M("tensorboard-without-its-package", prog().replace("epochs=epochs", 'epochs=epochs callbacks=[TensorBoard(log_dir="tb")]'),
      "model.nn:10:39: error: expected the tensorboard package for TensorBoard; received an environment without it "
      "[unsupported-option]", files={"d.csv": ROWS}, command="run", hides=("tensorboard",), also=("pip install tensorboard",)),
    M("binary-labels-from-one-class", prog(data='data d = image_folder("photos", label_mode="binary", image_size=(8, 8))\n',
                                           model=model_with("Flatten()", "Dense(1)", first="Input(shape=(8, 8, 3))")),
      "model.nn:2:1: error: photos: expected exactly 2 class subfolders for label_mode=\"binary\"; received 1 (cat) [bad-data]",
      files={"photos/cat/a.png": b"\x89PNG\r\n\x1a\n0000"}, command="run"),
    M("empty-image-file", prog(data='data d = image_folder("photos", image_size=(8, 8))\n',
                               model=model_with("Flatten()", "Dense(1)", first="Input(shape=(8, 8, 3))")),
      "model.nn:2:1: error: photos: expected an image file (JPEG, PNG, BMP or GIF); received 'dog/b.png', which is empty [bad-data]",
      files={"photos/cat/a.png": b"\x89PNG\r\n\x1a\n0000", "photos/dog/b.png": b""}, command="run"),
    M("truncated-image-with-a-valid-header", prog(data='data d = image_folder("photos", image_size=(8, 8))\n',
                                                  model=model_with("Flatten()", "Dense(1)", first="Input(shape=(8, 8, 3))")),
      "model.nn:2:1: error: photos: expected an image file TensorFlow can decode; received 'dog/b.png', which is cut short or "
      "damaged (Invalid PNG data, size 700) [bad-data]",
      files={"photos/cat/a.png": PNG, "photos/cat/nested/c.png": PNG, "photos/dog/b.png": PNG[:700], "photos/dog/d.png": PNG},
      command="run"),
    M("negative-max-params", prog(), "nndsl check: error: argument --max-params: expected a number of parameters of 0 or more; "
      "received -1", argv=("check", "--max-params", "-1", "model.nn"), exit_code=2, line=-1),
]

CATALOGUE = (SYNTAX + NAMES + TYPES + MODELS + STEPS + COMMAND_LINE + WORKING + DATA_PROBLEMS + OUTPUT_PROBLEMS + MODEL_FILES
             + SAFETY)
CHECK_CASES = [c for c in CATALOGUE if not c.needs_keras]
RUN_CASES = [c for c in CATALOGUE + KNOWN_GAPS if c.needs_keras]


def _params(cases):
    return [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(reason=c.known_gap, strict=False)] if c.known_gap else [])
            for c in cases]


def test_catalogue_ids_are_unique_and_many():
    ids = [c.id for c in CATALOGUE]
    assert len(ids) == len(set(ids))
    assert len(CATALOGUE) >= 45


# ---------------------------------------------------------------- running a case


def _write(folder: Path, files: dict) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is DIR:
            path.mkdir(exist_ok=True)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")


def _listing(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def materialize(case: Mistake, folder: Path) -> set[str]:
    """Write the case's project into ``folder``, with the earlier artefacts; returns the listing."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "previous.keras").write_bytes(PREVIOUS_MODEL)
    (folder / "predictions.csv").write_bytes(PREVIOUS_PREDICTIONS)
    program = case.program.encode("utf-8") if isinstance(case.program, str) else case.program
    (folder / "model.nn").write_bytes(program)
    _write(folder, case.files)
    if case.prepare is not None:
        case.prepare(folder)
    return _listing(folder)


def run_cli(argv: list[str], cwd: Path, env: dict | None = None) -> dict:
    proc = subprocess.run([sys.executable, "-m", "nndsl", *argv], cwd=cwd, env=env or ENV, capture_output=True, timeout=300)
    return {"code": proc.returncode, "stdout": proc.stdout.decode("utf-8", "replace"), "stderr": proc.stderr.decode("utf-8", "replace")}


def verify(case: Mistake, folder: Path, before: set[str], result: dict) -> None:
    err = result["stderr"]
    assert "Traceback" not in err, err
    if case.expected is None:
        assert result["code"] == 0, err
        assert err == "", err
    else:
        assert result["code"] == case.exit_code, err
        lines = err.splitlines()
        assert lines, f"no message on stderr; stdout: {result['stdout']}"
        where = folder.resolve()
        expected = case.expected(where) if callable(case.expected) else case.expected.replace("{dir}", str(where))
        assert lines[case.line] == expected, err
        for text in case.also:
            assert text in err, err
    # earlier artefacts untouched, nothing half-written left behind
    assert (folder / "previous.keras").read_bytes() == PREVIOUS_MODEL
    assert (folder / "predictions.csv").read_bytes() == PREVIOUS_PREDICTIONS
    left = {p for p in _listing(folder) - before - {RECORD} - set(case.creates) if p != HISTORY and not p.startswith(HISTORY + "/")}
    assert not left, f"unexpected files after the run: {sorted(left)}"
    for name in case.creates:
        assert (folder / name).is_file(), name


@pytest.mark.parametrize("case", _params(CHECK_CASES))
def test_mistake(case, check_batch):
    folder, before, result = check_batch(case)
    verify(case, folder, before, result)
    assert not result["tensorflow_loaded"], "a mistake found before running imported TensorFlow"


# One case of each kind of ending (a located error, a file that cannot be read, a usage error of
# `run` and of argparse, success), through `python -m nndsl` in a process of its own.
ENTRY_CASES = [c for c in CHECK_CASES if c.id in {
    "misspelt-layer", "not-utf8", "nn-file-missing", "unknown-progress-style", "tab-indented-file"}]


@pytest.mark.parametrize("case", _params(ENTRY_CASES))
def test_mistake_through_python_m_nndsl(case, tmp_path):
    before = materialize(case, tmp_path)
    verify(case, tmp_path, before, run_cli(case.args(), tmp_path, env_with_path(tmp_path, case.pythonpath)))


def test_entry_cases_are_all_found():
    assert len(ENTRY_CASES) == 5
    assert len(ENTRY_EXAMPLES) == 1


@pytest.mark.keras
@pytest.mark.parametrize("case", _params(RUN_CASES))
def test_mistake_at_run_time(case, batch):
    folder, before, result = batch(case)
    verify(case, folder, before, result)


# ---------------------------------------------------------------- the shared process for `run`


class Batch:
    """Runs the selected cases (and examples of docs/errors.md) of one kind in one process, once."""

    def __init__(self, items: dict, root: Path) -> None:
        self.items = items
        self.root = root
        self.results: dict = {}
        self.prepared: dict = {}
        self.pending: tuple | None = None  # (process, results file) of a batch under way

    def start(self, keys=None) -> None:
        """Write the projects of ``keys`` (all not yet run) and start their process; ``finish`` waits for it."""
        self.finish()
        keys = [k for k in self.items if k not in self.prepared] if keys is None else keys
        spec = []
        for key in keys:
            item = self.items[key]
            folder = self.root / key
            try:
                before = item.materialize_into(folder)
            except pytest.skip.Exception as exc:
                self.prepared[key] = exc
                continue
            self.prepared[key] = (folder, before)
            entry = {"id": key, "cwd": str(folder), "argv": item.batch_argv()}
            if item.fsize_limit is not None:
                entry["fsize_limit"] = item.fsize_limit
            if item.pythonpath:
                entry["pythonpath"] = [str(folder / p) for p in item.pythonpath]
            if getattr(item, "hides", ()):
                entry["hide"] = list(item.hides)
            spec.append(entry)
        if not spec:
            return
        name = f"batch-{len(self.results)}"
        cases_file, results_file = self.root / f"{name}.json", self.root / f"{name}-results.json"
        cases_file.write_text(json.dumps(spec))
        proc = subprocess.Popen([sys.executable, str(BATCH), str(cases_file), str(results_file)], env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.pending = proc, results_file

    def finish(self) -> None:
        if self.pending is None:
            return
        (proc, results_file), self.pending = self.pending, None
        try:
            _, stderr = proc.communicate(timeout=900)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert proc.returncode == 0, stderr[-5000:]
        self.results.update(json.loads(results_file.read_text()))

    def close(self) -> None:
        """End a batch still under way (at the end of the session; conftest calls it)."""
        if self.pending is not None:
            self.pending[0].kill()
            self.pending[0].communicate()
            self.pending = None

    def __call__(self, key: str):
        self.finish()
        if key not in self.prepared:
            self.start([k for k in self.items if k not in self.prepared])
            self.finish()
        prepared = self.prepared[key]
        if isinstance(prepared, BaseException):
            raise prepared
        folder, before = prepared
        return folder, before, self.results[key]


class _RunCase:
    """A catalogue case as the batch sees it."""

    def __init__(self, case: Mistake) -> None:
        self.case = case
        self.key = case.id
        self.fsize_limit = case.fsize_limit
        self.pythonpath = case.pythonpath
        self.hides = case.hides

    def materialize_into(self, folder: Path) -> set[str]:
        return materialize(self.case, folder)

    def batch_argv(self) -> list[str]:
        return self.case.args()


def _batch_items(tests, needs_keras: bool) -> dict:
    """The cases and examples of one kind among the parameters of ``tests``, by key."""
    items = {}
    for test in tests:
        params = getattr(getattr(test, "callspec", None), "params", {})
        for value in params.values():
            if isinstance(value, Mistake) and value.needs_keras == needs_keras:
                items[value.id] = _RunCase(value)
            elif isinstance(value, Example) and value.needs_keras == needs_keras:
                items[value.key] = value
    return items


def _getter(runner: Batch):
    """``get(case) -> (folder, listing before, result)``; a case the runner was not given runs in a batch of its own."""

    def get(thing):
        key = thing.id if isinstance(thing, Mistake) else thing.key
        runner.items.setdefault(key, _RunCase(thing) if isinstance(thing, Mistake) else thing)
        return runner(key)

    return get


def start_early(folder: Path, tests) -> Batch:
    """The process of the selected cases that stop before TensorFlow, started with the session (see conftest)."""
    runner = Batch(_batch_items(tests, needs_keras=False), folder)
    runner.start()
    return runner


@pytest.fixture(scope="session")
def batch(request, tmp_path_factory):
    """``batch(case) -> (folder, listing before, result)`` for the selected `run` cases and examples."""
    items = _batch_items(request.session.items, needs_keras=True)
    return _getter(Batch(items, tmp_path_factory.mktemp("run-batch")))


@pytest.fixture(scope="module")
def check_batch(early):
    """The same for the cases and examples that stop before TensorFlow: one process that never imports it."""
    runner, _ = early
    return _getter(runner)


# ---------------------------------------------------------------- docs/errors.md


def _strings(node):
    """The string constants an expression can evaluate to (both arms of `a if c else b`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for v in node.values:
            yield from _strings(v)


CODE_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*\Z")


def source_codes() -> dict[str, list[str]]:
    """Every diagnostic code written in the package: code -> where.

    A code is a kebab-case string passed as the first argument of an ``error``/``warn`` call,
    as a ``code=`` argument, or as the default of a parameter named ``code``.
    """
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "nndsl").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            candidates = []
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if name in ("error", "warn") and node.args:
                    candidates.append(node.args[0])
                candidates.extend(k.value for k in node.keywords if k.arg == "code")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                positional = a.posonlyargs + a.args
                pairs = list(zip(positional[len(positional) - len(a.defaults):], a.defaults))
                pairs += [(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
                candidates.extend(d for arg, d in pairs if arg.arg == "code")
            for c in candidates:
                for s in _strings(c):
                    if CODE_RE.match(s):
                        found.setdefault(s, []).append(f"{path.relative_to(ROOT)}:{getattr(c, 'lineno', '?')}")
    return found


def documented_codes(text: str) -> list[str]:
    return re.findall(r"^### `([a-z0-9-]+)`", text, flags=re.M)


def test_every_code_is_documented_and_every_documented_code_exists():
    codes = source_codes()
    assert len(codes) >= 40, sorted(codes)
    documented = documented_codes(ERRORS_MD.read_text(encoding="utf-8"))
    assert len(documented) == len(set(documented)), "a code is documented twice"
    missing = {c: codes[c] for c in sorted(set(codes) - set(documented))}
    assert not missing, f"codes the package reports but docs/errors.md does not document: {missing}"
    stale = sorted(set(documented) - set(codes))
    assert not stale, f"codes docs/errors.md documents but the package never reports: {stale}"


@dataclass
class Example:
    """One example of docs/errors.md: files, a command line and the exact output on stderr."""

    key: str
    code: str
    index: int  # which ```console block of the file
    files: dict
    env: dict
    argv: list
    output: str
    fsize_limit: int | None = None

    @property
    def needs_keras(self) -> bool:
        words = list(self.argv)
        while words[:1] == ["--plugin"]:
            words = words[2:]
        # `run` on a file that is not there fails before TensorFlow is imported
        return words[:1] == ["run"] and any(w in self.files for w in words)

    @property
    def pythonpath(self) -> tuple:
        return tuple(p for p in self.env.get("PYTHONPATH", "").split(os.pathsep) if p)

    def materialize_into(self, folder: Path) -> set[str]:
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder, self.files)
        return _listing(folder)

    def batch_argv(self) -> list[str]:
        return list(self.argv)


DOC_FOLDER = "/home/me/project"  # how the example's folder is shown in docs/errors.md
_BLOCK = re.compile(r"(?:^`(?P<name>[^`]+)`:\n\n)?^```(?P<lang>[a-z]*)\n(?P<body>.*?)^```\n", re.M | re.S)
_LIMIT = re.compile(r"<!-- file-size-limit: (\d+) -->")


def parse_examples(text: str) -> list[Example]:
    examples = []
    sections = re.split(r"^(?=##+ )", text, flags=re.M)
    index = 0
    for section in sections:
        m = re.match(r"### `([a-z0-9-]+)`", section)
        code = m.group(1) if m else "general"
        files: dict = {}
        limit = None
        pos = 0
        for block in _BLOCK.finditer(section):
            between = section[pos:block.start()]
            pos = block.end()
            lim = _LIMIT.search(between)
            if lim:
                limit = int(lim.group(1))
            lang, body, name = block.group("lang"), block.group("body"), block.group("name")
            if lang == "nn":
                files["model.nn"] = body
            elif lang == "console":
                first, _, output = body.partition("\n")
                assert first.startswith("$ "), f"console block of {code} does not start with a command"
                words = shlex.split(first[2:].split("  #")[0])
                env = {}
                while words and re.match(r"[A-Z_]+=", words[0]):
                    k, _, v = words.pop(0).partition("=")
                    env[k] = v
                assert words and words[0] == "nndsl", first
                examples.append(Example(f"{index + 1:02d}-{code}", code, index, files, env, words[1:], output, limit))
                index += 1
                files, limit = {}, None
            elif name is not None:
                files[name] = body
    return examples


EXAMPLES = parse_examples(ERRORS_MD.read_text(encoding="utf-8")) if ERRORS_MD.exists() else []
CHECK_EXAMPLES = [e for e in EXAMPLES if not e.needs_keras]
RUN_EXAMPLES = [e for e in EXAMPLES if e.needs_keras]


def _shown(output: str, folder: Path) -> str:
    return output.replace(str(folder.resolve()), DOC_FOLDER).replace(str(folder), DOC_FOLDER)


def _compare_example(example: Example, actual: str, update: bool) -> None:
    assert "Traceback" not in actual, actual
    if update:
        text = ERRORS_MD.read_text(encoding="utf-8")
        blocks = list(re.finditer(r"^```console\n(?P<cmd>\$ [^\n]*\n)(?P<out>.*?)^```\n", text, flags=re.M | re.S))
        b = blocks[example.index]
        text = text[:b.start("out")] + actual + text[b.end("out"):]
        ERRORS_MD.write_text(text, encoding="utf-8")
        return
    assert actual == example.output, f"docs/errors.md example for {example.code} is out of date (pytest --update-goldens)"


def test_errors_md_has_an_example_for_every_code():
    documented = documented_codes(ERRORS_MD.read_text(encoding="utf-8"))
    with_example = {e.code for e in EXAMPLES}
    assert not [c for c in documented if c not in with_example]


@pytest.mark.parametrize("example", CHECK_EXAMPLES, ids=[e.key for e in CHECK_EXAMPLES])
def test_errors_md_example(example, check_batch, update_goldens):
    folder, _, result = check_batch(example)
    _compare_example(example, _shown(result["stderr"], folder), update_goldens)


# An example that loads a plugin from the project's folder (PYTHONPATH=.), in a process of its own.
ENTRY_EXAMPLES = [e for e in CHECK_EXAMPLES if e.pythonpath][:1]


@pytest.mark.parametrize("example", ENTRY_EXAMPLES, ids=[e.key for e in ENTRY_EXAMPLES])
def test_errors_md_example_through_python_m_nndsl(example, tmp_path, update_goldens):
    example.materialize_into(tmp_path)
    result = run_cli(example.argv, tmp_path, env_with_path(tmp_path, example.pythonpath))
    _compare_example(example, _shown(result["stderr"], tmp_path), update_goldens)


@pytest.mark.keras
@pytest.mark.parametrize("example", RUN_EXAMPLES, ids=[e.key for e in RUN_EXAMPLES])
def test_errors_md_run_example(example, batch, update_goldens):
    folder, _, result = batch(example)
    _compare_example(example, _shown(result["stderr"], folder), update_goldens)
