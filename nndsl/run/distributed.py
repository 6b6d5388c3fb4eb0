"""Training on several processes (hosts) at once, through Keras's own engine on JAX.

Every process runs the same ``.nn`` file: ``nndsl run FILE --num-processes N --process-id I
--coordinator HOST:PORT``. Each joins the group (``jax.distributed``), and Keras trains with
``keras.distribution.DataParallel``: the weights are replicated, every global batch is split
between the processes, and gradients are summed across them at every step, so all processes
hold the same weights throughout.

What nndsl adds around Keras:

- **Equal shards.** Every process loads the data and takes its own slice of each global batch
  (:class:`nndsl.run.pipeline.ArrayBatches`). Rows that do not fill a last global batch are
  dropped, and the run says so: a process with one batch more than the others would wait for
  them forever.
- **One writer.** Process 0 alone shows progress and writes models, checkpoints, predictions
  and the run record; the others compute the same steps silently.
- **No silent hang.** Joining has a time limit, and while a collective phase runs (training,
  evaluation) a watchdog expects a finished batch at least every ``timeout`` seconds; a peer
  that died or cannot be reached ends the run with a clear error instead.
- **Ctrl-C together.** An interrupted group stops at the end of an epoch that every process
  agrees on, so process 0's checkpoint is the state of all of them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from dataclasses import dataclass

from ..errors import UsageError

DEFAULT_TIMEOUT = 300  # seconds


@dataclass
class Group:
    """This process's place in a multi-process run."""

    num_processes: int
    process_id: int
    coordinator: str
    timeout: float = DEFAULT_TIMEOUT

    @property
    def chief(self) -> bool:
        return self.process_id == 0

    def validate(self) -> None:
        if self.num_processes < 1:
            raise UsageError(f"--num-processes: expected a positive number of processes; received {self.num_processes}")
        if not 0 <= self.process_id < self.num_processes:
            raise UsageError(f"--process-id: expected 0 to {self.num_processes - 1} for {self.num_processes} processes; "
                             f"received {self.process_id}")
        host, _, port = self.coordinator.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"--coordinator: expected HOST:PORT, such as 10.0.0.1:1234; received '{self.coordinator}'")
        if self.timeout <= 0:
            raise UsageError(f"--timeout: expected a positive number of seconds; received {self.timeout:g}")


def _die(message: str) -> None:
    """End this process at once with a clear message: a collective that lost a peer never returns."""
    try:
        sys.stderr.flush()
    except Exception:
        pass
    os.write(2, (f"nndsl: error: {message}\n").encode())
    os._exit(1)


def join(group: Group, seed: int | None) -> int:
    """Join the group and make Keras train data-parallel across it; returns the seed all processes
    shuffle with. Call before any model is built."""
    import jax

    done = threading.Event()

    def too_late():
        if not done.wait(group.timeout + 5):
            _die(f"process {group.process_id} of {group.num_processes}: the group at {group.coordinator} did not form within "
                 f"{group.timeout:g} s; check that every process was started with the same --num-processes and --coordinator")

    threading.Thread(target=too_late, name="nndsl-join", daemon=True).start()
    try:
        jax.distributed.initialize(
            coordinator_address=group.coordinator, num_processes=group.num_processes, process_id=group.process_id,
            initialization_timeout=max(1, int(group.timeout)),
            # longer than the watchdog's limit, which reports a silent peer first, and clearly
            heartbeat_timeout_seconds=max(10, int(2 * group.timeout + 10)),
            shutdown_timeout_seconds=max(1, int(min(group.timeout, 30))),
        )
    except Exception as exc:  # the coordinator is unreachable, or the group never formed
        from ..errors import RunError

        raise RunError(f"process {group.process_id} of {group.num_processes}: could not join the group at {group.coordinator} "
                       f"within {group.timeout:g} s ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})") from None
    finally:
        done.set()
    from .quiet import stderr_silenced

    with stderr_silenced(), stderr_silenced(sys.stdout):  # the collectives library greets on its first use
        any_process(False)
    import keras

    if seed is None:
        # every process must initialise the weights and shuffle the rows alike: agree on one seed
        from keras.src.backend.jax.distribution_lib import initialize_rng
        from keras.src.utils.rng_utils import get_random_seed

        initialize_rng()
        seed = int(get_random_seed())
    keras.distribution.set_distribution(keras.distribution.DataParallel(auto_shard_dataset=False))
    return seed


def local_data_parallel() -> None:
    """``distribute mirrored`` on JAX: the batch split across this machine's devices."""
    import jax
    import keras

    devices = [f"{d.platform}:{d.id}" for d in jax.local_devices()]
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False))


def any_process(flag: bool) -> bool:
    """Whether ``flag`` is true on any process of the group (a collective: all must call it)."""
    import numpy as np
    from jax.experimental import multihost_utils

    return bool(np.asarray(multihost_utils.process_allgather(np.array([int(flag)], dtype=np.int32))).any())


class Watchdog:
    """Ends the process with a clear error when a collective phase makes no progress for ``timeout`` s."""

    def __init__(self, group: Group) -> None:
        self.group = group
        self.what = None
        self.last = time.monotonic()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="nndsl-watchdog", daemon=True)
        self.thread.start()

    def beat(self) -> None:
        self.last = time.monotonic()

    @contextlib.contextmanager
    def watching(self, what: str):
        self.what, self.last = what, time.monotonic()
        try:
            yield
        finally:
            self.what = None

    def _watch(self) -> None:
        while not self.stopped.wait(min(1.0, self.group.timeout / 4)):
            if self.what is not None and time.monotonic() - self.last > self.group.timeout:
                g = self.group
                _die(f"process {g.process_id} of {g.num_processes}: no progress in {self.what} for {g.timeout:g} s; "
                     "another process of the group stopped or cannot be reached (see its output); nothing more was written")

    def callback(self):
        import keras

        dog = self

        class Heartbeat(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                dog.beat()

            def on_test_batch_end(self, batch, logs=None):
                dog.beat()

            def on_epoch_end(self, epoch, logs=None):
                dog.beat()

        return Heartbeat()

    def close(self) -> None:
        self.stopped.set()


# Words in the errors of a collective whose peer went away (raised as JaxRuntimeError,
# XlaRuntimeError or ValueError, depending on the operation).
_LOST = ("gloo", "connection reset", "connection refused", "connection closed", "heartbeat", "deadline_exceeded",
         "barrier timed out", "socket closed", "broken pipe", "coordination service")


def lost_peer(exc: BaseException) -> bool:
    """Whether ``exc`` is a collective operation failing because another process went away."""
    text = str(exc).lower()
    return any(word in text for word in _LOST)


def die_lost(group: Group, what: str, exc: BaseException) -> None:
    """End this process with a clear message after a peer went away. The runtime's own shutdown
    would wait for the missing process and then abort, so the process ends here, at once."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    _die(f"process {group.process_id} of {group.num_processes}: another process of the group stopped or cannot be reached "
         f"during {what}; stopping too, nothing more was written\n  reason: {first[:300]}")


def local_copy(model):
    """``model`` with its weights on this process alone, for work that is not shared (predict)."""
    import keras

    current = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
    finally:
        keras.distribution.set_distribution(current)
    return copy
