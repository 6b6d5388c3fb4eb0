"""Run several ``nndsl`` command lines in one Python process, as ``python -m nndsl`` would.

Importing TensorFlow takes seconds; the mistake catalogue has dozens of cases that run past
checking, so they share one process. Each case runs ``nndsl.cli.main(argv)`` in its own
folder with file descriptors 1 and 2 sent to files, so output written below Python (by
TensorFlow's C++ runtime) is captured too. An exception escaping ``main`` is printed as the
interpreter would print it, so a test can look for ``Traceback``.

    python run_batch.py CASES.json RESULTS.json

CASES.json: a list of {"id", "cwd", "argv", "fsize_limit" (optional, bytes), "pythonpath"
(optional: folders put first on sys.path for the case, as PYTHONPATH would), "hide" (optional: top-level
packages the case cannot import, as if they were not installed)}.
RESULTS.json: {id: {"code", "stdout", "stderr", "seconds", "tensorflow_loaded" (whether TensorFlow
was imported by the end of the case, by it or an earlier one)}}.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback


def run_case(case: dict, capture_dir: str) -> dict:
    from nndsl.cli import main
    from nndsl.plugins.registry import reset

    out_path = os.path.join(capture_dir, f"{case['id']}.out")
    err_path = os.path.join(capture_dir, f"{case['id']}.err")
    limit = case.get("fsize_limit")
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    start = time.perf_counter()
    os.chdir(case["cwd"])
    extra_path = [os.path.abspath(p) for p in case.get("pythonpath", ())]
    sys.path[:0] = extra_path
    reset()  # entry points are scanned again, on the case's sys.path
    hidden = _hide(case.get("hide", ()))
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            if limit is not None:
                # A full disk, simulated: writes past `limit` bytes fail with EFBIG.
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, old_limit[1]))
            try:
                code = main(case["argv"])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # what `python -m nndsl` would show: a traceback, exit status 1
                traceback.print_exc()
                code = 1
        finally:
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            for p in extra_path:
                sys.path.remove(p)
            _forget_modules_under(extra_path)
            _unhide(hidden)
            reset()
    seconds = time.perf_counter() - start
    with open(out_path, encoding="utf-8", errors="replace", newline="") as fh:
        stdout = fh.read()
    with open(err_path, encoding="utf-8", errors="replace", newline="") as fh:
        stderr = fh.read()
    return {"code": code, "stdout": stdout, "stderr": stderr, "seconds": round(seconds, 3),
            "tensorflow_loaded": "tensorflow" in sys.modules}


def _hide(names) -> dict:
    """Make ``import NAME`` fail with ModuleNotFoundError and ``importlib.util.find_spec(NAME)``
    return None, whether or not NAME is installed: a None entry in ``sys.modules`` is Python's own
    way to block an import. Returns the entries it replaced, for ``_unhide``."""
    hidden = {}
    for name in names:
        hidden[name] = {m: mod for m, mod in sys.modules.items() if m == name or m.startswith(name + ".")}
        for m in hidden[name]:
            del sys.modules[m]
        sys.modules[name] = None
    return hidden


def _unhide(hidden: dict) -> None:
    for name, modules in hidden.items():
        for m in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[m]
        sys.modules.update(modules)


def _forget_modules_under(folders) -> None:
    """Drop modules a case imported from its own folder, so the next case imports its own."""
    if not folders:
        return
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if any(path.startswith(folder + os.sep) for folder in folders):
            del sys.modules[name]
    importlib.invalidate_caches()


def main_batch(cases_file: str, results_file: str) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the size limit fails instead of killing us
    with open(cases_file, encoding="utf-8") as fh:
        cases = json.load(fh)
    results = {}
    with tempfile.TemporaryDirectory(prefix="nndsl-batch-") as capture_dir:
        for case in cases:
            results[case["id"]] = run_case(case, capture_dir)
    with open(results_file, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main_batch(sys.argv[1], sys.argv[2])
