"""Generated catalogues of the names nndsl knows, shipped as package data.

``keras.json`` lists every public Keras name of each kind with its parameter schema, so
programs can be checked without importing TensorFlow. Regenerate it with
``python -m nndsl.tools.gen_catalogue`` after a Keras upgrade.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent / "keras.json"


@functools.cache
def catalogue() -> dict:
    """The parsed catalogue: ``{"keras_version": ..., "kinds": {kind: {name: entry}}}``."""
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def entry(kind: str, name: str) -> dict:
    """The catalogue entry of ``name`` among ``kind`` (``"metrics"``, ``"losses"``...), or ``{}``."""
    return catalogue()["kinds"].get(kind, {}).get(name, {})
