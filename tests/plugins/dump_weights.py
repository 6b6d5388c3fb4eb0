"""A test plugin: the step `dump_weights MODEL to "PREFIX"` writes every process's weights.

Each process of a multi-process run writes ``PREFIX-<process id>.npz``, so a test can compare
the weights the processes hold. (Real plugin steps that write files should write on process 0
only: ``if state.chief: ...``.)
"""

from nndsl.plugins.registry import registry
from nndsl.plugins.spec import REQUIRED, StepSpec


def dump_weights(state, step) -> None:
    import numpy as np

    ms = state.model(step.target)
    pid = state.group.process_id if state.group is not None else 0
    np.savez(state.path(f"{step.to}-{pid}.npz"), *[np.asarray(w) for w in ms.keras_model.get_weights()])


registry("steps").register("dump_weights", StepSpec(name="dump_weights", doc="Write this process's weights.",
                                                    impl="dump_weights:dump_weights", to=REQUIRED, needs_weights=True))
