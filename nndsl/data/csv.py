"""The ``csv`` data source: a header row, numeric features, optional target column(s)."""

from __future__ import annotations

import csv as _csv
import math
from pathlib import Path

from .table import Dataset, data_error, fingerprint_file


def _as_list(v) -> list[str] | None:
    if v is None:
        return None
    if isinstance(v, str):
        return [v]
    return [str(x) for x in v]


def load(args: dict, *, name: str, base: Path, decl=None, source=None) -> Dataset:
    """Read a CSV file into a :class:`Dataset`.

    Errors name the file, the column and the (1-based, header = row 1) row: a missing file, a
    folder, an empty file, a header without rows, a missing column, a non-numeric cell, NaN or
    infinity, and ragged rows.
    """
    import numpy as np

    path = (base / args["path"]).resolve() if not Path(args["path"]).is_absolute() else Path(args["path"])
    shown = args["path"]

    def fail(msg, where=None, hint=None):
        return data_error(msg, where=where or shown, hint=hint, decl=decl, source=source)

    if not path.exists():
        raise fail(f"expected an existing CSV file; received a path that does not exist ({path})",
                   hint="paths in a .nn file are relative to the .nn file's folder")
    if path.is_dir():
        raise fail("expected a CSV file; received a folder")
    delimiter = args.get("delimiter") or ","
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(_csv.reader(fh, delimiter=delimiter))
    except UnicodeDecodeError as exc:
        raise fail(f"expected UTF-8 text; received bytes that are not (at byte {exc.start})") from None
    except _csv.Error as exc:
        raise fail(f"expected CSV text; received {exc}") from None
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if not rows:
        raise fail("expected a header row and data rows; received an empty file")
    header = [h.strip() for h in rows[0]]
    data = rows[1:]
    if not data:
        raise fail("expected data rows after the header; received the header only")
    seen = set()
    for h in header:
        if h in seen:
            raise fail(f"expected unique column names; received '{h}' twice in the header")
        seen.add(h)

    def need(col: str, role: str):
        if col not in header:
            from ..errors import closest

            best = closest(col, header)
            raise fail(f"expected a column '{col}' ({role}); received columns {', '.join(header)}",
                       hint=f"did you mean '{best}'?" if best else None)

    targets = _as_list(args.get("target")) or []
    ids = _as_list(args.get("id")) or []
    exclude = set(_as_list(args.get("exclude")) or [])
    for c in targets:
        need(c, "target")
    for c in ids:
        need(c, "id")
    for c in exclude:
        need(c, "excluded")
    features = _as_list(args.get("features"))
    if features is None:
        features = [h for h in header if h not in targets and h not in exclude and h not in ids]
    else:
        for c in features:
            need(c, "feature")
    if not features:
        raise fail("expected at least one feature column; received none after removing target and excluded columns")
    width = len(header)
    for i, r in enumerate(data):
        if len(r) != width:
            raise fail(f"expected {width} fields like the header; received {len(r)}", where=f"{shown}:row {i + 2}")
    index = {h: j for j, h in enumerate(header)}

    def numeric(cols):
        out = np.empty((len(data), len(cols)), dtype=np.float32)
        for k, c in enumerate(cols):
            j = index[c]
            for i, r in enumerate(data):
                cell = r[j].strip()
                try:
                    v = float(cell)
                except ValueError:
                    raise fail(f"expected a number; received '{cell}'" if cell else "expected a number; received an empty cell",
                               where=f"{shown}:row {i + 2}, column '{c}'",
                               hint="leave text columns out with exclude=[...] or use id=[...] to keep them") from None
                if math.isnan(v) or math.isinf(v):
                    raise fail(f"expected a finite number; received '{cell}'", where=f"{shown}:row {i + 2}, column '{c}'",
                               hint="remove or fill missing values before training")
                out[i, k] = v
        return out

    x = numeric(features)
    y = numeric(targets) if targets else None
    return Dataset(
        name=name, x=x, y=y, feature_names=features, target_names=targets,
        ids={c: [r[index[c]] for r in data] for c in ids},
        columns={h: [r[index[h]] for r in data] for h in header},
        path=path, fingerprint=fingerprint_file(path),
    )
