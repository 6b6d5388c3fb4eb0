"""The ``csv`` data source: a header row, numeric features, optional target column(s).

Rows are parsed as they are read, straight into a 4-byte-per-value buffer: a million-row file
never exists as Python strings all at once. Only the text of non-numeric columns (ids and
excluded columns, which ``predict ... keep=[...]`` may copy into its output) is kept.
"""

from __future__ import annotations

import csv as _csv
import math
from array import array
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
        fh = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise fail(f"expected a readable file; received {exc.strerror}") from None
    with fh:
        reader = _csv.reader(fh, delimiter=delimiter)
        try:
            header = None
            for row in reader:
                if row and any(c.strip() for c in row):
                    header = [h.strip() for h in row]
                    break
            if header is None:
                raise fail("expected a header row and data rows; received an empty file")
            seen = set()
            for h in header:
                if h in seen:
                    raise fail(f"expected unique column names; received '{h}' twice in the header")
                seen.add(h)

            def need(col: str, role: str):
                if col not in header:
                    from ..errors import closest

                    best = closest(col, header)
                    hint = f"did you mean '{best}'?" if best else None
                    if len(header) == 1:
                        other = next((d for d in (";", "\t", "|") if d != delimiter and d in header[0]), None)
                        if other is not None:
                            shown_delim = "\\t" if other == "\t" else other
                            hint = f"the file seems to be separated by '{shown_delim}': write csv(..., delimiter=\"{shown_delim}\")"
                    raise fail(f"expected a column '{col}' ({role}); received columns {', '.join(header)}", hint=hint)

            targets = _as_list(args.get("target")) or []
            ids = _as_list(args.get("id")) or []
            exclude = _as_list(args.get("exclude")) or []
            categorical = _as_list(args.get("categorical")) or []
            for c in targets:
                need(c, "target")
            for c in ids:
                need(c, "id")
            for c in exclude:
                need(c, "excluded")
            for c in categorical:
                need(c, "categorical")
                if c in targets:
                    raise fail(f"expected categorical feature columns; received the target '{c}'",
                               hint="a class target is written as numbers 0..N-1 (or one-hot columns)")
            features = _as_list(args.get("features"))
            if features is None:
                features = [h for h in header if h not in targets and h not in exclude and h not in ids and h not in categorical]
            else:
                for c in features:
                    need(c, "feature")
                features = [c for c in features if c not in categorical]
            if not features and not categorical:
                raise fail("expected at least one feature column; received none after removing target and excluded columns")
            index = {h: j for j, h in enumerate(header)}
            numeric_cols = [index[c] for c in features + targets]
            numeric_names = features + targets
            text_cols = [c for c in header if c not in numeric_names]
            text_index = [index[c] for c in text_cols]
            width = len(header)
            nf = len(features)
            xs = array("f")  # features and targets go straight into their own buffers: no copy later
            ys = array("f")
            texts: dict[str, list] = {c: [] for c in text_cols}
            rows = 0
            line = 1
            for row in reader:
                line = reader.line_num
                if not row or not any(c.strip() for c in row):
                    continue
                if len(row) != width:
                    raise fail(f"expected {width} fields like the header; received {len(row)}", where=f"{shown}:row {line}")
                for k, (j, cname) in enumerate(zip(numeric_cols, numeric_names)):
                    cell = row[j].strip()
                    try:
                        v = float(cell)
                    except ValueError:
                        raise fail(f"expected a number; received '{cell}'" if cell else "expected a number; received an empty cell",
                                   where=f"{shown}:row {line}, column '{cname}'",
                                   hint="a column of categories is declared with categorical=[...]; leave other text out with exclude=[...] or keep it with id=[...]") from None
                    if math.isnan(v) or math.isinf(v):
                        raise fail(f"expected a finite number; received '{cell}'", where=f"{shown}:row {line}, column '{cname}'",
                                   hint="remove or fill missing values before training")
                    (xs if k < nf else ys).append(v)
                for j, cname in zip(text_index, text_cols):
                    texts[cname].append(row[j])
                rows += 1
        except _csv.Error as exc:
            raise fail(f"expected CSV text; received {exc}", where=f"{shown}:row {reader.line_num}") from None
        except UnicodeDecodeError as exc:
            raise fail(f"expected UTF-8 text; received bytes that are not (at byte {exc.start})") from None
    if rows == 0:
        raise fail("expected data rows after the header; received the header only")
    x = np.frombuffer(xs, dtype=np.float32).reshape(rows, nf)
    y = np.frombuffer(ys, dtype=np.float32).reshape(rows, len(targets)) if targets else None
    return Dataset(
        name=name, x=x, y=y, feature_names=features, target_names=targets,
        ids={c: texts[c] for c in ids}, columns=texts, path=path, fingerprint=fingerprint_file(path),
        categorical=list(categorical),
    )
