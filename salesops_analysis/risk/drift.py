"""Population stability: how far today's invoices have moved from the training data.

PSI (population stability index) per feature: ``sum((p_now - p_train) * ln(p_now / p_train))``
over the training deciles (numeric) or categories. Rule of thumb: below 0.1 stable, 0.1-0.25
some shift, above 0.25 a shift worth a look (and maybe a retrain).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["population_stability", "reference_distribution"]

_EPS = 1e-4


def reference_distribution(X: pd.DataFrame, numeric: list[str], categorical: list[str]) -> dict:
    """Return the bins and shares of each feature in the training rows ``X``."""
    ref: dict[str, dict] = {}
    for name in numeric:
        values = X[name].to_numpy(dtype="float64")
        edges = np.unique(np.quantile(values, np.linspace(0.1, 0.9, 9)))
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        ref[name] = {
            "kind": "numeric",
            "edges": edges.tolist(),
            "shares": (counts / max(1, len(values))).tolist(),
        }
    for name in categorical:
        shares = X[name].astype("str").value_counts(normalize=True)
        ref[name] = {
            "kind": "categorical",
            "categories": shares.index.tolist(),
            "shares": shares.to_numpy().tolist(),
        }
    return ref


def population_stability(reference: dict, X: pd.DataFrame) -> pd.DataFrame:
    """Return the PSI of every feature of ``X`` against ``reference``, largest first."""
    rows = []
    for name, ref in reference.items():
        if name not in X or len(X) == 0:
            continue
        if ref["kind"] == "numeric":
            edges = np.asarray(ref["edges"])
            counts = np.bincount(
                np.searchsorted(edges, X[name].to_numpy(dtype="float64"), side="right"),
                minlength=len(edges) + 1,
            )
            now = counts / len(X)
            then = np.asarray(ref["shares"])
        else:
            cats = list(ref["categories"])
            shares = X[name].astype("str").value_counts(normalize=True)
            now = np.array(
                [shares.get(c, 0.0) for c in cats] + [float(shares[~shares.index.isin(cats)].sum())]
            )
            then = np.array([*ref["shares"], 0.0])
        now, then = np.clip(now, _EPS, None), np.clip(then, _EPS, None)
        psi = float(np.sum((now - then) * np.log(now / then)))
        rows.append(
            {
                "feature": name,
                "psi": psi,
                "status": "stable" if psi < 0.1 else "some shift" if psi < 0.25 else "shifted",
            }
        )
    return pd.DataFrame(rows, columns=["feature", "psi", "status"]).sort_values(
        "psi", ascending=False, ignore_index=True
    )
