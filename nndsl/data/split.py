"""The ``split`` data source: one part of another source, by fractions, shuffled with a seed."""

from __future__ import annotations

from pathlib import Path

from .table import Dataset, data_error


def load(args: dict, *, name: str, base: Path, decl=None, source=None, resolve=None, seed=None) -> Dataset:
    """``resolve(name)`` gives the parent data set; the rows are shuffled once with the seed and cut."""
    import numpy as np

    parent: Dataset = resolve(args["source"])
    fractions = [float(f) for f in args["fractions"]]
    if sum(fractions) < 1 - 1e-9:
        fractions.append(1 - sum(fractions))
    part = int(args.get("part", 0))
    if not 0 <= part < len(fractions):
        raise data_error(f"expected a part from 0 to {len(fractions) - 1}; received {part}",
                         where=f"split of {args['source']}", decl=decl, source=source)
    if parent.x is None and getattr(parent, "stream", None) is not None:
        raise data_error(f"expected a table read whole to split; received '{args['source']}', a table over the memory budget "
                         "streamed in record batches", where=f"split of {args['source']}", decl=decl, source=source,
                         hint="split the table into files of its own (a folder of part files per data set), or raise the "
                              "memory budget (memory_budget \"8GB\") to read it whole")
    if parent.x is None:
        raise data_error("expected a source of rows (csv, npz, npy); received a streamed folder source",
                         where=f"split of {args['source']}", decl=decl, source=source)
    n = parent.rows
    s = args.get("seed")
    rng = np.random.default_rng(int(s if s is not None else (seed if seed is not None else 0)))
    order = rng.permutation(n)
    bounds = np.round(np.cumsum([0.0] + fractions) * n).astype(int)
    bounds[-1] = n
    index = order[bounds[part] : bounds[part + 1]]
    if len(index) == 0:
        raise data_error(f"expected rows in part {part}; received none ({n} rows split by {fractions})",
                         where=f"split of {args['source']}", decl=decl, source=source)
    return parent.subset(np.sort(index), name)
