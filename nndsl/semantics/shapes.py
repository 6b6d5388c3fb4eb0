"""Static shape inference for Keras layers, in pure Python (no TensorFlow, Keras or NumPy).

Each rule mirrors what Keras 3 does when a ``Sequential`` model is built: the layer's
``compute_output_shape`` plus the checks its constructor and ``build`` make, so that a
mismatch is reported while checking the program instead of deep inside Keras.

Rules receive arguments bound to Keras parameter names but without defaults filled in, so
every argument is read together with its Keras default. A rule that cannot tell (an
argument of an unexpected type, a nested layer it has no rule for) answers "unknown"
(``None``) rather than guessing: wrong argument types are reported by the type checks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from .values import CallValue

Shape = tuple  # of int | None, batch dimension first

__all__ = ["ShapeError", "CallValue", "RULES", "infer_shape", "count_params", "format_shape"]


class ShapeError(Exception):
    """A layer cannot take its input shape. str(e) is the user-facing message."""


class _Unknown(Exception):
    """Raised inside a rule when the output shape cannot be known before Keras builds the layer."""


# ---------------------------------------------------------------- public API


def format_shape(shape) -> str:
    """Writes a shape the way Python writes a tuple, with None for unknown dimensions.

    Args:
        shape: A sequence of ints and Nones, or None for a shape that is not known.

    Returns:
        Text such as ``(None, 28, 28, 1)`` or ``(None,)``; ``unknown`` for None.
    """
    if shape is None:
        return "unknown"
    return repr(tuple(None if d is None else int(d) for d in shape))


def infer_shape(layer: str, args: dict, input_shape: tuple | None) -> tuple | None:
    """Output shape of Keras layer class ``layer`` for a given input shape.

    Args:
        layer: Canonical Keras class name, e.g. ``"Conv2D"``.
        args: Arguments bound to Keras parameter names; defaults are not filled in.
        input_shape: Input shape with the batch dimension, e.g. ``(None, 28, 28, 1)``;
            None for the first layer of a model (or when the shape is not known).

    Returns:
        The output shape with the batch dimension, or None when there is no rule for
        ``layer`` or the shape cannot be known until Keras builds the layer.

    Raises:
        ShapeError: The layer cannot take this input shape (or these arguments cannot
            build it); the message says what was expected and what was received.
    """
    rule = RULES.get(layer)
    if rule is None:
        return None
    if layer not in _INPUT_LAYERS:
        if input_shape is None:
            # A first layer may still declare its input the Keras 2 way (input_shape=...).
            input_shape = _legacy_input_shape(layer, args)
            if input_shape is None:
                return None
        input_shape = tuple(input_shape)
    try:
        out = rule(layer, args, input_shape)
    except _Unknown:
        return None
    return None if out is None else tuple(out)


def count_params(layer: str, args: dict, input_shape: tuple | None, output_shape: tuple | None) -> int | None:
    """Number of weights Keras creates for the layer, trainable or not (as ``count_params()``).

    Args:
        layer: Canonical Keras class name.
        args: Arguments bound to Keras parameter names; defaults are not filled in.
        input_shape: The layer's input shape (batch dimension included), or None.
        output_shape: The layer's output shape as returned by :func:`infer_shape`, or None.

    Returns:
        The count, 0 for layers without weights, or None when it cannot be determined.
    """
    if layer in _NO_WEIGHTS:
        return 0
    counter = _PARAMS.get(layer)
    if counter is None:
        return None
    if input_shape is None:
        input_shape = _legacy_input_shape(layer, args)
        if input_shape is None:
            return None
    try:
        return counter(layer, args, tuple(input_shape), output_shape)
    except (_Unknown, ShapeError):
        return None


# ---------------------------------------------------------------- reading arguments


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _show(value: Any) -> str:
    """An argument value as the user would write it in a message."""
    if isinstance(value, list):
        value = tuple(value) if all(_is_int(v) or v is None for v in value) else value
    return repr(value)


def _int(layer: str, args: dict, name: str, default: Any = None, *, minimum: int = 1) -> int:
    """An integer argument; a missing or non-integer value makes the shape unknown."""
    value = args.get(name, default)
    if not _is_int(value):
        raise _Unknown
    if value < minimum:
        raise ShapeError(f"{layer} expects {name} to be an integer >= {minimum}; received {_show(value)}")
    return value


def _flag(args: dict, name: str, default: bool = False) -> bool:
    value = args.get(name, default)
    return bool(value) if isinstance(value, (bool, int)) else default


def _int_tuple(layer: str, args: dict, name: str, default: Any, n: int, *, minimum: int = 1) -> tuple:
    """An int-or-tuple argument (``kernel_size=3`` or ``(3, 3)``) as a tuple of ``n`` ints."""
    value = args.get(name, default)
    if _is_int(value):
        values = (value,) * n
    elif isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
        values = tuple(value)
        if len(values) != n:
            what = "an integer" if n == 1 else f"an integer or a tuple of {n} integers"
            raise ShapeError(f"{layer} expects {name} to be {what}; received {_show(value)}")
    else:
        raise _Unknown
    if any(v < minimum for v in values):
        raise ShapeError(f"{layer} expects every {name} value to be >= {minimum}; received {_show(value)}")
    return values


def _pairs(layer: str, args: dict, name: str, default: Any, n: int) -> tuple:
    """A padding/cropping argument: int, ``n`` ints, or ``n`` (before, after) pairs, as pairs."""
    value = args.get(name, default)
    if _is_int(value):
        pairs = ((value, value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n:
        pairs = []
        for item in value:
            if _is_int(item):
                pairs.append((item, item))
            elif isinstance(item, (tuple, list)) and len(item) == 2 and all(_is_int(v) for v in item):
                pairs.append(tuple(item))
            elif isinstance(item, (tuple, list)):
                raise ShapeError(
                    f"{layer} expects each entry of {name} to be an integer or a (before, after) pair; "
                    f"received {_show(value)}"
                )
            else:
                raise _Unknown
        pairs = tuple(pairs)
    elif isinstance(value, (tuple, list)):
        raise ShapeError(
            f"{layer} expects {name} to be an integer or a tuple of {n} entries; received {_show(value)}"
        )
    else:
        raise _Unknown
    if any(v < 0 for pair in pairs for v in pair):
        raise ShapeError(f"{layer} expects {name} values >= 0; received {_show(value)}")
    return pairs


def _data_format(layer: str, args: dict) -> bool:
    """True for channels_first. Keras's default, image_data_format(), is channels_last."""
    value = args.get("data_format")
    if value is None:
        return False
    if not isinstance(value, str):
        raise _Unknown
    value = value.lower()
    if value not in ("channels_first", "channels_last"):
        raise ShapeError(
            f"{layer} expects data_format 'channels_last' or 'channels_first'; received {_show(args['data_format'])}"
        )
    return value == "channels_first"


def _padding(layer: str, args: dict, allowed: tuple, *, lowercase: bool = True) -> str:
    value = args.get("padding", "valid")
    if not isinstance(value, str):
        raise _Unknown
    # Convolutions lowercase padding; pooling layers compare it as written.
    padding = value.lower() if lowercase else str(value)
    if padding not in allowed:
        options = " or ".join(repr(a) for a in allowed)
        raise ShapeError(f"{layer} expects padding {options}; received {_show(value)}")
    return padding


def _rank_of(layer: str) -> int:
    """Spatial rank from the class name: Conv2DTranspose -> 2."""
    return int(re.search(r"(\d)D", layer).group(1))


def _legacy_input_shape(layer: str, args: dict) -> tuple | None:
    # Keras still accepts input_shape= / input_dim= on the first layer of a Sequential model.
    shape = args.get("input_shape")
    if isinstance(shape, (tuple, list)) and all(d is None or (_is_int(d) and d >= 0) for d in shape):
        return (None, *shape)
    # Embedding's own input_dim is its vocabulary size, not the Keras-2 input width
    if layer != "Embedding" and _is_int(args.get("input_dim")):
        return (None, args["input_dim"])
    return None


# ---------------------------------------------------------------- checking input shapes

_SPATIAL = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def _layout(rank: int, channels_first: bool, lead: tuple = ("batch",)) -> str:
    spatial = _SPATIAL[rank]
    parts = (*lead, "channels", *spatial) if channels_first else (*lead, *spatial, "channels")
    return "(" + ", ".join(parts) + ")"


def _expect_rank(layer: str, shape: Shape, ndim: int, layout: str) -> None:
    if len(shape) != ndim:
        raise ShapeError(f"{layer} expects {ndim}-D input {layout}; received {format_shape(shape)}")


def _expect_min_rank(layer: str, shape: Shape, ndim: int, layout: str) -> None:
    if len(shape) < ndim:
        raise ShapeError(f"{layer} expects input with at least {ndim} dimensions {layout}; received {format_shape(shape)}")


def _known(layer: str, shape: Shape, axis: int, what: str, because: str = "it sizes the layer's weights") -> int:
    """A dimension Keras needs known at build time (by default because it sizes weights)."""
    dim = shape[axis]
    if dim is None:
        raise ShapeError(
            f"{layer} expects the {what} dimension (axis {axis % len(shape)}) of its input to be known, "
            f"because {because}; received {format_shape(shape)}"
        )
    return dim


def _axis(layer: str, shape: Shape, axis: Any, name: str = "axis") -> int:
    """A non-negative axis index, or an error if the input has no such axis."""
    if not _is_int(axis):
        raise _Unknown
    ndim = len(shape)
    if not -ndim <= axis < ndim:
        raise ShapeError(
            f"{layer} expects {name} in the range [-{ndim}, {ndim}) for {ndim}-D input; "
            f"received {name}={axis} and input {format_shape(shape)}"
        )
    return axis % ndim


def _too_small(layer: str, shape: Shape, axis: int, out: int, need: int, why: str) -> ShapeError:
    return ShapeError(
        f"{layer} reduces dimension {axis} of input {format_shape(shape)} to {out}: "
        f"expected at least {need} there for {why}; received {shape[axis]}"
    )


# ---------------------------------------------------------------- rules: inputs and element-wise layers


def _input(layer: str, args: dict, input_shape: Shape | None) -> Shape:
    if input_shape is not None:
        raise ShapeError(
            f"{layer} must be the first layer of the model; received input {format_shape(input_shape)} "
            "from the layer before it"
        )
    shape = args.get("shape", args.get("input_shape"))
    batch_shape = args.get("batch_shape", args.get("batch_input_shape"))
    batch_size = args.get("batch_size")
    if shape is not None and batch_shape is not None:
        raise ShapeError(f"{layer} expects shape or batch_shape, not both; received shape={_show(shape)} "
                         f"and batch_shape={_show(batch_shape)}")
    if batch_shape is not None and batch_size is not None:
        raise ShapeError(f"{layer} expects batch_size or batch_shape, not both; received batch_size="
                         f"{_show(batch_size)} and batch_shape={_show(batch_shape)}")
    if shape is None and batch_shape is None:
        raise ShapeError(f"{layer} expects a shape such as shape=(28, 28, 1); received neither shape nor batch_shape")
    given, name = (shape, "shape") if shape is not None else (batch_shape, "batch_shape")
    if _is_int(given):
        raise ShapeError(f"{layer} expects {name} to be a tuple such as ({given},); received {given}")
    if not isinstance(given, (tuple, list)) or not all(d is None or _is_int(d) for d in given):
        raise _Unknown
    if any(d is not None and d < 0 for d in given):
        raise ShapeError(f"{layer} expects {name} dimensions >= 0 or None; received {_show(given)}")
    if shape is not None:
        if batch_size is not None and not _is_int(batch_size):
            raise _Unknown
        return (batch_size, *shape)
    return tuple(batch_shape)


def _same(layer: str, args: dict, shape: Shape) -> Shape:
    return shape


def _prelu(layer: str, args: dict, shape: Shape) -> Shape:
    _prelu_alpha_shape(layer, args, shape)
    return shape


def _prelu_alpha_shape(layer: str, args: dict, shape: Shape) -> tuple:
    shared = args.get("shared_axes")
    if shared is None:
        shared = ()
    elif _is_int(shared):
        shared = (shared,)
    elif not isinstance(shared, (tuple, list)) or not all(_is_int(a) for a in shared):
        raise _Unknown
    alpha = list(shape[1:])
    for a in shared:
        if not 1 <= a < len(shape):
            raise ShapeError(
                f"{layer} expects shared_axes between 1 and {len(shape) - 1} for {len(shape)}-D input; "
                f"received shared_axes={_show(args.get('shared_axes'))} and input {format_shape(shape)}"
            )
        alpha[a - 1] = 1
    for i, d in enumerate(alpha):
        if d is None:
            _known(layer, shape, i + 1, "non-shared")
    return tuple(alpha)


def _dropout(layer: str, args: dict, shape: Shape) -> Shape:
    """Dropout layers keep the shape; Keras refuses a rate outside [0, 1] when the layer is built."""
    rate = args.get("rate")
    if isinstance(rate, (int, float)) and not isinstance(rate, bool) and not 0 <= rate <= 1:
        raise ShapeError(f"{layer} expects rate to be a fraction from 0 to 1; received {_show(rate)}")
    return shape


def _spatial_dropout(layer: str, args: dict, shape: Shape) -> Shape:
    _dropout(layer, args, shape)
    rank = _rank_of(layer)
    _expect_rank(layer, shape, rank + 2, _layout(rank, _data_format(layer, args)))
    return shape


def _image_only(layer: str, args: dict, shape: Shape) -> Shape:
    # Keras would read a 3-D input as one unbatched image, not a batch: in a Sequential
    # model that is nearly always a missing channels axis, so it is reported.
    _expect_rank(layer, shape, 4, _layout(2, _data_format(layer, args)))
    return shape


def _resize_to(layer: str, args: dict, shape: Shape) -> Shape:
    channels_first = _data_format(layer, args)
    _expect_rank(layer, shape, 4, _layout(2, channels_first))
    height, width = _int(layer, args, "height"), _int(layer, args, "width")
    if channels_first:
        return (shape[0], shape[1], height, width)
    return (shape[0], height, width, shape[3])


# ---------------------------------------------------------------- rules: core and normalization


def _dense(layer: str, args: dict, shape: Shape) -> Shape:
    _expect_min_rank(layer, shape, 2, "(batch, ..., features)")
    _known(layer, shape, -1, "last (features)")
    return (*shape[:-1], _int(layer, args, "units"))


def _embedding(layer: str, args: dict, shape: Shape) -> Shape:
    _int(layer, args, "input_dim")
    return (*shape, _int(layer, args, "output_dim"))


def _batch_norm(layer: str, args: dict, shape: Shape) -> Shape:
    axis = _axis(layer, shape, args.get("axis", -1))
    _known(layer, shape, axis, "normalized")
    return shape


def _layer_norm_axes(layer: str, args: dict, shape: Shape) -> list:
    axis = args.get("axis", -1)
    axes = list(axis) if isinstance(axis, (tuple, list)) else [axis]
    axes = sorted(_axis(layer, shape, a) for a in axes)
    for a in axes:
        _known(layer, shape, a, "normalized")
    return axes


def _layer_norm(layer: str, args: dict, shape: Shape) -> Shape:
    _layer_norm_axes(layer, args, shape)
    return shape


def _group_norm_channels(layer: str, args: dict, shape: Shape) -> int:
    axis = _axis(layer, shape, args.get("axis", -1))
    channels = _known(layer, shape, axis, "grouped")
    groups = args.get("groups", 32)
    if not _is_int(groups):
        raise _Unknown
    if groups == -1:
        groups = channels
    if groups <= 0:
        raise ShapeError(f"{layer} expects groups to be a positive integer or -1; received {groups}")
    if channels < groups or channels % groups:
        raise ShapeError(
            f"{layer} expects the grouped axis to hold a multiple of groups={groups} channels; "
            f"received {channels} channels in input {format_shape(shape)}"
        )
    return channels


def _group_norm(layer: str, args: dict, shape: Shape) -> Shape:
    _group_norm_channels(layer, args, shape)
    return shape


def _unit_norm(layer: str, args: dict, shape: Shape) -> Shape:
    axis = args.get("axis", -1)
    for a in axis if isinstance(axis, (tuple, list)) else [axis]:
        _axis(layer, shape, a)
    return shape


def _normalization_kept(layer: str, args: dict, shape: Shape) -> tuple:
    axis = args.get("axis", -1)
    axes = () if axis is None else tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    kept = sorted(_axis(layer, shape, a) for a in axes)
    return tuple(_known(layer, shape, a, "kept") for a in kept)


def _normalization(layer: str, args: dict, shape: Shape) -> Shape:
    _normalization_kept(layer, args, shape)
    return shape


# ---------------------------------------------------------------- rules: preprocessing (adapted or given a vocabulary)


def _depth(layer: str, args: dict) -> int:
    """The width of a lookup's encoded output: known before adapt() only with pad_to_max_tokens."""
    if _flag(args, "pad_to_max_tokens") and _is_int(args.get("max_tokens")):
        return args["max_tokens"]
    vocabulary = args.get("vocabulary")
    if isinstance(vocabulary, (list, tuple)) and args.get("max_tokens") is None:
        oov = args.get("num_oov_indices", 1)
        if not _is_int(oov):
            raise _Unknown
        mask = 0 if args.get("mask_token") is None else 1
        return len(vocabulary) + oov + mask
    raise _Unknown


def _encoded(shape: Shape, mode: str, depth: int) -> Shape:
    if mode == "one_hot":
        return (*shape[:-1], depth) if len(shape) > 1 and shape[-1] == 1 else (*shape, depth)
    return (*shape[:-1], depth)  # multi_hot, count, tf_idf: the last axis holds one sample's tokens


def _text_vectorization(layer: str, args: dict, shape: Shape) -> Shape:
    mode = args.get("output_mode", "int")
    if mode == "int":
        length = args.get("output_sequence_length")
        if length is not None and not _is_int(length):
            raise _Unknown
        return (shape[0], length)
    if args.get("split", "whitespace") is not None:
        shape = (*shape, None)  # each string split into tokens
    elif len(shape) <= 1:
        shape = (*shape, 1)
    return _encoded(shape, str(mode), _depth(layer, args))


def _lookup(layer: str, args: dict, shape: Shape) -> Shape:
    mode = args.get("output_mode", "int")
    if mode == "int":
        return shape
    return _encoded(shape, str(mode), _depth(layer, args))


def _discretization(layer: str, args: dict, shape: Shape) -> Shape:
    mode = args.get("output_mode", "int")
    if mode == "int":
        return shape
    bins = args.get("bin_boundaries")
    if isinstance(bins, (list, tuple)):
        depth = len(bins) + 1
    elif _is_int(args.get("num_bins")):
        depth = args["num_bins"]
    else:
        raise _Unknown
    if mode == "one_hot":
        return _encoded(shape, "one_hot", depth)
    return (shape[0], *shape[2:], depth) if len(shape) >= 2 else (depth,)


# ---------------------------------------------------------------- rules: reshaping


def _flatten(layer: str, args: dict, shape: Shape) -> Shape:
    rest = shape[1:]
    if not rest:
        return (shape[0], 1)
    if any(d is None for d in rest):
        return (shape[0], None)
    return (shape[0], math.prod(rest))


def _reshape(layer: str, args: dict, shape: Shape) -> Shape:
    target = args.get("target_shape")
    if _is_int(target):
        raise ShapeError(f"{layer} expects target_shape to be a tuple such as ({target},); received {target}")
    if not isinstance(target, (tuple, list)) or not all(_is_int(d) for d in target):
        raise _Unknown
    target = tuple(target)
    if any(d < -1 for d in target) or target.count(-1) > 1:
        raise ShapeError(
            f"{layer} expects target_shape dimensions >= 0 with at most one -1; received {_show(target)}"
        )
    rest = shape[1:]
    if None in rest:
        # Keras cannot resolve -1 without every input dimension.
        return (shape[0], *(None if d == -1 else d for d in target))
    size = math.prod(rest)
    known = math.prod(d for d in target if d != -1)
    if -1 not in target:
        if size != known:
            raise ShapeError(
                f"{layer} cannot turn {format_shape(shape)} into target_shape {_show(target)}: "
                f"{size} values do not fill {known}"
            )
        return (shape[0], *target)
    if known == 0 or size % known:
        raise ShapeError(
            f"{layer} cannot turn {format_shape(shape)} into target_shape {_show(target)}: "
            f"{size} values do not divide into parts of {known}"
        )
    return (shape[0], *(size // known if d == -1 else d for d in target))


def _permute(layer: str, args: dict, shape: Shape) -> Shape:
    dims = args.get("dims")
    if not isinstance(dims, (tuple, list)) or not all(_is_int(d) for d in dims):
        raise _Unknown
    if sorted(dims) != list(range(1, len(dims) + 1)):
        raise ShapeError(
            f"{layer} expects dims to be a permutation of 1..{len(dims)} (the batch axis 0 stays); "
            f"received {_show(dims)}"
        )
    _expect_rank(layer, shape, len(dims) + 1, f"(batch, {len(dims)} more axes)")
    return (shape[0], *(shape[d] for d in dims))


def _repeat_vector(layer: str, args: dict, shape: Shape) -> Shape:
    _expect_rank(layer, shape, 2, "(batch, features)")
    return (shape[0], _int(layer, args, "n"), shape[1])


def _spatial_axes(shape: Shape, rank: int, channels_first: bool) -> range:
    return range(2, 2 + rank) if channels_first else range(1, 1 + rank)


def _upsampling(layer: str, args: dict, shape: Shape) -> Shape:
    rank = _rank_of(layer)
    # UpSampling1D takes one int and has no data_format; 2D/3D take int or tuple.
    channels_first = _data_format(layer, args) if rank > 1 else False
    if rank == 1:
        _expect_rank(layer, shape, 3, "(batch, steps, features)")
        sizes = (_int(layer, args, "size", 2),)
    else:
        _expect_rank(layer, shape, rank + 2, _layout(rank, channels_first))
        sizes = _int_tuple(layer, args, "size", 2, rank)
    out = list(shape)
    for axis, size in zip(_spatial_axes(shape, rank, channels_first), sizes):
        out[axis] = None if shape[axis] is None else shape[axis] * size
    return tuple(out)


def _zero_padding(layer: str, args: dict, shape: Shape) -> Shape:
    rank = _rank_of(layer)
    channels_first = _data_format(layer, args)
    _expect_rank(layer, shape, rank + 2, _layout(rank, channels_first))
    if rank == 1:
        pad = _int_tuple(layer, args, "padding", 1, 2, minimum=0)
        pairs = (pad,)
    else:
        pairs = _pairs(layer, args, "padding", 1, rank)
    out = list(shape)
    for axis, (before, after) in zip(_spatial_axes(shape, rank, channels_first), pairs):
        out[axis] = None if shape[axis] is None else shape[axis] + before + after
    return tuple(out)


def _cropping(layer: str, args: dict, shape: Shape) -> Shape:
    rank = _rank_of(layer)
    # Cropping1D has no data_format; Cropping2D defaults to no cropping, 1D and 3D to 1.
    channels_first = _data_format(layer, args) if rank > 1 else False
    _expect_rank(layer, shape, rank + 2, _layout(rank, channels_first))
    if rank == 1:
        pairs = (_int_tuple(layer, args, "cropping", 1, 2, minimum=0),)
    else:
        pairs = _pairs(layer, args, "cropping", 0 if rank == 2 else 1, rank)
    out = list(shape)
    for axis, (before, after) in zip(_spatial_axes(shape, rank, channels_first), pairs):
        if shape[axis] is None:
            continue
        out[axis] = shape[axis] - before - after
        if out[axis] <= 0:
            raise _too_small(layer, shape, axis, out[axis], before + after + 1, f"cropping ({before}, {after})")
    return tuple(out)


# ---------------------------------------------------------------- rules: convolution and pooling


def _conv_spatial(layer: str, shape: Shape, axes, kernel, strides, dilation, padding) -> list:
    """Spatial output sizes of a (forward) convolution, as Keras's compute_conv_output_shape."""
    out = []
    for axis, k, s, d in zip(axes, kernel, strides, dilation):
        n = shape[axis]
        if n is None:
            out.append(None)
        elif padding == "valid":
            span = d * (k - 1) + 1
            size = (n - span) // s + 1
            if size <= 0:
                why = f"kernel_size {k}" + (f" with dilation_rate {d}" if d > 1 else "") + " and padding 'valid'"
                raise _too_small(layer, shape, axis, size, span, why)
            out.append(size)
        else:  # same, causal: the input is padded so only the stride shrinks it
            out.append((n - 1) // s + 1)
    return out


def _conv_transpose_spatial(layer: str, shape: Shape, axes, kernel, strides, dilation, padding,
                            output_padding) -> list:
    """Spatial output sizes of a transposed convolution (Keras's _get_output_shape_given_tf_padding)."""
    for axis in axes:
        if shape[axis] == 0:  # only an empty input can make the formulas below go negative
            raise ShapeError(f"{layer} expects spatial dimensions of at least 1; received {format_shape(shape)}")
    out = []
    for i, (axis, k, s, d) in enumerate(zip(axes, kernel, strides, dilation)):
        n = shape[axis]
        op = None if output_padding is None else output_padding[i]
        span = (k - 1) * d + 1
        if n is None:
            out.append(None)
        elif padding == "valid":
            out.append((n - 1) * s + span + (max(span, s) - span if op is None else op))
        elif op is None:
            out.append(n * s)
        else:
            out.append((n - 1) * s + span % 2 + op)
    return out


def _conv_setup(layer: str, args: dict, shape: Shape, *, lead: tuple = ("batch",)) -> tuple:
    """Rank check plus the arguments shared by every convolution: returns a namespace-like tuple."""
    rank = _rank_of(layer)
    channels_first = _data_format(layer, args)
    _expect_rank(layer, shape, rank + 1 + len(lead), _layout(rank, channels_first, lead))
    kernel = _int_tuple(layer, args, "kernel_size", None, rank)
    strides = _int_tuple(layer, args, "strides", 1, rank)
    dilation = _int_tuple(layer, args, "dilation_rate", 1, rank)
    return rank, channels_first, kernel, strides, dilation


def _no_strided_dilation(layer: str, strides: tuple, dilation: tuple) -> None:
    if max(strides) > 1 and max(dilation) > 1:
        raise ShapeError(
            f"{layer} expects strides or dilation_rate to be 1, not both > 1; "
            f"received strides={strides} and dilation_rate={dilation}"
        )


def _channels(layer: str, shape: Shape, channels_first: bool) -> int:
    return _known(layer, shape, 1 if channels_first else -1, "channels")


def _with_channels(shape: Shape, spatial: list, channels: int | None, channels_first: bool) -> Shape:
    if channels_first:
        return (shape[0], channels, *spatial)
    return (shape[0], *spatial, channels)


def _conv(layer: str, args: dict, shape: Shape) -> Shape:
    rank, cf, kernel, strides, dilation = _conv_setup(layer, args, shape)
    # Only Conv1D accepts causal padding (left padding over time).
    padding = _padding(layer, args, ("valid", "same", "causal") if rank == 1 else ("valid", "same"))
    _no_strided_dilation(layer, strides, dilation)
    filters = _int(layer, args, "filters")
    groups = _int(layer, args, "groups", 1)
    if filters % groups:
        raise ShapeError(f"{layer} expects filters to be a multiple of groups={groups}; received filters={filters}")
    channels = _channels(layer, shape, cf)
    if channels % groups:
        raise ShapeError(
            f"{layer} expects the input channels to be a multiple of groups={groups}; "
            f"received {channels} channels in input {format_shape(shape)}"
        )
    axes = _spatial_axes(shape, rank, cf)
    return _with_channels(shape, _conv_spatial(layer, shape, axes, kernel, strides, dilation, padding), filters, cf)


def _conv_transpose(layer: str, args: dict, shape: Shape) -> Shape:
    rank, cf, kernel, strides, dilation = _conv_setup(layer, args, shape)
    padding = _padding(layer, args, ("valid", "same"))
    output_padding = None
    if args.get("output_padding") is not None:
        output_padding = _int_tuple(layer, args, "output_padding", None, rank, minimum=0)
        if any(op >= s for op, s in zip(output_padding, strides)):
            raise ShapeError(
                f"{layer} expects each output_padding value to be less than strides; "
                f"received output_padding={output_padding} and strides={strides}"
            )
    _no_strided_dilation(layer, strides, dilation)
    filters = _int(layer, args, "filters")
    _channels(layer, shape, cf)
    axes = _spatial_axes(shape, rank, cf)
    spatial = _conv_transpose_spatial(layer, shape, axes, kernel, strides, dilation, padding, output_padding)
    return _with_channels(shape, spatial, filters, cf)


def _depthwise_conv(layer: str, args: dict, shape: Shape) -> Shape:
    rank, cf, kernel, strides, dilation = _conv_setup(layer, args, shape)
    padding = _padding(layer, args, ("valid", "same"))
    multiplier = _int(layer, args, "depth_multiplier", 1)
    channels = _channels(layer, shape, cf)
    axes = _spatial_axes(shape, rank, cf)
    spatial = _conv_spatial(layer, shape, axes, kernel, strides, dilation, padding)
    return _with_channels(shape, spatial, channels * multiplier, cf)


def _separable_conv(layer: str, args: dict, shape: Shape) -> Shape:
    rank, cf, kernel, strides, dilation = _conv_setup(layer, args, shape)
    padding = _padding(layer, args, ("valid", "same"))
    _int(layer, args, "depth_multiplier", 1)
    filters = _int(layer, args, "filters")
    _channels(layer, shape, cf)
    axes = _spatial_axes(shape, rank, cf)
    return _with_channels(shape, _conv_spatial(layer, shape, axes, kernel, strides, dilation, padding), filters, cf)


def _pooling(layer: str, args: dict, shape: Shape) -> Shape:
    rank = _rank_of(layer)
    cf = _data_format(layer, args)
    _expect_rank(layer, shape, rank + 2, _layout(rank, cf))
    # MaxPooling defaults pool_size to 2; AveragePooling requires it (missing: unknown).
    pool = _int_tuple(layer, args, "pool_size", 2 if layer.startswith("Max") else None, rank)
    strides = pool if args.get("strides") is None else _int_tuple(layer, args, "strides", None, rank)
    padding = _padding(layer, args, ("valid", "same"), lowercase=False)
    out = []
    for axis, p, s in zip(_spatial_axes(shape, rank, cf), pool, strides):
        n = shape[axis]
        if n is None:
            out.append(None)
        elif padding == "valid":
            size = (n - p) // s + 1
            if size <= 0:
                raise _too_small(layer, shape, axis, size, p, f"pool_size {p} and padding 'valid'")
            out.append(size)
        else:
            out.append((n - 1) // s + 1)
    return _with_channels(shape, out, shape[1] if cf else shape[-1], cf)


def _global_pooling(layer: str, args: dict, shape: Shape) -> Shape:
    rank = _rank_of(layer)
    cf = _data_format(layer, args)
    _expect_rank(layer, shape, rank + 2, _layout(rank, cf))
    channels = shape[1] if cf else shape[-1]
    if _flag(args, "keepdims"):
        return _with_channels(shape, [1] * rank, channels, cf)
    return (shape[0], channels)


# ---------------------------------------------------------------- rules: recurrent layers and wrappers

_RNNS = {"SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"}


def _rnn_common(layer: str, args: dict, shape: Shape) -> None:
    if _flag(args, "return_state"):
        raise ShapeError("return_state=True cannot be used in a Sequential model: "
                         f"{layer} would return its states as extra outputs")
    if _flag(args, "stateful") and shape[0] is None:
        raise ShapeError(
            f"{layer} with stateful=True expects a fixed batch size (give the input a batch_size); "
            f"received {format_shape(shape)}"
        )


def _rnn(layer: str, args: dict, shape: Shape) -> Shape:
    _expect_rank(layer, shape, 3, "(batch, timesteps, features)")
    _rnn_common(layer, args, shape)
    _known(layer, shape, -1, "features")
    units = _int(layer, args, "units")
    if _flag(args, "return_sequences"):
        return (shape[0], shape[1], units)
    return (shape[0], units)


def _conv_lstm(layer: str, args: dict, shape: Shape) -> Shape:
    rank, cf, kernel, strides, dilation = _conv_setup(layer, args, shape, lead=("batch", "time"))
    padding = _padding(layer, args, ("valid", "same"))
    _no_strided_dilation(layer, strides, dilation)
    _rnn_common(layer, args, shape)
    filters = _int(layer, args, "filters")
    _known(layer, shape, 2 if cf else -1, "channels")
    # Spatial axes of the full (batch, time, ...) input.
    axes = [axis + 1 for axis in _spatial_axes(shape, rank, cf)]
    for axis in axes:
        _known(layer, shape, axis, "spatial", "the recurrent state is allocated with that size")
    spatial = _conv_spatial(layer, shape, axes, kernel, strides, dilation, padding)
    state = (shape[0], filters, *spatial) if cf else (shape[0], *spatial, filters)
    if _flag(args, "return_sequences"):
        return (shape[0], shape[1], *state[1:])
    return state


def _nested(layer: str, args: dict, name: str) -> CallValue | None:
    value = args.get(name)
    return value if isinstance(value, CallValue) else None


def _bidirectional_parts(layer: str, args: dict, shape: Shape):
    """The forward and backward layers with their output shapes, or _Unknown."""
    forward = _nested(layer, args, "layer")
    if forward is None or forward.name not in RULES:
        raise _Unknown
    backward = _nested(layer, args, "backward_layer")
    if args.get("backward_layer") is not None and (backward is None or backward.name not in RULES):
        raise _Unknown
    for inner in (forward, backward):
        if inner is not None and inner.name not in _RNNS:
            raise ShapeError(
                f"{layer} expects a recurrent layer ({', '.join(sorted(_RNNS))}); received {inner.name}"
            )
    if backward is not None:
        for attr in ("go_backwards", "return_sequences", "stateful", "return_state"):
            f, b = _flag(forward.args, attr), _flag(backward.args, attr)
            if attr == "go_backwards" and f == b:
                raise ShapeError(
                    f"{layer} expects backward_layer to set go_backwards opposite to layer; "
                    f"received go_backwards={f} for both"
                )
            if attr != "go_backwards" and f != b:
                raise ShapeError(
                    f"{layer} expects layer and backward_layer to agree on {attr}; "
                    f"received {attr}={f} and {attr}={b}"
                )
    try:
        fwd = RULES[forward.name](forward.name, forward.args, shape)
        bwd = fwd if backward is None else RULES[backward.name](backward.name, backward.args, shape)
    except ShapeError as e:
        raise ShapeError(f"inside {layer}: {e}") from None
    return forward, backward, fwd, bwd


def _bidirectional(layer: str, args: dict, shape: Shape) -> Shape:
    mode = args.get("merge_mode", "concat")
    if mode not in ("concat", "sum", "mul", "ave", None):
        raise ShapeError(f"{layer} expects merge_mode 'concat', 'sum', 'mul', 'ave' or None; received {_show(mode)}")
    _, _, fwd, bwd = _bidirectional_parts(layer, args, shape)
    if mode is None:
        raise ShapeError(f"{layer} with merge_mode=None returns two outputs and cannot be used in a Sequential "
                         "model; expected merge_mode 'concat', 'sum', 'mul' or 'ave'")
    if mode == "concat":
        # The true concatenation: Keras's own compute_output_shape doubles the forward size
        # even when backward_layer has a different size.
        last = None if fwd[-1] is None or bwd[-1] is None else fwd[-1] + bwd[-1]
        return (*fwd[:-1], last)
    if fwd != bwd:
        raise ShapeError(
            f"{layer} with merge_mode={_show(mode)} expects forward and backward outputs of the same shape; "
            f"received {format_shape(fwd)} and {format_shape(bwd)}"
        )
    return fwd


def _time_distributed(layer: str, args: dict, shape: Shape) -> Shape:
    inner = _nested(layer, args, "layer")
    _expect_min_rank(layer, shape, 3, "(batch, time, ...)")
    if inner is None or inner.name not in RULES or inner.name in _INPUT_LAYERS:
        raise _Unknown
    step = (shape[0], *shape[2:])
    try:
        out = RULES[inner.name](inner.name, inner.args, step)
    except ShapeError as e:
        raise ShapeError(f"inside {layer} (each timestep has shape {format_shape(step)}): {e}") from None
    return (out[0], shape[1], *out[1:])


# ---------------------------------------------------------------- the rule table

_INPUT_LAYERS = {"Input", "InputLayer"}

RULES: dict[str, Callable[[str, dict, Any], Any]] = {
    "Input": _input,
    "InputLayer": _input,
    "Dense": _dense,
    "Embedding": _embedding,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Permute": _permute,
    "RepeatVector": _repeat_vector,
    "PReLU": _prelu,
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "GroupNormalization": _group_norm,
    "UnitNormalization": _unit_norm,
    "Normalization": _normalization,
    "CenterCrop": _resize_to,
    "Resizing": _resize_to,
    "RandomCrop": _resize_to,
    "Bidirectional": _bidirectional,
    "TimeDistributed": _time_distributed,
    "TextVectorization": _text_vectorization,
    "StringLookup": _lookup,
    "IntegerLookup": _lookup,
    "Discretization": _discretization,
    **dict.fromkeys(
        ("Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "GaussianNoise", "ActivityRegularization", "Masking",
         "Rescaling", "Identity"),
        _same,
    ),
    **dict.fromkeys(("Dropout", "GaussianDropout", "AlphaDropout"), _dropout),
    **dict.fromkeys(
        ("RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness"),
        _image_only,
    ),
    **dict.fromkeys(("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"), _spatial_dropout),
    **dict.fromkeys(("Conv1D", "Conv2D", "Conv3D"), _conv),
    **dict.fromkeys(("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"), _conv_transpose),
    **dict.fromkeys(("SeparableConv1D", "SeparableConv2D"), _separable_conv),
    **dict.fromkeys(("DepthwiseConv1D", "DepthwiseConv2D"), _depthwise_conv),
    **dict.fromkeys(
        ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D"),
        _pooling,
    ),
    **dict.fromkeys(
        ("GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
         "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D"),
        _global_pooling,
    ),
    **dict.fromkeys(("UpSampling1D", "UpSampling2D", "UpSampling3D"), _upsampling),
    **dict.fromkeys(("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"), _zero_padding),
    **dict.fromkeys(("Cropping1D", "Cropping2D", "Cropping3D"), _cropping),
    **dict.fromkeys(("SimpleRNN", "LSTM", "GRU"), _rnn),
    **dict.fromkeys(("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"), _conv_lstm),
}


# ---------------------------------------------------------------- parameter counts

# Layers with rules that create no weights at all.
_NO_WEIGHTS = frozenset(RULES) - {
    "Dense", "Embedding", "PReLU", "BatchNormalization", "LayerNormalization", "GroupNormalization",
    "Normalization", "Bidirectional", "TimeDistributed",
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D",
    "SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
}


def _bias(args: dict, size: int) -> int:
    return size if _flag(args, "use_bias", True) else 0


def _params_dense(layer, args, shape, out):
    units = _int(layer, args, "units")
    return _known(layer, shape, -1, "last (features)") * units + _bias(args, units)


def _params_embedding(layer, args, shape, out):
    return _int(layer, args, "input_dim") * _int(layer, args, "output_dim")


def _params_prelu(layer, args, shape, out):
    return math.prod(_prelu_alpha_shape(layer, args, shape))


def _params_batch_norm(layer, args, shape, out):
    channels = _known(layer, shape, _axis(layer, shape, args.get("axis", -1)), "normalized")
    # gamma, beta (each optional), moving mean and variance; renorm adds three more statistics.
    vectors = _flag(args, "scale", True) + _flag(args, "center", True) + 2 + 3 * _flag(args, "renorm")
    return vectors * channels


def _params_layer_norm(layer, args, shape, out):
    size = math.prod(shape[a] for a in _layer_norm_axes(layer, args, shape))
    return size * (_flag(args, "scale", True) + _flag(args, "center", True))


def _params_group_norm(layer, args, shape, out):
    channels = _group_norm_channels(layer, args, shape)
    return channels * (_flag(args, "scale", True) + _flag(args, "center", True))


def _params_normalization(layer, args, shape, out):
    kept = _normalization_kept(layer, args, shape)
    if args.get("mean") is not None:
        return 0  # given statistics are constants, not weights
    return 2 * math.prod(kept) + 1  # mean, variance and the adapt() sample count


def _params_conv(layer, args, shape, out):
    rank = _rank_of(layer)
    cf = _data_format(layer, args)
    if len(shape) != rank + 2:
        raise _Unknown
    kernel = math.prod(_int_tuple(layer, args, "kernel_size", None, rank))
    channels = _channels(layer, shape, cf)
    if layer.startswith("DepthwiseConv"):
        depth = channels * _int(layer, args, "depth_multiplier", 1)
        return kernel * depth + _bias(args, depth)
    filters = _int(layer, args, "filters")
    if layer.startswith("SeparableConv"):
        depth = channels * _int(layer, args, "depth_multiplier", 1)
        return kernel * depth + depth * filters + _bias(args, filters)
    if layer.endswith("Transpose"):
        return kernel * channels * filters + _bias(args, filters)
    groups = _int(layer, args, "groups", 1)
    return kernel * (channels // groups) * filters + _bias(args, filters)


def _params_rnn(layer, args, shape, out):
    units = _int(layer, args, "units")
    features = _known(layer, shape, -1, "features")
    weights = features * units + units * units
    if layer == "SimpleRNN":
        return weights + _bias(args, units)
    if layer == "LSTM":
        return 4 * weights + _bias(args, 4 * units)
    # GRU: reset_after=True (the default) keeps separate input and recurrent biases.
    return 3 * weights + _bias(args, (6 if _flag(args, "reset_after", True) else 3) * units)


def _params_conv_lstm(layer, args, shape, out):
    rank = _rank_of(layer)
    cf = _data_format(layer, args)
    kernel = math.prod(_int_tuple(layer, args, "kernel_size", None, rank))
    filters = _int(layer, args, "filters")
    channels = _known(layer, shape, 2 if cf else -1, "channels")
    return kernel * channels * 4 * filters + kernel * filters * 4 * filters + _bias(args, 4 * filters)


def _params_bidirectional(layer, args, shape, out):
    forward, backward, fwd, bwd = _bidirectional_parts(layer, args, shape)
    backward = backward or forward
    counts = (_PARAMS[forward.name](forward.name, forward.args, shape, fwd),
              _PARAMS[backward.name](backward.name, backward.args, shape, bwd))
    return sum(counts)


def _params_time_distributed(layer, args, shape, out):
    inner = _nested(layer, args, "layer")
    if inner is None or len(shape) < 3:
        raise _Unknown
    step = (shape[0], *shape[2:])
    return count_params(inner.name, inner.args, step, infer_shape(inner.name, inner.args, step))


_PARAMS: dict[str, Callable] = {
    "Dense": _params_dense,
    "Embedding": _params_embedding,
    "PReLU": _params_prelu,
    "BatchNormalization": _params_batch_norm,
    "LayerNormalization": _params_layer_norm,
    "GroupNormalization": _params_group_norm,
    "Normalization": _params_normalization,
    "Bidirectional": _params_bidirectional,
    "TimeDistributed": _params_time_distributed,
    **dict.fromkeys(
        ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
         "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D"),
        _params_conv,
    ),
    **dict.fromkeys(("SimpleRNN", "LSTM", "GRU"), _params_rnn),
    **dict.fromkeys(("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"), _params_conv_lstm),
}
