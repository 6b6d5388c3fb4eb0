"""The final metrics table of a run: a rich table on a terminal, plain lines elsewhere."""

from __future__ import annotations


def final_table(state) -> None:
    from .units import label

    rows = []
    for model, m in state.models.items():
        h = m.history
        scaled = bool(getattr(state, "record", None) and state.record.data["preprocessing"].get(model, {}).get("scaled_loss"))
        if h:
            # the epoch whose weights the model holds: the last, unless a callback restored another
            at = getattr(m, "reported_epoch", None)
            last = {k: v[at if at is not None and at < len(v) else -1] for k, v in h.items() if v}
            for k, v in last.items():
                where = "validation" if k.startswith("val_") else "train"
                rows.append((model, where, label(k[4:] if k.startswith("val_") else k, scaled), v))
    for key, metrics in state.results.items():
        model = key.split(":")[0]
        for k, v in metrics.items():
            rows.append((model, "test", k, v))
    if not rows:
        return
    # per model and split, the loss first (the quantity trained on), then the metrics as compiled
    splits = {"train": 0, "validation": 1, "test": 2}
    models = {name: i for i, name in enumerate(dict.fromkeys(r[0] for r in rows))}
    rows.sort(key=lambda r: (models[r[0]], splits.get(r[1], 3), not r[2].startswith("loss")))
    mode = state.events.mode
    if mode == "json":
        state.events.emit("metrics", rows=[{"model": a, "split": b, "metric": c, "value": float(d)} for a, b, c, d in rows])
        return
    if mode == "none":
        return
    if mode == "rich" and state.console is not None:
        from rich.table import Table

        t = Table(title="metrics")
        for c in ("model", "split", "metric", "value"):
            t.add_column(c, justify="right" if c == "value" else "left")
        for a, b, c, d in rows:
            t.add_row(a, b, c, f"{float(d):.6g}")
        state.console.print(t)
        return
    for a, b, c, d in rows:
        state.out.write(f"{a} {b} {c} {float(d):.6g}\n")
