"""The plugin's Keras layer: a real, serializable Layer subclass."""

import keras


@keras.saving.register_keras_serializable(package="nndsl_example")
class Scale(keras.layers.Layer):
    """Multiplies its input by one learned scalar."""

    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = float(factor)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.factor), name="scale")

    def call(self, inputs):
        return inputs * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
