"""A campaign's statistics: success probability with its Wilson interval, the failure breakdown,
touchdown percentiles, and which dispersed parameters drive failure.

Sensitivity is **Monte Carlo filtering** (regional sensitivity analysis, Hornberger & Spear 1981; Saltelli
et al., *Global Sensitivity Analysis: The Primer*, 2008, §5): the runs are split into landed and not landed,
and each sampled parameter is ranked by the two-sample Kolmogorov–Smirnov distance D between its values in
the two sets (0: failure does not care about it; 1: it alone separates them), with the KS p-value. It
needs no model of the response, sees non-monotonic effects, and works for a fault's presence (a 0/1
parameter: D is the difference of the presence rates). The failure rate per tercile of each parameter
(per value of a 0/1 one) says where the failures are.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchdown.sim.touchdown import OUTCOMES

Z95 = 1.959963984540054  # two-sided 95 % normal quantile
SUCCESS = "landed"
PERCENTILES = (1, 5, 50, 95, 99)
TOUCHDOWN_FIGURES = ("vertical_speed_mps", "horizontal_speed_mps", "miss_m", "propellant_remaining_kg")
SENSITIVITY_METHOD = (
    "Monte Carlo filtering: two-sample Kolmogorov–Smirnov distance between each parameter's values "
    "in landed and not-landed runs"
)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95 % by default); (0, 1) for n = 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _finite(v: NDArray[np.float64]) -> NDArray[np.float64]:
    return v[np.isfinite(v)]


def percentiles(values: NDArray[np.float64]) -> dict[str, float | None]:
    """p1 … p99 of the finite values (None when there are none)."""
    v = _finite(np.asarray(values, float))
    if v.size == 0:
        return {f"p{q}": None for q in PERCENTILES}
    return {f"p{q}": float(x) for q, x in zip(PERCENTILES, np.percentile(v, PERCENTILES), strict=True)}


def _failure_rates(v: NDArray[np.float64], failed: NDArray[np.bool_]) -> list[dict[str, Any]]:
    """Failure rate per value of a 0/1 parameter, else per tercile of its values ([low, high] each)."""
    values = np.unique(v)
    if values.size <= 2:
        return [
            {"value": float(x), "rate": float(failed[v == x].mean()), "runs": int(np.sum(v == x))}
            for x in values
        ]
    edges = np.quantile(v, [0.0, 1 / 3, 2 / 3, 1.0])
    bins = np.clip(np.searchsorted(edges[1:-1], v, side="right"), 0, 2)
    out = []
    for b in range(3):
        sel = bins == b
        if sel.any():
            out.append(
                {
                    "range": [float(v[sel].min()), float(v[sel].max())],
                    "rate": float(failed[sel].mean()),
                    "runs": int(sel.sum()),
                }
            )
    return out


def sensitivity(params: dict[str, NDArray], success: NDArray[np.bool_]) -> list[dict[str, Any]]:
    """Parameters ranked by the KS distance between landed and not-landed runs (strongest first)."""
    from scipy.stats import ks_2samp  # ≈ 0.5 s to import: not in every process that imports this module

    ok, bad = success, ~success
    out = []
    if ok.sum() == 0 or bad.sum() == 0:
        return out
    for name, raw in params.items():
        v = np.asarray(raw, float)
        if np.ptp(v) == 0.0:
            continue
        res = ks_2samp(v[ok], v[bad])
        out.append(
            {
                "parameter": name,
                "ks_distance": float(res.statistic),
                "p_value": float(res.pvalue),
                "median_landed": float(np.median(v[ok])),
                "median_failed": float(np.median(v[bad])),
                "failure_rate": _failure_rates(v, bad),
            }
        )
    out.sort(key=lambda r: (-r["ks_distance"], r["p_value"], r["parameter"]))
    return out


def summarize(
    columns: dict[str, NDArray], parameters: list[str], drawn: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The ``--json`` summary of a campaign's result rows (one array per column); ``drawn``: the ranked
    columns drawn inside each flight rather than sampled (marked ``"kind": "drawn"`` in the ranking)."""
    outcome = np.asarray(columns["outcome"]).astype(str)
    n = int(outcome.size)
    success = outcome == SUCCESS
    k = int(success.sum())
    lo, hi = wilson_interval(k, n)
    touched = outcome != "in_flight"
    return {
        "runs": n,
        "success_probability": k / n if n else None,
        "ci95": [lo, hi],
        "outcomes": {o: int((outcome == o).sum()) for o in OUTCOMES if (outcome == o).any()},
        "touchdown": {
            f: percentiles(np.asarray(columns[f], float)[touched])
            for f in (*TOUCHDOWN_FIGURES, "hover_time_s")
        },
        "sensitivity": {
            "method": SENSITIVITY_METHOD,
            "ranking": [
                {**r, "kind": "drawn" if r["parameter"] in drawn else "sampled"}
                for r in sensitivity({p: columns[p] for p in parameters}, success)
            ],
        },
    }
