"""Values of evaluated expressions, as the checks and the compiler see them."""

from __future__ import annotations

from dataclasses import dataclass


class Symbol(str):
    """A bare identifier written in the program (relu, same): passed to Keras as a string."""

    __slots__ = ()


@dataclass(frozen=True)
class CallValue:
    """A nested call such as ``LSTM(64, return_sequences=true)`` given as a layer argument.

    ``name`` is the canonical Keras class name and ``args`` are bound by parameter name.
    """

    name: str
    args: dict
