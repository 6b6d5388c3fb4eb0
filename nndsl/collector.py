"""An opt-in garbage-collector policy for applications that own their process, such as the CLI.

:func:`nndsl.parse` leaves the collector as it found it: a library must not change what its
host's collector does. Parsing a large file is faster, though, when the collector keeps out of
the way, and an application that owns its process (the ``nndsl`` command) can say so::

    with parsing_phase():
        program = parse(text, filename=path)

Why it pays. The parser allocates many small objects and makes no cycles. With the collector
running, the allocations start young collections that walk every node made so far, on a large
file twice over (young generation, then the next one), and none of those walks can free
anything. So the collector stays paused until the whole tree is built (re-enabled any earlier,
the next allocation, a comment node, would start such a collection), and the finished tree is
then handed to the oldest generation, so that young collections never walk it. Left young, it
would be walked by the next young collection and again by the middle one before reaching the
oldest generation by itself, about 0.3 µs per node on a large file. The tree is still freed by
reference counting, and walked by full collections like any long-lived data.

The hand-over moves *every* tracked object, not only the tree, so it is made only when the
young generations hold nothing but the new tree: the caller's young objects are collected
before the parse (a middle collection, which frees their garbage cycles rather than handing
them over). It is skipped when the caller disabled the collector (their choice stands), when
they froze objects of their own (``gc.freeze`` then ``gc.unfreeze`` would thaw those), on a
free-threaded build (where freezing marks every object in the process instead of moving
lists), and when the parse fails (there is no tree to hand over). Other threads allocating
during the phase may see their young objects handed over too; that only delays when their
garbage cycles are collected, to the next full collection.
"""

from __future__ import annotations

import contextlib
import gc
import sys

# On a free-threaded build (abiflags "t"), freezing marks every object in the process instead of
# moving lists; a build whose GIL is off at run time says so even where it has no abiflags.
CAN_HAND_OVER = "t" not in getattr(sys, "abiflags", "") and getattr(sys, "_is_gil_enabled", lambda: True)()


@contextlib.contextmanager
def parsing_phase():
    """Pause the collector while the block builds a tree; then hand the tree to the oldest generation.

    The collector is re-enabled on the way out exactly when it was enabled on the way in. The
    hand-over happens only when the block ends without an exception, the collector was
    enabled, nothing was frozen by the caller, and the build is not free-threaded.

    Yields:
        None.
    """
    was_enabled = gc.isenabled()
    hand_over = was_enabled and CAN_HAND_OVER and gc.get_freeze_count() == 0
    if hand_over:
        gc.collect(1)  # the caller's young objects: collected now, not handed over with the tree
    gc.disable()
    try:
        yield
        if hand_over:
            to_oldest_generation()
    finally:
        if was_enabled:
            gc.enable()


def to_oldest_generation() -> None:
    """Move every object the collector tracks into its oldest generation, without walking them.

    ``freeze`` moves all generations to the permanent one in O(1) and ``unfreeze`` moves that
    to the oldest; only correct when the caller has frozen nothing (:func:`parsing_phase` checks).
    """
    gc.freeze()
    gc.unfreeze()
