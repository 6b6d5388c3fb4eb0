"""The plugin's step: ``histogram MODEL on DATA [to "hist.txt"] bins=10``."""

from nndsl.run.files import atomic_write_text


def histogram(state, step):
    import numpy as np

    model = state.model(step.target).export_model()
    data = state.data(step.on)
    preds = np.asarray(model.predict(data.x, verbose=0)).ravel()
    counts, edges = np.histogram(preds, bins=step.kwargs.get("bins", 10))
    width = max(counts.max(), 1)
    lines = [f"{lo:>10.3f} .. {hi:<10.3f} {'#' * int(40 * c / width)} {c}" for lo, hi, c in zip(edges, edges[1:], counts)]
    text = "\n".join(lines) + "\n"
    if step.to:
        atomic_write_text(state.path(step.to), text)
    else:
        state.out.write(text)
