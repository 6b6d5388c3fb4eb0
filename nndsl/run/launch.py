"""``nndsl launch -n N FILE``: N processes on this machine, joined on 127.0.0.1, training together.

It is the multi-host command line (``nndsl run FILE --num-processes N --process-id I
--coordinator HOST:PORT``) started N times, and a supervisor around them:

- process 0 talks to the terminal; the others are silent unless one of them fails on its own;
- Ctrl-C reaches every process exactly once (they run in their own sessions, and the launcher
  forwards it), so the group stops together and process 0 writes the checkpoint;
- when a process ends with an error, or is killed, the others are stopped after a short grace
  period instead of waiting for their watchdog, and the launcher says which process failed.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRACE = 5.0  # seconds the other processes get to end on their own after one fails


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def launch(path: Path, n: int, run_args: list[str], *, port: int = 0, timeout: float | None = None, plugins: list[str] = ()) -> int:
    port = port or free_port()
    base = [sys.executable, "-m", "nndsl", *(a for m in plugins for a in ("--plugin", m)), "run", str(path), *run_args,
            "--num-processes", str(n), "--coordinator", f"127.0.0.1:{port}"]
    if timeout is not None:
        base += ["--timeout", f"{timeout:g}"]
    logs = []
    procs = []
    for i in range(n):
        if i == 0:
            out, err = None, None
        else:
            log = tempfile.TemporaryFile(mode="w+b")
            logs.append(log)
            out, err = subprocess.DEVNULL, log
        procs.append(subprocess.Popen(base + ["--process-id", str(i)], stdout=out, stderr=err, start_new_session=True))

    def forward(signum, frame):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _supervise(procs, logs)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for log in logs:
            log.close()


def _first_failure(codes) -> tuple[int, int] | None:
    """The process to blame among those that ended badly: one killed by a signal (the others
    then fail because it left), else the lowest-numbered."""
    bad = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
    return min(bad, key=lambda ic: (ic[1] >= 0, ic[0])) if bad else None


def _supervise(procs, logs) -> int:
    failed = None  # (process index, exit code) of the first process to fail
    deadline = None
    stopped = False
    while True:
        codes = [p.poll() for p in procs]
        if all(c is not None for c in codes):
            break
        if failed is None:
            failed = _first_failure(codes)
            if failed is not None:
                deadline = time.monotonic() + GRACE
        elif time.monotonic() > deadline:
            for p in procs:  # first asked to stop, then killed
                if p.poll() is None:
                    p.kill() if stopped else p.terminate()
            deadline = time.monotonic() + GRACE
            stopped = True
        time.sleep(0.1)
    codes = [p.returncode for p in procs]
    if failed is None:  # every process ended between two looks
        failed = _first_failure(codes)
    if failed is None:
        return 0
    index, code = failed
    if index != 0:
        # process 0's own message, if any, is already on the screen; show this one's too
        log = logs[index - 1]
        log.seek(0)
        tail = log.read().decode("utf-8", "replace").strip().splitlines()[-15:]
        if tail and (codes[0] in (0, None) or code != codes[0]):
            sys.stderr.write("".join(f"process {index}: {line}\n" for line in tail))
    if code == 130 and all(c == 130 for c in codes):
        return 130
    others = ", ".join(f"process {i} {_status(c)}" for i, c in enumerate(codes) if i != index)
    if code != 1 or any(c != 1 for c in codes):
        sys.stderr.write(f"nndsl launch: process {index} {_status(code)}"
                         + ("; the others were stopped" if stopped else "") + (f" ({others})" if others else "") + "\n")
    return code if code > 0 else 128 + (-code)
