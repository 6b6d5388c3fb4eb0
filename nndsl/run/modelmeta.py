"""What nndsl needs to know about a saved model beyond Keras's own file: the categories of its
categorical columns and the names of its targets.

In a ``.keras`` file (a zip archive) it is one extra member, ``nndsl.json``, which Keras ignores
when loading; beside an ``.h5`` file or a serving export it is ``<name>.nndsl.json``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

MEMBER = "nndsl.json"
FORMAT_VERSION = 1


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".nndsl.json")


def add_to_archive(keras_file: Path, meta: dict) -> None:
    """Append the metadata to a ``.keras`` archive just written (before it is moved into place)."""
    with zipfile.ZipFile(keras_file, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MEMBER, json.dumps({"format_version": FORMAT_VERSION, **meta}, indent=1))


def read(path: Path) -> dict:
    """The metadata saved with a model, or {} when there is none."""
    path = Path(path)
    try:
        if path.suffix == ".keras" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                if MEMBER in zf.namelist():
                    return json.loads(zf.read(MEMBER).decode("utf-8"))
        side = sidecar(path)
        if side.is_file():
            return json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError, zipfile.BadZipFile):
        return {}
    return {}
