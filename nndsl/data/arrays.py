"""The ``npz`` and ``npy`` data sources."""

from __future__ import annotations

from pathlib import Path

from .table import Dataset, data_error, fingerprint_file


def _resolve(base: Path, p: str) -> Path:
    return Path(p) if Path(p).is_absolute() else (base / p).resolve()


def _check_file(path: Path, shown: str, decl, source, what: str):
    if not path.exists():
        raise data_error(f"expected an existing {what} file; received a path that does not exist ({path})",
                         where=shown, decl=decl, source=source,
                         hint="paths in a .nn file are relative to the .nn file's folder")
    if path.is_dir():
        raise data_error(f"expected a {what} file; received a folder", where=shown, decl=decl, source=source)


def _read(read, shown, decl, source, what: str):
    """``read()``, with every way NumPy refuses a file (empty, truncated, not an array, an array
    of Python objects, which it never unpickles) a located error."""
    import zipfile

    try:
        return read()
    except (ValueError, EOFError, OSError, KeyError, zipfile.BadZipFile) as exc:
        text = str(exc).strip() or type(exc).__name__
        if "allow_pickle" in text:
            text = "it holds Python objects, which nndsl never unpickles"
        raise data_error(f"expected a NumPy {what}; received a file NumPy cannot read ({text})",
                         where=shown, decl=decl, source=source) from None


def _finite(arr, shown, decl, source):
    import numpy as np

    arr = np.asarray(arr)
    if arr.ndim == 0:
        raise data_error("expected an array with one row per example; received a single number (a 0-d array)",
                         where=shown, decl=decl, source=source)
    if arr.shape[0] == 0:
        raise data_error(f"expected at least one row; received an empty array (shape {arr.shape})", where=shown, decl=decl, source=source)
    if arr.dtype.kind not in "fiub":
        raise data_error(f"expected a numeric array; received dtype {arr.dtype}", where=shown, decl=decl, source=source)
    arr = arr.astype(np.float32)
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise data_error(f"expected finite numbers; received {arr[idx]} at index {idx}", where=shown, decl=decl, source=source)
    if arr.ndim == 1:
        arr = arr[:, None]
    return arr


def load_npz(args: dict, *, name: str, base: Path, decl=None, source=None) -> Dataset:
    import numpy as np

    shown = args["path"]
    path = _resolve(base, shown)
    _check_file(path, shown, decl, source, ".npz")
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise data_error(f"expected a NumPy .npz archive; received a file NumPy cannot read ({exc})",
                         where=shown, decl=decl, source=source) from None
    xk = args.get("x") or "x"
    yk = args.get("y")
    keys = list(archive.keys())
    if xk not in keys:
        raise data_error(f"expected an array '{xk}'; received arrays {', '.join(keys)}", where=shown, decl=decl, source=source)
    if yk is None and "y" in keys:
        yk = "y"
    if yk is not None and yk not in keys:
        raise data_error(f"expected an array '{yk}'; received arrays {', '.join(keys)}", where=shown, decl=decl, source=source)
    x = _finite(_read(lambda: archive[xk], f"{shown}:{xk}", decl, source, ".npz array"), f"{shown}:{xk}", decl, source)
    y = _finite(_read(lambda: archive[yk], f"{shown}:{yk}", decl, source, ".npz array"), f"{shown}:{yk}", decl, source) if yk else None
    if y is not None and len(y) != len(x):
        raise data_error(f"expected as many targets as rows; received {len(x)} rows and {len(y)} targets",
                         where=shown, decl=decl, source=source)
    return Dataset(name=name, x=x, y=y, feature_names=[f"x{i}" for i in range(x.shape[-1])], target_names=[yk] if yk else [],
                   path=path, fingerprint=fingerprint_file(path))


def load_npy(args: dict, *, name: str, base: Path, decl=None, source=None) -> Dataset:
    import numpy as np

    shown = args["path"]
    path = _resolve(base, shown)
    _check_file(path, shown, decl, source, ".npy")
    x = _finite(_read(lambda: np.load(path, allow_pickle=False), shown, decl, source, ".npy array"), shown, decl, source)
    y = None
    fp = fingerprint_file(path)
    if args.get("target"):
        tshown = args["target"]
        tpath = _resolve(base, tshown)
        _check_file(tpath, tshown, decl, source, ".npy")
        y = _finite(_read(lambda: np.load(tpath, allow_pickle=False), tshown, decl, source, ".npy array"), tshown, decl, source)
        if len(y) != len(x):
            raise data_error(f"expected as many targets as rows; received {len(x)} rows and {len(y)} targets",
                             where=tshown, decl=decl, source=source)
        fp += "," + fingerprint_file(tpath)
    return Dataset(name=name, x=x, y=y, feature_names=[f"x{i}" for i in range(x.shape[-1])], target_names=["y"] if y is not None else [],
                   path=path, fingerprint=fp)
