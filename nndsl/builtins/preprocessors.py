"""Built-in preprocessing: ``scale_features`` / ``scale_target`` methods, fitted on the training data."""

from ..plugins.spec import PreprocessorSpec

MINMAX = PreprocessorSpec(
    name="minmax",
    doc="Scale each column to [0, 1] with the training data's minimum and maximum (Normalization with mean=min, variance=range^2).",
    impl="nndsl.run.preprocess:fit_minmax",
)

STANDARD = PreprocessorSpec(
    name="standard",
    doc="Scale each column to mean 0 and variance 1 with the training data's statistics (Keras Normalization).",
    impl="nndsl.run.preprocess:fit_standard",
)
