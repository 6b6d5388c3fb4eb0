"""Static shape inference: fast rule and message tests, plus parity checks against Keras itself."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndsl.semantics.shapes import RULES, ShapeError, count_params, format_shape, infer_shape
from nndsl.semantics.values import CallValue, Symbol

C = CallValue


def shape_error(layer, args, shape) -> str:
    with pytest.raises(ShapeError) as info:
        infer_shape(layer, args, shape)
    return str(info.value)


# ---------------------------------------------------------------- fast: rules


def test_format_shape_writes_python_tuples():
    assert format_shape((None, 28, 28, 1)) == "(None, 28, 28, 1)"
    assert format_shape((None,)) == "(None,)"
    assert format_shape([None, 3]) == "(None, 3)"
    assert format_shape(None) == "unknown"


def test_module_imports_no_numeric_library():
    code = (
        "import sys, nndsl.semantics.shapes\n"
        "bad = {'tensorflow', 'keras', 'numpy'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_input_layers():
    assert infer_shape("Input", {"shape": (28, 28, 1)}, None) == (None, 28, 28, 1)
    assert infer_shape("Input", {"shape": [10], "batch_size": 4}, None) == (4, 10)
    assert infer_shape("Input", {"batch_shape": (2, None, 3)}, None) == (2, None, 3)
    assert infer_shape("InputLayer", {"shape": ()}, None) == (None,)


def test_first_layer_without_input_is_unknown_unless_it_declares_input_shape():
    assert infer_shape("Dense", {"units": 3}, None) is None
    assert infer_shape("Dense", {"units": 3, "input_shape": (5,)}, None) == (None, 3)
    assert infer_shape("Dense", {"units": 3, "input_dim": 5}, None) == (None, 3)
    assert count_params("Dense", {"units": 3, "input_dim": 5}, None, (None, 3)) == 18


def test_layers_without_rules_and_untyped_arguments_are_unknown():
    assert "Lambda" not in RULES and infer_shape("Lambda", {}, (None, 3)) is None
    assert infer_shape("Dense", {"units": Symbol("many")}, (None, 3)) is None
    assert infer_shape("AveragePooling2D", {}, (None, 4, 4, 1)) is None  # pool_size is required there
    assert infer_shape("TimeDistributed", {"layer": C("MyPluginLayer", {})}, (None, 2, 3)) is None
    assert count_params("Lambda", {}, (None, 3), None) is None


def test_dense_acts_on_the_last_axis():
    assert infer_shape("Dense", {"units": 50}, (None, 784)) == (None, 50)
    assert infer_shape("Dense", {"units": 4}, (None, 7, 3, 2)) == (None, 7, 3, 4)
    assert count_params("Dense", {"units": 4}, (None, 7, 3, 2), None) == 12
    assert count_params("Dense", {"units": 4, "use_bias": False}, (None, 2), None) == 8


def test_conv_padding_strides_dilation_and_data_format():
    conv = {"filters": 8, "kernel_size": 3}
    assert infer_shape("Conv2D", conv, (None, 28, 28, 1)) == (None, 26, 26, 8)
    assert infer_shape("Conv2D", {**conv, "padding": Symbol("same"), "strides": 2}, (None, 9, 9, 1)) == (None, 5, 5, 8)
    assert infer_shape("Conv2D", {**conv, "dilation_rate": 2}, (None, 9, 9, 1)) == (None, 5, 5, 8)
    cf = {**conv, "data_format": "channels_first", "kernel_size": (2, 3), "strides": (2, 1)}
    assert infer_shape("Conv2D", cf, (None, 1, 7, 7)) == (None, 8, 3, 5)
    assert infer_shape("Conv1D", {**conv, "padding": "causal", "strides": 2}, (None, 10, 3)) == (None, 5, 8)
    assert infer_shape("Conv2D", conv, (None, None, 28, 1)) == (None, None, 26, 8)
    assert count_params("Conv2D", conv, (None, 28, 28, 1), None) == 80
    assert count_params("Conv2D", {**conv, "groups": 2}, (None, 9, 9, 4), None) == 3 * 3 * 2 * 8 + 8


def test_transposed_separable_and_depthwise_convs():
    assert infer_shape("Conv2DTranspose", {"filters": 3, "kernel_size": 2, "strides": 3}, (None, 4, 4, 2)) == (
        None, 12, 12, 3)
    same_op = {"filters": 3, "kernel_size": 4, "strides": 3, "padding": "same", "output_padding": 2}
    assert infer_shape("Conv2DTranspose", same_op, (None, 4, 4, 2)) == (None, 11, 11, 3)
    assert infer_shape("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
                       (None, 5, 2)) == (None, 10, 3)
    assert infer_shape("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}, (None, 5, 5, 3)) == (
        None, 3, 3, 6)
    assert count_params("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}, (None, 5, 5, 3), None) == 60
    assert count_params("SeparableConv1D", {"filters": 3, "kernel_size": 2, "depth_multiplier": 2},
                        (None, 9, 4), None) == 43


def test_pooling_reshaping_and_padding():
    assert infer_shape("MaxPooling2D", {}, (None, 7, 7, 3)) == (None, 3, 3, 3)
    assert infer_shape("AveragePooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, (None, 5, 2)) == (
        None, 5, 2)
    assert infer_shape("GlobalAveragePooling2D", {"keepdims": True, "data_format": "channels_first"},
                       (None, 3, 6, 6)) == (None, 3, 1, 1)
    assert infer_shape("Flatten", {}, (None, 3, 4)) == (None, 12)
    assert infer_shape("Flatten", {}, (None, None, 4)) == (None, None)
    assert infer_shape("Reshape", {"target_shape": (-1, 2)}, (None, 3, 4)) == (None, 6, 2)
    assert infer_shape("Reshape", {"target_shape": (-1, 2)}, (None, None, 4)) == (None, None, 2)
    assert infer_shape("Permute", {"dims": (2, 1)}, (None, 3, 4)) == (None, 4, 3)
    assert infer_shape("RepeatVector", {"n": 3}, (None, 4)) == (None, 3, 4)
    assert infer_shape("ZeroPadding2D", {"padding": ((1, 2), (3, 4))}, (None, 4, 5, 2)) == (None, 7, 12, 2)
    assert infer_shape("Cropping2D", {"cropping": 1}, (None, 4, 5, 2)) == (None, 2, 3, 2)
    assert infer_shape("UpSampling2D", {"size": (2, 3)}, (None, 4, None, 2)) == (None, 8, None, 2)


def test_recurrent_layers_and_wrappers():
    assert infer_shape("LSTM", {"units": 64}, (None, 10, 8)) == (None, 64)
    assert infer_shape("GRU", {"units": 4, "return_sequences": True}, (None, None, 8)) == (None, None, 4)
    assert count_params("LSTM", {"units": 4}, (None, 5, 3), None) == 128
    assert count_params("GRU", {"units": 4}, (None, 5, 3), None) == 108
    assert count_params("GRU", {"units": 3, "reset_after": False}, (None, 5, 4), None) == 72
    lstm = C("LSTM", {"units": 4, "return_sequences": True})
    assert infer_shape("Bidirectional", {"layer": lstm}, (None, 5, 3)) == (None, 5, 8)
    assert infer_shape("Bidirectional", {"layer": lstm, "merge_mode": "sum"}, (None, 5, 3)) == (None, 5, 4)
    assert count_params("Bidirectional", {"layer": lstm}, (None, 5, 3), None) == 256
    bigger = C("LSTM", {"units": 6, "go_backwards": True, "return_sequences": True})
    assert infer_shape("Bidirectional", {"layer": lstm, "backward_layer": bigger}, (None, 5, 3)) == (None, 5, 10)
    td = {"layer": C("Conv2D", {"filters": 3, "kernel_size": 3})}
    assert infer_shape("TimeDistributed", td, (None, 5, 8, 8, 3)) == (None, 5, 6, 6, 3)
    assert count_params("TimeDistributed", td, (None, 5, 8, 8, 3), None) == 84
    assert infer_shape("ConvLSTM2D", {"filters": 4, "kernel_size": 3}, (None, 3, 8, 8, 2)) == (None, 6, 6, 4)
    assert count_params("ConvLSTM2D", {"filters": 4, "kernel_size": 3}, (None, 3, 8, 8, 2), None) == 880


def test_embedding_normalization_and_preprocessing():
    assert infer_shape("Embedding", {"input_dim": 10, "output_dim": 4}, (None, 5)) == (None, 5, 4)
    assert count_params("Embedding", {"input_dim": 10, "output_dim": 4}, (None, 5), None) == 40
    assert count_params("BatchNormalization", {}, (None, 5, 3), None) == 12
    assert count_params("LayerNormalization", {"axis": [1, 2]}, (None, 5, 2), None) == 20
    assert count_params("Normalization", {}, (None, 5, 4), None) == 9
    assert count_params("Normalization", {"mean": 0.5, "variance": 2.0}, (None, 4), None) == 0
    assert infer_shape("Resizing", {"height": 3, "width": 2}, (None, 8, 8, 3)) == (None, 3, 2, 3)
    assert infer_shape("CenterCrop", {"height": 3, "width": 2, "data_format": "channels_first"},
                       (None, 3, 8, 8)) == (None, 3, 3, 2)
    assert infer_shape("RandomFlip", {}, (None, 8, 8, 3)) == (None, 8, 8, 3)
    assert count_params("Dropout", {"rate": 0.5}, (None, 4), (None, 4)) == 0


# ---------------------------------------------------------------- fast: every kind of error message


@pytest.mark.parametrize(
    "layer, args, shape, message",
    [
        # rank
        ("Conv2D", {"filters": 4, "kernel_size": 3}, (None, 9),
         "Conv2D expects 4-D input (batch, height, width, channels); received (None, 9)"),
        ("Conv1D", {"filters": 4, "kernel_size": 3, "data_format": "channels_first"}, (None, 9),
         "Conv1D expects 3-D input (batch, channels, steps); received (None, 9)"),
        ("Dense", {"units": 3}, (None,),
         "Dense expects input with at least 2 dimensions (batch, ..., features); received (None,)"),
        ("LSTM", {"units": 3}, (None, 4),
         "LSTM expects 3-D input (batch, timesteps, features); received (None, 4)"),
        ("RandomFlip", {}, (None, 28, 28),
         "RandomFlip expects 4-D input (batch, height, width, channels); received (None, 28, 28)"),
        ("TimeDistributed", {"layer": C("Dense", {"units": 3})}, (None, 5),
         "TimeDistributed expects input with at least 3 dimensions (batch, time, ...); received (None, 5)"),
        ("Permute", {"dims": (2, 1)}, (None, 3, 2, 1),
         "Permute expects 3-D input (batch, 2 more axes); received (None, 3, 2, 1)"),
        # a dimension the weights need
        ("Dense", {"units": 3}, (None, None),
         "Dense expects the last (features) dimension (axis 1) of its input to be known, "
         "because it sizes the layer's weights; received (None, None)"),
        ("ConvLSTM1D", {"filters": 3, "kernel_size": 2}, (None, 3, None, 1),
         "ConvLSTM1D expects the spatial dimension (axis 2) of its input to be known, "
         "because the recurrent state is allocated with that size; received (None, 3, None, 1)"),
        # output dimension <= 0
        ("Conv2D", {"filters": 4, "kernel_size": 3}, (None, 9, 2, 1),
         "Conv2D reduces dimension 2 of input (None, 9, 2, 1) to 0: expected at least 3 there "
         "for kernel_size 3 and padding 'valid'; received 2"),
        ("Conv1D", {"filters": 4, "kernel_size": 3, "dilation_rate": 2}, (None, 4, 1),
         "Conv1D reduces dimension 1 of input (None, 4, 1) to 0: expected at least 5 there "
         "for kernel_size 3 with dilation_rate 2 and padding 'valid'; received 4"),
        ("MaxPooling2D", {}, (None, 1, 5, 1),
         "MaxPooling2D reduces dimension 1 of input (None, 1, 5, 1) to 0: expected at least 2 there "
         "for pool_size 2 and padding 'valid'; received 1"),
        ("Cropping1D", {"cropping": 2}, (None, 4, 2),
         "Cropping1D reduces dimension 1 of input (None, 4, 2) to 0: expected at least 5 there "
         "for cropping (2, 2); received 4"),
        # reshape
        ("Reshape", {"target_shape": (3, 4)}, (None, 10),
         "Reshape cannot turn (None, 10) into target_shape (3, 4): 10 values do not fill 12"),
        ("Reshape", {"target_shape": (-1, 3)}, (None, 10),
         "Reshape cannot turn (None, 10) into target_shape (-1, 3): 10 values do not divide into parts of 3"),
        ("Reshape", {"target_shape": (-1, -1)}, (None, 10),
         "Reshape expects target_shape dimensions >= 0 with at most one -1; received (-1, -1)"),
        ("Reshape", {"target_shape": 10}, (None, 10),
         "Reshape expects target_shape to be a tuple such as (10,); received 10"),
        # recurrent layers in a Sequential model
        ("LSTM", {"units": 3, "return_state": True}, (None, 5, 2),
         "return_state=True cannot be used in a Sequential model: LSTM would return its states as extra outputs"),
        ("GRU", {"units": 3, "stateful": True}, (None, 5, 2),
         "GRU with stateful=True expects a fixed batch size (give the input a batch_size); received (None, 5, 2)"),
        ("Bidirectional", {"layer": C("LSTM", {"units": 3}), "merge_mode": None}, (None, 5, 2),
         "Bidirectional with merge_mode=None returns two outputs and cannot be used in a Sequential model; "
         "expected merge_mode 'concat', 'sum', 'mul' or 'ave'"),
        ("Bidirectional", {"layer": C("LSTM", {"units": 3, "return_state": True})}, (None, 5, 2),
         "inside Bidirectional: return_state=True cannot be used in a Sequential model: "
         "LSTM would return its states as extra outputs"),
        ("Bidirectional", {"layer": C("LSTM", {"units": 3}), "merge_mode": "max"}, (None, 5, 2),
         "Bidirectional expects merge_mode 'concat', 'sum', 'mul', 'ave' or None; received 'max'"),
        ("Bidirectional", {"layer": C("Dense", {"units": 3})}, (None, 5, 2),
         "Bidirectional expects a recurrent layer (ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, GRU, LSTM, SimpleRNN); "
         "received Dense"),
        ("Bidirectional", {"layer": C("GRU", {"units": 3}), "backward_layer": C("GRU", {"units": 3})}, (None, 5, 2),
         "Bidirectional expects backward_layer to set go_backwards opposite to layer; "
         "received go_backwards=False for both"),
        ("Bidirectional", {"layer": C("GRU", {"units": 3}),
                           "backward_layer": C("GRU", {"units": 3, "go_backwards": True, "return_sequences": True})},
         (None, 5, 2),
         "Bidirectional expects layer and backward_layer to agree on return_sequences; "
         "received return_sequences=False and return_sequences=True"),
        ("Bidirectional", {"layer": C("GRU", {"units": 3}), "merge_mode": "sum",
                           "backward_layer": C("GRU", {"units": 4, "go_backwards": True})}, (None, 5, 2),
         "Bidirectional with merge_mode='sum' expects forward and backward outputs of the same shape; "
         "received (None, 3) and (None, 4)"),
        ("TimeDistributed", {"layer": C("Conv2D", {"filters": 3, "kernel_size": 3})}, (None, 3, 2, 2, 1),
         "inside TimeDistributed (each timestep has shape (None, 2, 2, 1)): Conv2D reduces dimension 1 of input "
         "(None, 2, 2, 1) to 0: expected at least 3 there for kernel_size 3 and padding 'valid'; received 2"),
        # arguments that cannot build the layer
        ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "causal"}, (None, 9, 9, 1),
         "Conv2D expects padding 'valid' or 'same'; received 'causal'"),
        ("MaxPooling2D", {"padding": "SAME"}, (None, 9, 9, 1),
         "MaxPooling2D expects padding 'valid' or 'same'; received 'SAME'"),
        ("Conv2D", {"filters": 4, "kernel_size": 3, "data_format": "nhwc"}, (None, 9, 9, 1),
         "Conv2D expects data_format 'channels_last' or 'channels_first'; received 'nhwc'"),
        ("Conv2D", {"filters": 4, "kernel_size": (3, 3, 3)}, (None, 9, 9, 1),
         "Conv2D expects kernel_size to be an integer or a tuple of 2 integers; received (3, 3, 3)"),
        ("Conv1D", {"filters": 4, "kernel_size": 0}, (None, 9, 1),
         "Conv1D expects every kernel_size value to be >= 1; received 0"),
        ("Embedding", {"input_dim": 10, "output_dim": 0}, (None, 5),
         "Embedding expects output_dim to be an integer >= 1; received 0"),
        ("Conv1D", {"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (None, 9, 1),
         "Conv1D expects strides or dilation_rate to be 1, not both > 1; received strides=(2,) and dilation_rate=(2,)"),
        ("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 2}, (None, 9, 9, 3),
         "Conv2D expects the input channels to be a multiple of groups=2; received 3 channels in input "
         "(None, 9, 9, 3)"),
        ("Conv2D", {"filters": 3, "kernel_size": 3, "groups": 2}, (None, 9, 9, 4),
         "Conv2D expects filters to be a multiple of groups=2; received filters=3"),
        ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "output_padding": 1}, (None, 5, 2),
         "Conv1DTranspose expects each output_padding value to be less than strides; "
         "received output_padding=(1,) and strides=(1,)"),
        ("ZeroPadding2D", {"padding": (1, 2, 3)}, (None, 5, 5, 1),
         "ZeroPadding2D expects padding to be an integer or a tuple of 2 entries; received (1, 2, 3)"),
        ("Cropping2D", {"cropping": ((1, 2, 3), 1)}, (None, 5, 5, 1),
         "Cropping2D expects each entry of cropping to be an integer or a (before, after) pair; "
         "received ((1, 2, 3), 1)"),
        ("Permute", {"dims": (0, 1)}, (None, 3, 2),
         "Permute expects dims to be a permutation of 1..2 (the batch axis 0 stays); received (0, 1)"),
        ("GroupNormalization", {}, (None, 4),
         "GroupNormalization expects the grouped axis to hold a multiple of groups=32 channels; "
         "received 4 channels in input (None, 4)"),
        ("BatchNormalization", {"axis": 3}, (None, 3, 2),
         "BatchNormalization expects axis in the range [-3, 3) for 3-D input; received axis=3 and input (None, 3, 2)"),
        ("PReLU", {"shared_axes": [3]}, (None, 3, 2),
         "PReLU expects shared_axes between 1 and 2 for 3-D input; received shared_axes=(3,) and input (None, 3, 2)"),
        # Input
        ("Input", {"shape": (3,), "batch_shape": (None, 3)}, None,
         "Input expects shape or batch_shape, not both; received shape=(3,) and batch_shape=(None, 3)"),
        ("Input", {"shape": 784}, None, "Input expects shape to be a tuple such as (784,); received 784"),
        ("Input", {}, None, "Input expects a shape such as shape=(28, 28, 1); received neither shape nor batch_shape"),
        ("Input", {"shape": (3,)}, (None, 3),
         "Input must be the first layer of the model; received input (None, 3) from the layer before it"),
    ],
)
def test_error_messages(layer, args, shape, message):
    assert shape_error(layer, args, shape) == message


# ---------------------------------------------------------------- Keras parity

P = pytest.param
CF = "channels_first"
LSTM_SEQ = C("LSTM", {"units": 4, "return_sequences": True})

# (layer, args, input shape). Every rule appears several times with different arguments.
PARITY_CASES = [
    ("Dense", {"units": 3}, (None, 5)),
    ("Dense", {"units": 3, "use_bias": False}, (None, 4, 5)),
    ("Dense", {"units": 1}, (4, 2, 3, 5)),
    ("Activation", {"activation": "relu"}, (None, 5)),
    ("ReLU", {"max_value": 6.0}, (None, 3, 4)),
    ("LeakyReLU", {"negative_slope": 0.2}, (None, 3)),
    ("PReLU", {}, (None, 3, 4)),
    ("PReLU", {"shared_axes": [1, 2]}, (None, 4, 4, 3)),
    ("PReLU", {"shared_axes": 1}, (None, None, 3)),
    ("ELU", {}, (None, 3)),
    ("Softmax", {"axis": 1}, (None, 3, 4)),
    ("Dropout", {"rate": 0.5}, (None, 5)),
    ("SpatialDropout1D", {"rate": 0.1}, (None, 5, 3)),
    ("SpatialDropout2D", {"rate": 0.1, "data_format": CF}, (None, 3, 4, 4)),
    ("SpatialDropout3D", {"rate": 0.1}, (None, 2, 2, 2, 3)),
    ("GaussianNoise", {"stddev": 0.1}, (None, 4)),
    ("GaussianDropout", {"rate": 0.1}, (None, 4, 2)),
    ("AlphaDropout", {"rate": 0.1}, (None, 4)),
    ("ActivityRegularization", {"l1": 0.01}, (None, 4)),
    ("BatchNormalization", {}, (None, 5, 3)),
    ("BatchNormalization", {"axis": 1}, (None, 3, 4, 4)),
    ("BatchNormalization", {"center": False, "scale": False}, (None, 6)),
    ("BatchNormalization", {"renorm": True}, (None, 6)),
    ("LayerNormalization", {}, (None, 5, 3)),
    ("LayerNormalization", {"axis": [1, 2]}, (None, 5, 2)),
    ("LayerNormalization", {"center": False}, (None, 5)),
    ("GroupNormalization", {"groups": 2}, (None, 4)),
    ("GroupNormalization", {"groups": -1}, (None, 3, 6)),
    ("GroupNormalization", {"groups": 3, "axis": 1}, (None, 6, 4, 4)),
    ("UnitNormalization", {}, (None, 4)),
    ("UnitNormalization", {"axis": [1, 2]}, (None, 3, 4)),
    ("Flatten", {}, (None, 3, 4)),
    ("Flatten", {}, (None, 5)),
    ("Flatten", {"data_format": CF}, (None, 2, 3, 4)),
    ("Flatten", {}, (None, None, 3)),
    ("Reshape", {"target_shape": (3, 4)}, (None, 12)),
    ("Reshape", {"target_shape": (-1, 2)}, (None, 3, 4)),
    ("Reshape", {"target_shape": (2, -1, 3)}, (None, None, 6)),
    ("Reshape", {"target_shape": [6]}, (None, 2, 3)),
    ("Permute", {"dims": (2, 1)}, (None, 3, 4)),
    ("Permute", {"dims": (3, 1, 2)}, (None, 2, 3, 4)),
    ("RepeatVector", {"n": 3}, (None, 4)),
    ("Conv1D", {"filters": 4, "kernel_size": 3}, (None, 10, 2)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal", "strides": 2}, (None, 10, 2)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "same", "dilation_rate": 2}, (None, 10, 2)),
    ("Conv1D", {"filters": 4, "kernel_size": 2, "strides": 3, "data_format": CF}, (None, 2, 10)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "groups": 2}, (None, 10, 4)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 3}, (None, None, 2)),
    ("Conv2D", {"filters": 4, "kernel_size": 3}, (None, 9, 9, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same", "strides": 2}, (None, 9, 9, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": (2, 3), "strides": (2, 1), "data_format": CF}, (None, 2, 7, 7)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "dilation_rate": (2, 1), "use_bias": False}, (None, 9, 9, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "SAME"}, (None, None, None, 3)),
    ("Conv3D", {"filters": 2, "kernel_size": 2}, (None, 5, 6, 7, 2)),
    ("Conv3D", {"filters": 2, "kernel_size": 3, "padding": "same", "strides": (1, 2, 3)}, (None, 5, 6, 7, 2)),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "dilation_rate": (1, 2, 3), "data_format": CF}, (None, 2, 7, 7, 7)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3}, (None, 5, 2)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (None, 5, 2)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "output_padding": 1}, (None, 5, 2)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 2, "strides": 3, "data_format": CF}, (None, 2, 5)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 4, "strides": 3, "padding": "same", "output_padding": 2},
     (None, 4, 4, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "dilation_rate": 2}, (None, 5, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (None, 5, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 2, "strides": (2, 3), "data_format": CF}, (None, 2, 4, None)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 2}, (None, 3, 3, 3, 1)),
    ("Conv3DTranspose", {"filters": 3, "kernel_size": (2, 3, 4), "strides": (1, 2, 3), "data_format": CF},
     (None, 2, 4, 4, 4)),
    ("SeparableConv1D", {"filters": 3, "kernel_size": 2}, (None, 9, 4)),
    ("SeparableConv1D", {"filters": 3, "kernel_size": 3, "depth_multiplier": 2, "padding": "same", "strides": 2},
     (None, 9, 4)),
    ("SeparableConv1D", {"filters": 3, "kernel_size": 3, "data_format": CF}, (None, 4, 9)),
    ("SeparableConv2D", {"filters": 3, "kernel_size": 3}, (None, 8, 8, 2)),
    ("SeparableConv2D", {"filters": 3, "kernel_size": 3, "dilation_rate": 2}, (None, 8, 8, 2)),
    ("SeparableConv2D", {"filters": 3, "kernel_size": 2, "strides": 2, "use_bias": False, "data_format": CF},
     (None, 2, 8, 8)),
    ("DepthwiseConv1D", {"kernel_size": 3}, (None, 9, 4)),
    ("DepthwiseConv1D", {"kernel_size": 2, "depth_multiplier": 2, "padding": "same", "strides": 2}, (None, 9, 4)),
    ("DepthwiseConv1D", {"kernel_size": 3, "data_format": CF}, (None, 4, 9)),
    ("DepthwiseConv2D", {"kernel_size": 3}, (None, 8, 8, 2)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 3, "data_format": CF}, (None, 2, 8, 8)),
    ("DepthwiseConv2D", {"kernel_size": 2, "dilation_rate": 2, "padding": "same"}, (None, 8, 8, 2)),
    ("MaxPooling1D", {}, (None, 10, 3)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, (None, 10, 3)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 2, "data_format": CF}, (None, 3, 10)),
    ("MaxPooling2D", {}, (None, 7, 7, 3)),
    ("MaxPooling2D", {"pool_size": (3, 2), "strides": (1, 2), "padding": "same"}, (None, 7, None, 3)),
    ("MaxPooling2D", {"pool_size": 2, "data_format": CF}, (None, 3, 7, 7)),
    ("MaxPooling3D", {}, (None, 4, 5, 6, 2)),
    ("MaxPooling3D", {"pool_size": (1, 2, 2), "strides": (1, 1, 2), "data_format": CF}, (None, 2, 4, 5, 6)),
    ("AveragePooling1D", {"pool_size": 4}, (None, 9, 3)),
    ("AveragePooling1D", {"pool_size": 3, "padding": "same"}, (None, 10, 3)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2}, (None, 8, 8, 3)),
    ("AveragePooling2D", {"pool_size": 2, "padding": "same", "data_format": CF}, (None, 3, 7, 5)),
    ("AveragePooling3D", {"pool_size": (2, 2, 3), "padding": "same"}, (None, 5, 7, 7, 2)),
    ("AveragePooling3D", {"pool_size": 2, "strides": 1, "data_format": CF}, (None, 2, 4, 5, 6)),
    ("GlobalMaxPooling1D", {}, (None, 5, 3)),
    ("GlobalMaxPooling1D", {"data_format": CF, "keepdims": True}, (None, 3, 4)),
    ("GlobalMaxPooling2D", {"keepdims": True}, (None, 5, 5, 3)),
    ("GlobalMaxPooling3D", {"data_format": CF}, (None, 3, 2, 2, 2)),
    ("GlobalAveragePooling1D", {"keepdims": True}, (None, 5, 3)),
    ("GlobalAveragePooling2D", {}, (None, 5, 5, 3)),
    ("GlobalAveragePooling2D", {"data_format": CF, "keepdims": True}, (None, 3, 6, 6)),
    ("GlobalAveragePooling3D", {"keepdims": True}, (None, 2, 2, 2, 3)),
    ("UpSampling1D", {}, (None, 4, 5)),
    ("UpSampling1D", {"size": 3}, (None, None, 5)),
    ("UpSampling2D", {}, (None, 4, 5, 2)),
    ("UpSampling2D", {"size": (2, 3), "data_format": CF, "interpolation": "bilinear"}, (None, 2, 4, 5)),
    ("UpSampling3D", {}, (None, 2, 3, 4, 1)),
    ("UpSampling3D", {"size": (1, 2, 3), "data_format": CF}, (None, 2, 3, 4, 5)),
    ("ZeroPadding1D", {}, (None, 4, 3)),
    ("ZeroPadding1D", {"padding": (1, 2)}, (None, 4, 3)),
    ("ZeroPadding1D", {"padding": 2, "data_format": CF}, (None, 3, 4)),
    ("ZeroPadding2D", {}, (None, 4, 5, 2)),
    ("ZeroPadding2D", {"padding": ((1, 2), (3, 4))}, (None, 4, 5, 2)),
    ("ZeroPadding2D", {"padding": (1, 2), "data_format": CF}, (None, 2, 4, 5)),
    ("ZeroPadding3D", {}, (None, 2, 3, 4, 1)),
    ("ZeroPadding3D", {"padding": ((1, 0), 2, (0, 3)), "data_format": CF}, (None, 2, 3, 4, 5)),
    ("Cropping1D", {}, (None, 5, 2)),
    ("Cropping1D", {"cropping": (1, 2)}, (None, 5, 2)),
    ("Cropping1D", {"cropping": 2}, (None, None, 2)),
    ("Cropping2D", {}, (None, 4, 5, 2)),
    ("Cropping2D", {"cropping": ((1, 2), (0, 1))}, (None, 4, 5, 2)),
    ("Cropping2D", {"cropping": 1, "data_format": CF}, (None, 2, 4, 5)),
    ("Cropping2D", {"cropping": (1, 0)}, (None, 4, 5, 2)),
    ("Cropping3D", {}, (None, 4, 5, 6, 1)),
    ("Cropping3D", {"cropping": ((1, 0), (0, 1), 1), "data_format": CF}, (None, 1, 4, 5, 6)),
    ("Embedding", {"input_dim": 10, "output_dim": 4}, (None, 5)),
    ("Embedding", {"input_dim": 10, "output_dim": 4}, (None,)),
    ("Embedding", {"input_dim": 10, "output_dim": 4, "mask_zero": True}, (None, 5, 2)),
    ("SimpleRNN", {"units": 3}, (None, 5, 2)),
    ("SimpleRNN", {"units": 3, "return_sequences": True, "use_bias": False}, (None, None, 2)),
    ("LSTM", {"units": 3}, (None, 5, 2)),
    ("LSTM", {"units": 3, "return_sequences": True}, (None, None, 2)),
    ("LSTM", {"units": 3, "stateful": True}, (4, 5, 2)),
    ("GRU", {"units": 3}, (None, 5, 2)),
    ("GRU", {"units": 3, "reset_after": False}, (None, 5, 4)),
    ("GRU", {"units": 3, "return_sequences": True, "go_backwards": True}, (None, 5, 4)),
    ("Bidirectional", {"layer": C("LSTM", {"units": 4})}, (None, 5, 3)),
    ("Bidirectional", {"layer": C("GRU", {"units": 3, "return_sequences": True}), "merge_mode": "sum"}, (None, 5, 4)),
    ("Bidirectional", {"layer": C("SimpleRNN", {"units": 3}), "merge_mode": "ave"}, (None, 5, 4)),
    ("Bidirectional", {"layer": C("SimpleRNN", {"units": 3, "return_sequences": True}), "merge_mode": "mul"},
     (None, 3, 2)),
    ("Bidirectional", {"layer": C("GRU", {"units": 3}),
                       "backward_layer": C("GRU", {"units": 3, "go_backwards": True})}, (None, 5, 2)),
    ("Bidirectional", {"layer": C("ConvLSTM1D", {"filters": 3, "kernel_size": 2})}, (None, 3, 4, 2)),
    ("TimeDistributed", {"layer": C("Dense", {"units": 3})}, (None, 5, 3)),
    ("TimeDistributed", {"layer": C("Conv2D", {"filters": 3, "kernel_size": 3})}, (None, 5, 8, 8, 3)),
    ("TimeDistributed", {"layer": C("Flatten", {})}, (None, 5, 4, 2)),
    ("TimeDistributed", {"layer": C("LSTM", {"units": 3})}, (None, 5, 4, 2)),
    ("TimeDistributed", {"layer": C("MaxPooling2D", {"pool_size": 2})}, (None, None, 6, 6, 1)),
    ("TimeDistributed", {"layer": C("Bidirectional", {"layer": C("SimpleRNN", {"units": 3})})}, (None, 4, 3, 2)),
    ("ConvLSTM1D", {"filters": 4, "kernel_size": 3}, (None, 3, 8, 2)),
    ("ConvLSTM1D", {"filters": 4, "kernel_size": 3, "return_sequences": True, "padding": "same"}, (None, None, 8, 2)),
    ("ConvLSTM1D", {"filters": 4, "kernel_size": 2, "data_format": CF}, (None, 3, 2, 8)),
    ("ConvLSTM2D", {"filters": 4, "kernel_size": 3}, (None, 3, 8, 8, 2)),
    ("ConvLSTM2D", {"filters": 3, "kernel_size": 2, "strides": 2, "padding": "same", "return_sequences": True},
     (None, 3, 5, 5, 1)),
    ("ConvLSTM2D", {"filters": 3, "kernel_size": 2, "dilation_rate": 2, "data_format": CF}, (None, 3, 1, 6, 6)),
    ("ConvLSTM3D", {"filters": 3, "kernel_size": 2}, (None, 3, 4, 4, 4, 1)),
    ("ConvLSTM3D", {"filters": 4, "kernel_size": 3, "data_format": CF, "use_bias": False}, (None, 3, 2, 8, 8, 8)),
    ("Masking", {"mask_value": 0.0}, (None, 5, 3)),
    ("Rescaling", {"scale": 1 / 255}, (None, 4, 4, 3)),
    ("Rescaling", {"scale": 2.0, "offset": -1.0}, (None, 3)),
    ("Normalization", {}, (None, 4)),
    ("Normalization", {"axis": None}, (None, 5, 4)),
    ("Normalization", {"axis": (1, 2)}, (None, 5, 4)),
    ("Normalization", {"mean": 2.0, "variance": 3.0}, (None, 5, 4)),
    ("Normalization", {"axis": 1}, (None, 3, 4)),
    ("Normalization", {}, (None, None, 3)),
    ("CenterCrop", {"height": 3, "width": 2}, (None, 4, 5, 3)),
    ("CenterCrop", {"height": 3, "width": 2, "data_format": CF}, (None, 3, 4, 5)),
    ("CenterCrop", {"height": 6, "width": 7}, (None, 4, 5, 3)),
    ("Resizing", {"height": 3, "width": 2}, (None, 4, 5, 3)),
    ("Resizing", {"height": 3, "width": 2, "data_format": CF}, (None, 3, 4, 5)),
    ("Resizing", {"height": 8, "width": 6, "crop_to_aspect_ratio": True}, (None, None, None, 3)),
    ("RandomFlip", {}, (None, 8, 8, 3)),
    ("RandomFlip", {"mode": "horizontal"}, (None, 8, 8, 1)),
    ("RandomRotation", {"factor": 0.1}, (None, 8, 8, 3)),
    ("RandomRotation", {"factor": 0.1, "data_format": CF}, (None, 3, 8, 8)),
    ("RandomZoom", {"height_factor": 0.1}, (None, 8, 8, 3)),
    ("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.1}, (None, 8, 8, 3)),
    ("RandomContrast", {"factor": 0.1}, (None, 8, 8, 3)),
    ("RandomBrightness", {"factor": 0.1}, (None, 8, 8, 3)),
    ("RandomCrop", {"height": 3, "width": 2}, (None, 4, 5, 3)),
    ("RandomCrop", {"height": 3, "width": 2, "data_format": CF}, (None, 3, 4, 5)),
    ("Identity", {}, (None, 4, 5, 3)),
    # preprocessing layers given their vocabulary or bins (without, nndsl adapts them on the training data)
    ("StringLookup", {"vocabulary": ["a", "b"]}, (None, 3)),
    ("StringLookup", {"vocabulary": ["a", "b"], "output_mode": "one_hot"}, (None,)),
    ("IntegerLookup", {"vocabulary": [1, 2, 3]}, (None, 3)),
    ("IntegerLookup", {"vocabulary": [1, 2, 3], "output_mode": "multi_hot"}, (None, 3)),
    ("Discretization", {"bin_boundaries": [0.0, 1.0]}, (None, 3)),
    ("Discretization", {"bin_boundaries": [0.0, 1.0], "output_mode": "one_hot"}, (None,)),
    ("TextVectorization", {"vocabulary": ["a", "b"], "output_sequence_length": 5}, (None,)),
    ("TextVectorization", {"vocabulary": ["a", "b"], "output_mode": "multi_hot"}, (None,)),
    ("TextVectorization", {"vocabulary": ["a", "b"], "output_mode": "tf_idf", "idf_weights": [1.0, 1.0]}, (None,)),
]

# Inputs where Keras refuses to build the layer too: the two must agree on failing.
FAILING_CASES = [
    ("Conv2D", {"filters": 4, "kernel_size": 3}, (None, 9)),
    ("Conv2D", {"filters": 4, "kernel_size": 3}, (None, 9, 9, 9, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": 5}, (None, 3, 8, 1)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "causal"}, (None, 9, 9, 1)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 2}, (None, 6, 6, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (None, 9, 4)),
    ("Conv1D", {"filters": 4, "kernel_size": 0}, (None, 9, 4)),
    ("Conv1D", {"filters": 4, "kernel_size": 2}, (None, 9, None)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "output_padding": 1}, (None, 5, 2)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "padding": "causal"}, (None, 5, 2)),
    ("SeparableConv1D", {"filters": 3, "kernel_size": 3, "padding": "causal"}, (None, 5, 2)),
    ("DepthwiseConv2D", {"kernel_size": 3}, (None, 5, 5, None)),
    ("Reshape", {"target_shape": (3, 4)}, (None, 10)),
    ("Reshape", {"target_shape": (-1, 3)}, (None, 10)),
    ("Reshape", {"target_shape": 6}, (None, 3, 2)),
    ("MaxPooling2D", {}, (None, 1, 5, 1)),
    ("MaxPooling2D", {"padding": "SAME"}, (None, 9, 9, 1)),
    ("AveragePooling1D", {"pool_size": 4}, (None, 3, 2)),
    ("Cropping2D", {"cropping": ((2, 2), (0, 0))}, (None, 4, 5, 2)),
    ("Cropping1D", {"cropping": (2, 2)}, (None, 4, 5)),
    ("Cropping3D", {}, (None, 2, 5, 5, 1)),
    ("Dense", {"units": 3}, (None, None)),
    ("Dense", {"units": 3}, (None,)),
    ("LSTM", {"units": 3}, (None, 4)),
    ("LSTM", {"units": 3}, (None, 5, None)),
    ("LSTM", {"units": 3, "stateful": True}, (None, 5, 2)),
    ("SimpleRNN", {"units": 3}, (None, 4, 2, 1)),
    ("GroupNormalization", {}, (None, 4)),
    ("GroupNormalization", {"groups": 8}, (None, 4)),
    ("GroupNormalization", {"groups": 2}, (None, 5, None)),
    ("BatchNormalization", {"axis": 3}, (None, 3, 2)),
    ("BatchNormalization", {}, (None, 5, None)),
    ("LayerNormalization", {"axis": 3}, (None, 3, 2)),
    ("UnitNormalization", {"axis": 3}, (None, 3, 2)),
    ("Normalization", {"axis": 3}, (None, 3, 2)),
    ("Normalization", {"axis": 0}, (None, 3, 2)),
    ("PReLU", {"shared_axes": [3]}, (None, 3, 2)),
    ("PReLU", {}, (None, None, 3)),
    ("Embedding", {"input_dim": 5, "output_dim": 0}, (None, 3)),
    ("Permute", {"dims": (2, 1)}, (None, 3, 2, 1)),
    ("Permute", {"dims": (0, 1)}, (None, 3, 2)),
    ("RepeatVector", {"n": 3}, (None, 4, 2)),
    ("SpatialDropout1D", {"rate": 0.1}, (None, 3, 2, 2)),
    ("GlobalMaxPooling2D", {}, (None, 3, 2)),
    ("UpSampling2D", {}, (None, 3, 2)),
    ("ZeroPadding1D", {}, (None, 3, 2, 1)),
    ("TimeDistributed", {"layer": C("Dense", {"units": 3})}, (None, 5)),
    ("TimeDistributed", {"layer": C("Conv2D", {"filters": 3, "kernel_size": 3})}, (None, 3, 2, 2, 1)),
    ("Bidirectional", {"layer": C("Dense", {"units": 3})}, (None, 5, 4)),
    ("Bidirectional", {"layer": C("GRU", {"units": 3}), "backward_layer": C("GRU", {"units": 3})}, (None, 3, 2)),
    ("Bidirectional", {"layer": C("GRU", {"units": 3}),
                       "backward_layer": C("GRU", {"units": 3, "go_backwards": True, "return_sequences": True})},
     (None, 3, 2)),
    ("Bidirectional", {"layer": C("LSTM", {"units": 3}), "merge_mode": "max"}, (None, 3, 2)),
    ("ConvLSTM1D", {"filters": 3, "kernel_size": 2}, (None, 3, None, 1)),
    ("ConvLSTM2D", {"filters": 3, "kernel_size": 2, "strides": 2, "dilation_rate": 2}, (None, 3, 9, 9, 1)),
    ("ConvLSTM2D", {"filters": 3, "kernel_size": 4}, (None, 3, 3, 9, 1)),
]


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


def _to_keras(keras, value):
    """Turns nested CallValues (the layer argument of wrappers) into Keras layer objects."""
    if isinstance(value, CallValue):
        return getattr(keras.layers, value.name)(**{k: _to_keras(keras, v) for k, v in value.args.items()})
    return value


def _build(keras, input_shape, layers):
    """A Sequential model of (name, args) layers on ``input_shape``; raises whatever Keras raises."""
    built = [getattr(keras.layers, name)(**{k: _to_keras(keras, v) for k, v in args.items()}) for name, args in layers]
    return keras.Sequential([keras.Input(shape=input_shape[1:], batch_size=input_shape[0]), *built])


def _case_id(case):
    name, args, shape = case
    return f"{name}-{'-'.join(f'{k}={v}' for k, v in args.items())}-{shape}".replace(" ", "")


@pytest.mark.keras
@pytest.mark.parametrize("name, args, input_shape", PARITY_CASES, ids=[_case_id(c) for c in PARITY_CASES])
def test_matches_keras(name, args, input_shape):
    keras = _keras()
    model = _build(keras, input_shape, [(name, args)])
    expected = infer_shape(name, args, input_shape)
    assert model.output_shape == expected
    assert count_params(name, args, input_shape, expected) == model.count_params()


@pytest.mark.keras
def test_parity_cases_cover_every_rule():
    covered = {name for name, _, _ in PARITY_CASES} | {"Input", "InputLayer"}
    assert covered == set(RULES)


@pytest.mark.keras
@pytest.mark.parametrize("name, args, input_shape", FAILING_CASES, ids=[_case_id(c) for c in FAILING_CASES])
def test_fails_where_keras_fails(name, args, input_shape):
    keras = _keras()
    with pytest.raises(ShapeError):
        infer_shape(name, args, input_shape)
    # Keras refuses with ValueError, TypeError or an error of its own: any refusal counts.
    with pytest.raises(Exception):  # noqa: B017
        _build(keras, input_shape, [(name, args)])


@pytest.mark.keras
@pytest.mark.parametrize(
    "name, args",
    [
        ("Input", {"shape": (28, 28, 1)}),
        ("Input", {"shape": (10,), "batch_size": 4}),
        ("Input", {"batch_shape": (2, None, 3)}),
        ("Input", {"shape": ()}),
        ("InputLayer", {"shape": (5,)}),
        ("InputLayer", {"batch_shape": (4, 5)}),
    ],
)
def test_input_matches_keras(name, args):
    keras = _keras()
    if name == "Input":
        assert tuple(keras.Input(**args).shape) == infer_shape(name, args, None)
    else:
        model = keras.Sequential([keras.layers.InputLayer(**args), keras.layers.Identity()])
        assert model.output_shape == infer_shape(name, args, None)


@pytest.mark.keras
@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`")
def test_legacy_input_shape_argument_matches_keras():
    keras = _keras()
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(5,))])
    assert model.output_shape == infer_shape("Dense", {"units": 3, "input_shape": (5,)}, None)


@pytest.mark.keras
def test_bidirectional_concat_uses_the_real_backward_size():
    # Keras's compute_output_shape doubles the forward size; the tensor it computes does not.
    keras = _keras()
    import numpy as np

    args = {"layer": C("LSTM", {"units": 4}), "backward_layer": C("LSTM", {"units": 6, "go_backwards": True})}
    model = _build(keras, (None, 5, 3), [("Bidirectional", args)])
    out = model.predict(np.zeros((2, 5, 3), "float32"), verbose=0)
    assert out.shape[1:] == infer_shape("Bidirectional", args, (None, 5, 3))[1:] == (10,)
    assert count_params("Bidirectional", args, (None, 5, 3), None) == model.count_params()


# ---------------------------------------------------------------- random stacks against Keras

_PAD = st.sampled_from(["valid", "same"])


@st.composite
def _layer_for(draw, shape):
    """One layer that usually fits ``shape`` (and now and then one that may not)."""
    rank = len(shape)
    wild = draw(st.integers(0, 9)) == 0  # occasionally ignore the input rank to exercise errors
    kinds = ["Dense", "Dropout", "Flatten", "Reshape"]
    if rank == 2 or wild:
        kinds += ["RepeatVector"]
    if rank == 3 or wild:
        kinds += ["Conv1D", "Pool1D", "GlobalPool1D", "RNN", "UpSampling1D", "ZeroPadding1D", "Cropping1D"]
    if rank == 4 or wild:
        kinds += ["Conv2D", "Pool2D", "GlobalPool2D"]
    kind = draw(st.sampled_from(kinds))
    small = st.integers(1, 4)
    if kind == "Dense":
        return "Dense", {"units": draw(small)}
    if kind == "Dropout":
        return "Dropout", {"rate": 0.25}
    if kind == "Flatten":
        return "Flatten", {}
    if kind == "RepeatVector":
        return "RepeatVector", {"n": draw(small)}
    if kind == "Reshape":
        known = [d for d in shape[1:] if d is not None]
        size = 1
        for d in known:
            size *= d
        target = draw(st.sampled_from([(-1,), (size,), (-1, 2), (2, -1, 1), (size + 1,)]))
        return "Reshape", {"target_shape": target}
    if kind in ("Conv1D", "Conv2D"):
        args = {"filters": draw(small), "kernel_size": draw(st.integers(1, 4))}
        padding = draw(st.sampled_from(["valid", "same", "causal"] if kind == "Conv1D" else ["valid", "same"]))
        if draw(st.booleans()):
            args["strides"] = draw(st.integers(1, 3))
        elif draw(st.booleans()):
            args["dilation_rate"] = draw(st.integers(1, 3))
        if kind == "Conv2D" and draw(st.booleans()):
            args["data_format"] = "channels_first"
        return kind, {**args, "padding": padding}
    if kind in ("Pool1D", "Pool2D"):
        name = draw(st.sampled_from(["MaxPooling", "AveragePooling"])) + kind[-2:]
        args = {"pool_size": draw(st.integers(1, 3)), "padding": draw(_PAD)}
        if draw(st.booleans()):
            args["strides"] = draw(st.integers(1, 3))
        return name, args
    if kind in ("GlobalPool1D", "GlobalPool2D"):
        name = "Global" + draw(st.sampled_from(["Max", "Average"])) + "Pooling" + kind[-2:]
        return name, {"keepdims": draw(st.booleans())}
    if kind == "RNN":
        return draw(st.sampled_from(["SimpleRNN", "LSTM", "GRU"])), {
            "units": draw(small), "return_sequences": draw(st.booleans())}
    if kind == "UpSampling1D":
        return kind, {"size": draw(st.integers(1, 3))}
    amount = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    return kind, {"padding": amount} if kind == "ZeroPadding1D" else {"cropping": amount}


@st.composite
def _stacks(draw):
    shape = (None, *draw(st.lists(st.one_of(st.integers(1, 8), st.none()), min_size=1, max_size=3)))
    layers, current = [], shape
    for _ in range(draw(st.integers(1, 4))):
        name, args = draw(_layer_for(current))
        layers.append((name, args))
        try:
            current = infer_shape(name, args, current)
        except ShapeError:
            break  # the stack stops at its first error; Keras must fail there too
    return shape, layers


@pytest.mark.keras
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_stacks())
def test_random_stacks_match_keras(stack):
    keras = _keras()
    input_shape, layers = stack
    shape, params, error = input_shape, 0, None
    try:
        for name, args in layers:
            out = infer_shape(name, args, shape)
            params += count_params(name, args, shape, out)
            shape = out
    except ShapeError as e:
        error = e
    if error is not None:
        with pytest.raises(Exception):  # noqa: B017 (any refusal by Keras counts, as above)
            _build(keras, input_shape, layers)
        return
    model = _build(keras, input_shape, layers)
    assert model.output_shape == shape
    assert model.count_params() == params
