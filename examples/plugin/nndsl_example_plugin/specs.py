"""What the plugin registers: specs nndsl checks programs against without importing Keras."""

from nndsl.plugins.spec import OPTIONAL, REQUIRED, DataSourceSpec, LayerSpec, StepSpec, param


def _same_shape(args, input_shape):
    return input_shape


def _one_weight(args, input_shape, output_shape):
    return 1


SCALE = LayerSpec(
    name="Scale",
    doc="Multiplies its input by a learned scalar that starts at `factor`.",
    impl="nndsl_example_plugin.layers:Scale",
    params=(param("factor", "number", 1.0, "Initial value of the scalar."),
            param("name", "str", None, "The layer's name.")),
    infer_shape=_same_shape,
    count_params=_one_weight,
)

BENT_IDENTITY = LayerSpec(
    name="bent_identity",
    doc="bent_identity(x) = (sqrt(x^2 + 1) - 1) / 2 + x, a smooth, unbounded activation.",
    impl="nndsl_example_plugin.activations:bent_identity",
    kind="function",
)

RAMP = DataSourceSpec(
    name="ramp",
    doc="Synthetic regression rows: y = sum of the features plus noise.",
    impl="nndsl_example_plugin.data:ramp",
    params=(
        param("rows", "positive_int", 256, "How many rows."),
        param("features", "positive_int", 3, "How many feature columns."),
        param("noise", "number", 0.05, "Standard deviation of the noise."),
        param("seed", "int", 0, "Random seed."),
    ),
)

HISTOGRAM = StepSpec(
    name="histogram",
    doc="Print a text histogram of a model's predictions on a data source.",
    impl="nndsl_example_plugin.steps:histogram",
    on=REQUIRED,
    to=OPTIONAL,
    needs_weights=True,
    params=(param("bins", "positive_int", 10, "Number of bins."),),
)
