"""The runner's tuning constants, in one place: ``nndsl run`` uses them, and ``nndsl export``
writes the same values into its scripts, so both train and predict the same way.

Nothing here imports anything: the exporter reads these without TensorFlow.
"""

from __future__ import annotations

BATCH_SIZE = 32  # rows per step when a step gives no batch_size (Keras's own default)
MIN_VALIDATION_BATCH = 1024  # validation batches are at least this large: no gradients, so bigger is faster

PREDICT_BATCH = 4096  # large batches: Keras's default of 32 is many times slower for inference
SMALL_INPUT = 64  # below this many rows, one predict_on_batch call beats predict()'s set-up

# Unless a model sets steps_per_execution, a whole small epoch (up to this many batches) runs
# per compiled call: measured about 3x faster per epoch than one batch per call on the sales model.
MAX_STEPS_PER_EXECUTION = 128

# In-memory data sets up to this many bytes are shuffled row by row in a tf.data buffer (the
# fastest per epoch); larger ones are shuffled by index, so training holds the data only once.
ROW_SHUFFLE_LIMIT = 16 * 2**20

STREAM_SHUFFLE_BUFFER = 1024  # a folder stream of unknown length is shuffled in a buffer of this many items

# The attributes of Keras callbacks that hold a file or folder: relative paths in them are
# relative to the .nn file's folder.
CALLBACK_PATH_ATTRIBUTES = ("filepath", "filename", "log_dir", "backup_dir")


def batch_size_of(options: dict) -> int:
    """The rows of each batch a training step's ``options`` ask for."""
    return options.get("batch_size") or BATCH_SIZE
