"""The input pipelines training uses: in-memory arrays as a shuffled, batched, prefetched tf.data
pipeline, and Keras-streamed folder sources.

Small data sets (up to ``ROW_SHUFFLE_LIMIT`` bytes) are shuffled row by row in a tf.data
shuffle buffer: measured the fastest per epoch (about 22 ms against 60 ms for the sales model),
at the price of extra in-memory copies. Larger ones are batched straight from the NumPy arrays
in a new seeded order each epoch, so training holds the data once and nothing more.
"""

from __future__ import annotations

import math

from .defaults import ROW_SHUFFLE_LIMIT, STREAM_SHUFFLE_BUFFER


def split_validation(x, y, fraction: float):
    """The last ``fraction`` of the rows, before any shuffling — exactly as Keras's ``validation_split``."""
    n = len(x)
    at = int(math.floor(n * (1.0 - fraction)))
    return (x[:at], y[:at]), (x[at:], y[at:])


def array_dataset(x, y, *, batch_size: int, shuffle: bool, seed: int | None, prefetch: bool = True):
    import tensorflow as tf

    n = len(x)
    if shuffle and x.nbytes + y.nbytes > ROW_SHUFFLE_LIMIT:
        ds = _large_shuffled(x, y, batch_size=batch_size, seed=seed)
    else:
        data = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle:
            data = data.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        ds = data.batch(batch_size)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    return ds


def _large_shuffled(x, y, *, batch_size: int, seed: int | None):
    """Batches gathered straight from the NumPy arrays, in a new seeded order each epoch.

    Converting a large array to a tensor costs about twice its size in memory here, and a
    tf.data shuffle buffer of single rows or indices costs far more; a generator that indexes
    the arrays holds nothing but one permutation (8 bytes a row) and the batch in flight.
    """
    import numpy as np
    import tensorflow as tf

    n = len(x)
    rng = np.random.default_rng(seed)
    steps = -(-n // batch_size)

    def batches():
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            index = np.sort(order[start : start + batch_size])  # sorted: faster gathers, same batch
            yield x[index], y[index]

    signature = (
        tf.TensorSpec(shape=(None, *x.shape[1:]), dtype=tf.as_dtype(x.dtype)),
        tf.TensorSpec(shape=(None, *y.shape[1:]), dtype=tf.as_dtype(y.dtype)),
    )
    ds = tf.data.Dataset.from_generator(batches, output_signature=signature)
    return ds.apply(tf.data.experimental.assert_cardinality(steps))


def array_batches(x, y, *, batch_size: int, shuffle: bool, seed: int | None, process_id: int = 0, num_processes: int = 1,
                  drop_remainder: bool = False):
    """Batches from NumPy arrays for any backend: a ``keras.utils.PyDataset`` (no tf.data)."""
    import keras
    import numpy as np

    class ArrayBatches(keras.utils.PyDataset):
        """Global batches of ``batch_size`` rows, in a new seeded order each epoch; with several
        processes, each serves its own equal slice of every global batch, so the group trains
        on exactly the batches a single process would, and every process runs the same number
        of steps (``drop_remainder``: the rows of a last, incomplete global batch are left out)."""

        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.local = batch_size // num_processes
            self.steps = len(x) // batch_size if drop_remainder else -(-len(x) // batch_size)
            self.order = None

        def __len__(self) -> int:
            return self.steps

        def __getitem__(self, index: int):
            if self.order is None:
                self.order = (np.random.default_rng(None if seed is None else (seed, self.epoch)).permutation(len(x))
                              if shuffle else np.arange(len(x)))
            rows = self.order[index * batch_size : (index + 1) * batch_size]
            if num_processes > 1:
                rows = rows[process_id * self.local : (process_id + 1) * self.local]
            rows = np.sort(rows)  # sorted: faster gathers; the batch's rows are the same
            return x[rows], y[rows]

        def on_epoch_end(self) -> None:
            self.epoch += 1
            self.order = None

    return ArrayBatches()


def stream_dataset(ds, *, batch_size: int, shuffle: bool, seed: int | None, cache: bool = True, prefetch: bool = True):
    import tensorflow as tf

    if cache:
        ds = ds.cache()
    if shuffle:
        # Folder sources list their files class by class: shuffle before each epoch.
        count = int(ds.cardinality())
        ds = ds.shuffle(count if count > 0 else STREAM_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    return ds


def table_stream_dataset(table, *, batch_size: int, shuffle: bool, seed: int | None, prefetch: bool = True,
                         target=None, with_targets: bool = True):
    """A streamed table's batches (:mod:`nndsl.data.stream`) as tf.data, read again each epoch.

    The parts come in a new seeded order each epoch and the rows are shuffled within a buffer;
    unshuffled, the batches are those of the table read whole. ``target`` maps each batch's
    targets (the fitted target scaling). Returns ``(dataset, failures)``: a located error raised
    while reading (a bad cell, a category the model refuses) ends the data early and is put in
    ``failures``, for the step to raise in place of TensorFlow's wrapped one.
    """
    import numpy as np
    import tensorflow as tf

    from ..data.stream import batches, buffer_rows

    schema = table.schema
    epochs = [0]
    failures: list = []
    target_width = (len(schema.classes) if schema.targets[0].one_hot else 1) if schema.classes else len(schema.targets)
    with_targets = with_targets and bool(schema.targets)

    def generate():
        epoch = epochs[0]
        epochs[0] += 1
        rng = np.random.default_rng(None if seed is None else (seed, epoch)) if shuffle else None
        order = rng.permutation(len(table.parts.files)) if rng is not None else None
        try:
            chunks = ((x, y) for x, y, _ in table.arrays(order=order, with_targets=with_targets))
            for x, y in batches(chunks, batch_size=batch_size, rng=rng, buffer_rows=buffer_rows(schema.width, batch_size)):
                if not with_targets:
                    yield x
                    continue
                yield x, (target(y) if target is not None else y).astype(np.float32)
        except Exception as exc:  # noqa: BLE001 - raised by the step, unwrapped (see above)
            failures.append(exc)

    x_spec = tf.TensorSpec(shape=(None, schema.width), dtype=tf.float32)
    signature = (x_spec, tf.TensorSpec(shape=(None, target_width), dtype=tf.float32)) if with_targets else x_spec
    data = tf.data.Dataset.from_generator(generate, output_signature=signature)
    data = data.apply(tf.data.experimental.assert_cardinality(-(-table.rows // batch_size)))
    if prefetch:
        data = data.prefetch(tf.data.AUTOTUNE)
    return data, failures
