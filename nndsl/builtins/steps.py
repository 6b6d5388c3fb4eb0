"""Built-in steps: train, test (evaluate), save, load, predict, summary, plot, tune. Specs only; code in nndsl.run."""

from __future__ import annotations

from ..plugins.spec import FORBIDDEN, OPTIONAL, REQUIRED, StepSpec, param

TRAIN = StepSpec(
    name="train",
    doc="Fit the model on a data source (Keras `model.fit`).",
    impl="nndsl.run.steps:train",
    on=REQUIRED,
    trains=True,
    params=(
        param("epochs", "positive_int", 1, "Number of passes over the data."),
        param("batch_size", "positive_int", 32, "Rows per gradient step."),
        param("validation_split", "fraction", 0.0, "Fraction of the training rows held out for validation."),
        param("validation_data", "data", None, "A data source to validate on after each epoch."),
        param("shuffle", "bool", True, "Shuffle the rows before each epoch."),
        param("class_weight", "dict", None, "Weight of each class index in the loss, e.g. {0: 1.0, 1: 5.0}."),
        param("initial_epoch", "int", 0, "Epoch at which to start (for resuming)."),
        param("steps_per_epoch", "positive_int", None, "Batches per epoch (default: all)."),
        param("validation_steps", "positive_int", None, "Validation batches per epoch."),
        param("validation_batch_size", "positive_int", None, "Rows per validation batch."),
        param("validation_freq", "positive_int", 1, "Validate every N epochs."),
        param("callbacks", "callbacks", None, "Keras callbacks, e.g. [EarlyStopping(patience=3)]."),
        param("cache", "bool", True, "Cache streamed (folder) sources in memory after the first epoch."),
        param("prefetch", "bool", True, "Prepare the next batches while the current one trains."),
        param("progress", "progress", None, "Progress display: rich, plain, json or none."),
    ),
)

TEST = StepSpec(
    name="test",
    doc="Evaluate the model on a data source (Keras `model.evaluate`); prints a metrics table, a per-class table "
        "for a classifier, MAE, RMSE and R² for a regression.",
    impl="nndsl.reports.steps:test",
    on=REQUIRED,
    needs_weights=True,
    params=(
        param("batch_size", "positive_int", None, "Rows per batch."),
        param("steps", "positive_int", None, "Batches to evaluate (default: all)."),
        param("report", "bool", False, "Also draw the evaluation pictures into FILE.report/ (confusion matrix, ROC, "
              "precision-recall, calibration; or predicted vs actual and residuals). Needs nndsl[reports]."),
    ),
)

EVALUATE = StepSpec(
    name="evaluate",
    doc="Alias of test.",
    impl=TEST.impl,
    on=REQUIRED,
    needs_weights=True,
    params=TEST.params,
)

SAVE = StepSpec(
    name="save",
    doc="Write the model to a file: .keras (default), .h5 (legacy), or a serving export with format=export.",
    impl="nndsl.run.steps:save",
    to=REQUIRED,
    needs_weights=True,
    params=(param("format", "save_format", None, "keras, h5 or export (default: from the file extension)."),),
)

LOAD = StepSpec(
    name="load",
    doc="Define a model from a saved .keras or .h5 file (Keras safe mode always on).",
    impl="nndsl.run.steps:load",
    target="new_model",
    from_=REQUIRED,
)

PREDICT = StepSpec(
    name="predict",
    doc="Predict on a data source; write CSV or NPY, or print a table of the first rows.",
    impl="nndsl.run.steps:predict",
    on=REQUIRED,
    to=OPTIONAL,
    needs_weights=True,
    params=(
        param("batch_size", "positive_int", None, "Rows per batch (default: large batches for speed)."),
        param("keep", "str_list", None, "Input columns to copy into the output CSV, e.g. keep=[\"id\"]."),
        param("rows", "positive_int", 10, "Rows to print when there is no 'to' file."),
        param("column", "str", None, "Name of the prediction column (default: the training target's name)."),
        param("probabilities", "bool", False, "For a classifier: a column per class with its probability, after the class."),
    ),
)

SUMMARY = StepSpec(
    name="summary",
    doc="Print the model's layers, output shapes and parameter counts.",
    impl="nndsl.run.steps:summary",
    on=FORBIDDEN,
)

PLOT = StepSpec(
    name="plot",
    doc="Draw the model's training curves so far in this run (loss first, validation dashed) as a PNG, SVG or PDF; "
        "after tune, also the search's history and parameter importance beside them.",
    impl="nndsl.plots:plot_step",
    to=REQUIRED,
    needs_weights=True,
    params=(
        param("metrics", "str_list", None, "Metrics to draw, e.g. [loss, mae] (default: every one, loss first)."),
        param("title", "str", None, "Title of the figure (default: the model's name)."),
        param("width", "positive_int", None, "Width in pixels (default: 480 per panel, up to three panels a row)."),
        param("height", "positive_int", None, "Height in pixels (default: 340 per row of panels, plus the title)."),
    ),
)

TUNE = StepSpec(
    name="tune",
    doc="Search the program's search spaces (choice, uniform, loguniform, integer) with Optuna, then train the best model.",
    impl="nndsl.run.tune:tune",
    on=REQUIRED,
    trains=True,
    params=TRAIN.params + (
        param("trials", "positive_int", 20, "Trials in the whole search (every process together)."),
        param("objective", "str", None, "The logged metric to optimise (default: val_loss with validation data, else loss)."),
        param("direction", "direction", "minimize", "minimize or maximize the objective."),
        param("timeout", "positive_number", None, "Seconds this process searches at most."),
        param("sampler", "sampler", "tpe", "tpe, random, or grid (when every space is a choice or an integer range)."),
        param("pruner", "pruner", "median", "Stop bad trials between epochs: median, hyperband or none.", nullable=True),
    ),
)
