"""Whether a target's classes fit a model's last layer and loss: the rules ``nndsl run`` applies
when it builds the model and ``nndsl check --data`` applies before any training.

``Dense(1, sigmoid)`` with ``binary_crossentropy`` takes two classes; a softmax layer with a
sparse or categorical cross-entropy takes one unit per class; a regression loss takes no class
labels at all. No TensorFlow is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .schema import CLASS_LOSSES


@dataclass(frozen=True)
class ClassProblem:
    """A class count that does not fit: the message, its hint, and whether the loss is to blame
    (else the last layer)."""

    message: str
    hint: str
    at_loss: bool = False


def loss_name(model) -> str:
    """The loss of a checked model as written: ``sparse_categorical_crossentropy``, ``BinaryCrossentropy``, or ''."""
    loss = model.compile.get("loss") if model is not None else None
    if loss is None:
        return ""
    return str(getattr(loss, "name", None) or getattr(getattr(loss, "spec", None), "name", None) or loss)


def loss_span(model):
    """Where a checked model writes its ``loss`` property, or None without one."""
    prop = model.properties.get("loss") if model is not None else None
    return prop[1].span if prop is not None else None


def loss_kind(model) -> str | None:
    """"sparse", "one_hot" or "binary" for a classification loss (see ``CLASS_LOSSES``), else None."""
    return CLASS_LOSSES.get(loss_name(model))


def class_problem(target: str, classes, loss: str, units: int | None) -> ClassProblem | None:
    """What is wrong with training on the ``classes`` of column ``target`` with ``loss`` and a last
    layer of ``units`` outputs, or None when they fit.

    Args:
        target: the target column's name.
        classes: its class names in index order (empty: the target holds numbers, and anything fits).
        loss: the model's loss as written ('' for none).
        units: the last layer's width; None when it is not known (then only the loss is judged).
    """
    if not classes:
        return None
    n = len(classes)
    kind = CLASS_LOSSES.get(loss)
    listed = ", ".join(classes[:6]) + (", ..." if n > 6 else "")
    if kind is None:
        return ClassProblem(f"expected a classification loss for the {n} classes of target '{target}' ({listed}); "
                            f"received loss {loss or 'none'}",
                            "sparse_categorical_crossentropy with a softmax layer of one unit per class"
                            + ("; binary_crossentropy with Dense(1, activation=sigmoid) for two" if n == 2 else ""), at_loss=True)
    if kind == "binary":
        if n != 2 or (units is not None and units != 1):
            want = "a last layer of 1 unit" if n == 2 else "2 classes" if units == 1 else "2 classes and a last layer of 1 unit"
            layer = "" if units is None else f" and a last layer of {units} unit{'s' if units != 1 else ''}"
            return ClassProblem(f"expected {want} for loss {loss}; received {n} classes ({listed}){layer}",
                                f"for {n} classes: Dense({n}, activation=softmax) with loss sparse_categorical_crossentropy"
                                if n != 2 else "Dense(1, activation=sigmoid)")
        return None
    if units is not None and units != n:
        return ClassProblem(f"expected a last layer of {n} units for the {n} classes of target '{target}' ({listed}); received {units}",
                            f"Dense({n}, activation=softmax)" if n > 2 else
                            "Dense(2, activation=softmax), or Dense(1, activation=sigmoid) with loss binary_crossentropy")
    return None
