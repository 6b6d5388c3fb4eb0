"""The training input pipelines: every row once per epoch, a new seeded order each epoch."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.keras


@pytest.mark.parametrize("large", [False, True])
def test_each_epoch_sees_every_row_once_in_a_seeded_order(monkeypatch, large):
    import numpy as np

    from nndsl.run import pipeline

    if large:
        monkeypatch.setattr(pipeline, "ROW_SHUFFLE_LIMIT", 0)
    x = np.arange(100, dtype="float32").reshape(50, 2)
    y = np.arange(50, dtype="float32").reshape(50, 1)

    def epochs(seed):
        ds = pipeline.array_dataset(x, y, batch_size=8, shuffle=True, seed=seed)
        assert int(ds.cardinality()) == 7
        out = []
        for _ in range(2):
            rows = np.concatenate([b[1].numpy()[:, 0] for b in ds])
            assert sorted(rows.tolist()) == list(range(50))
            out.append(rows.tolist())
        return out

    a, b = epochs(3), epochs(3)
    assert a == b  # the same seed gives the same order
    assert a[0] != a[1]  # and each epoch a new one
    for batch in pipeline.array_dataset(x, y, batch_size=8, shuffle=True, seed=3):
        xs, ys = batch[0].numpy(), batch[1].numpy()
        assert (xs[:, 0] == 2 * ys[:, 0]).all()  # features stay with their targets


def test_validation_split_takes_the_last_rows_like_keras():
    import numpy as np

    from nndsl.run.pipeline import split_validation

    x = np.arange(20).reshape(10, 2)
    y = np.arange(10).reshape(10, 1)
    (tx, ty), (vx, vy) = split_validation(x, y, 0.25)
    assert ty[:, 0].tolist() == list(range(7)) and vy[:, 0].tolist() == [7, 8, 9]
