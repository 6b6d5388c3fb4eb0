"""The plugin's data source."""

from nndsl.data.table import Dataset


def ramp(args, *, name, base, decl=None, source=None):
    import numpy as np

    rng = np.random.default_rng(args.get("seed", 0))
    rows, features = args.get("rows", 256), args.get("features", 3)
    x = rng.uniform(-1, 1, size=(rows, features)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) + rng.normal(0, args.get("noise", 0.05), size=(rows, 1))).astype("float32")
    return Dataset(name=name, x=x, y=y, feature_names=[f"f{i}" for i in range(features)], target_names=["y"],
                   columns={}, fingerprint=f"ramp{sorted(args.items())}")
