"""Campaign dispersions: what is uncertain, in which unit, and one sample of it per run.

Every dispersion turns one column of a uniform sample matrix U (N, D) into values by its inverse CDF, so the
three samplers only differ in how U is made:

``random``  U[k, d] is a counter-based uniform of (root seed, run k, dimension d) (:mod:`touchdown.noise`):
            run k's values depend on nothing else, whatever N, chunking or order;
``sobol``   scrambled Sobol' points (``scipy.stats.qmc.Sobol``, seeded by the root seed); point k is the
            same for any N (a sequence), the balance properties are best for N a power of two;
``lhs``     Latin hypercube (``scipy.stats.qmc.LatinHypercube``), stratified for exactly this N.

The columns of U: one per dispersion (a fault's presence is ``U < probability``), then six for the
initial-state covariance (standard normals through ``ndtri``, correlated by its Cholesky factor).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from touchdown.errors import InputError
from touchdown.noise import run_keys, stream_id, uniform
from touchdown.scenario import schema

Array = NDArray[np.float64]

# unit → (dimension, factor to the SI/base unit of that dimension)
UNITS: dict[str, tuple[str, float]] = {
    "m": ("length", 1.0),
    "km": ("length", 1e3),
    "ft": ("length", 0.3048),
    "s": ("time", 1.0),
    "ms": ("time", 1e-3),
    "min": ("time", 60.0),
    "kg": ("mass", 1.0),
    "m/s": ("speed", 1.0),
    "km/s": ("speed", 1e3),
    "ft/s": ("speed", 0.3048),
    "m/s^2": ("acceleration", 1.0),
    "deg": ("angle", math.pi / 180.0),
    "rad": ("angle", 1.0),
    "arcsec": ("angle", math.pi / 648_000.0),
    "deg/s": ("angular rate", math.pi / 180.0),
    "rad/s": ("angular rate", 1.0),
    "Hz": ("frequency", 1.0),
}
# field-name suffix → the field's unit (longest suffixes first)
SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_mps2", "m/s^2"),
    ("_mps", "m/s"),
    ("_deg_s", "deg/s"),
    ("_rad_s", "rad/s"),
    ("_radps", "rad/s"),
    ("_arcsec", "arcsec"),
    ("_deg", "deg"),
    ("_kg", "kg"),
    ("_hz", "Hz"),
    ("_km", "km"),
    ("_m", "m"),
    ("_s", "s"),
)
INITIAL_COLUMNS = (
    "initial.east_m",
    "initial.north_m",
    "initial.up_m",
    "initial.east_mps",
    "initial.north_mps",
    "initial.up_mps",
)
_U_MIN = 2.0**-54  # keeps inverse CDFs finite at a sampler's 0 or 1


def field_unit(field: str) -> str | None:
    """The unit a field's name declares (``faults.0.below_m`` → ``m``); None: no unit suffix."""
    name = field.rsplit(".", 1)[-1]
    for suffix, unit in SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return None


def unit_factor(d: schema.Dispersion) -> float:
    """Multiplier from the dispersion's ``unit`` to its field's unit; InputError if they do not match."""
    own = field_unit(d.field)
    if d.unit is None or d.unit == own:
        return 1.0
    if d.unit not in UNITS:
        raise InputError(f"unit '{d.unit}' unknown; known units: {', '.join(UNITS)}")
    if own is None:
        raise InputError(
            f"field '{d.field}' declares no unit (no unit suffix): give the distribution in the field's "
            "own units and drop 'unit'"
        )
    (dim, f), (own_dim, own_f) = UNITS[d.unit], UNITS[own]
    if dim != own_dim:
        raise InputError(f"unit '{d.unit}' is a {dim}, but '{d.field}' is a {own_dim} in {own}")
    return f / own_f


def presence_index(d: schema.Dispersion) -> int | None:
    """Fault index N of a presence dispersion (``field = "faults.N"``), else None."""
    if d.dist is not None:
        return None
    parts = d.field.split(".")
    if len(parts) != 2 or parts[0] != "faults" or not parts[1].isdigit():
        raise InputError(
            f"'probability' alone is a fault's presence: field must be 'faults.N', not '{d.field}'"
        )
    return int(parts[1])


def column(d: schema.Dispersion) -> str:
    """The result column of a dispersion: the field path, or ``faults.N.present``."""
    return d.field if d.dist is not None else f"{d.field}.present"


def support(d: schema.Dispersion) -> list[float]:
    """Values a dispersion can take that bound or represent it, in the field's unit (for validation)."""
    k = unit_factor(d)
    if d.dist in ("uniform", "truncnormal"):
        return [d.low * k, d.high * k]  # type: ignore[operator]
    if d.dist == "normal":
        return [d.mean * k]  # type: ignore[operator]
    if d.dist == "lognormal":
        return [d.median * k]  # type: ignore[operator]
    if d.dist == "choice":
        return [v * k for v in d.values or ()]
    return []


def inverse_cdf(d: schema.Dispersion, u: Array) -> Array:
    """Values (in the field's unit) at the probabilities ``u`` ∈ (0, 1); a presence gives 1.0 / 0.0."""
    from scipy.special import ndtri  # scipy.stats: ≈ 0.5 s to import, which a Dask worker never needs
    from scipy.stats import truncnorm

    u = np.clip(u, _U_MIN, 1.0 - _U_MIN)
    if d.dist is None:
        return (u < d.probability).astype(float)
    k = unit_factor(d)
    if d.dist == "uniform":
        return (d.low + (d.high - d.low) * u) * k  # type: ignore[operator]
    if d.dist == "normal":
        return (d.mean + d.sigma * ndtri(u)) * k  # type: ignore[operator]
    if d.dist == "truncnormal":
        if d.sigma == 0.0:
            return np.full_like(u, min(max(d.mean, d.low), d.high) * k)  # type: ignore[type-var]
        a, b = (d.low - d.mean) / d.sigma, (d.high - d.mean) / d.sigma  # type: ignore[operator]
        return truncnorm.ppf(u, a, b, loc=d.mean, scale=d.sigma) * k
    if d.dist == "lognormal":
        return d.median * np.exp(d.sigma_log * ndtri(u)) * k  # type: ignore[operator]
    values = np.asarray(d.values, float)
    w = np.ones(values.size) if d.weights is None else np.asarray(d.weights, float)
    edges = np.cumsum(w) / w.sum()
    return values[np.minimum(np.searchsorted(edges, u, side="right"), values.size - 1)] * k


@dataclass(frozen=True)
class Sample:
    """Sampled values of every dispersed quantity for runs ``runs`` (columns in the fields' units)."""

    runs: NDArray[np.int64]
    columns: dict[str, Array]

    def take(self, idx: NDArray[np.intp]) -> Sample:
        return Sample(self.runs[idx], {k: v[idx] for k, v in self.columns.items()})


def dimensions(cfg: schema.CampaignCfg) -> int:
    """Columns of the uniform sample matrix the campaign needs."""
    return len(cfg.dispersions) + (6 if cfg.initial_state is not None else 0)


def uniforms(sampler: str, root_seed: int, n_total: int, runs: NDArray[np.int64], dims: int) -> Array:
    """U (len(runs), dims) for the runs ``runs`` of an ``n_total``-run campaign."""
    runs = np.asarray(runs, dtype=np.int64)
    if dims == 0:
        return np.zeros((runs.size, 0))
    if sampler == "random":
        return uniform(run_keys(root_seed, runs), stream_id("campaign.sample"), 0, (dims,))
    from scipy.stats import qmc

    if sampler == "sobol":
        with warnings.catch_warnings():  # "balance properties … power of 2": documented above
            warnings.simplefilter("ignore", UserWarning)
            eng = qmc.Sobol(dims, scramble=True, seed=np.random.default_rng(root_seed))
            u = eng.random(n_total)
    elif sampler == "lhs":
        u = qmc.LatinHypercube(dims, seed=np.random.default_rng(root_seed)).random(n_total)
    else:
        raise InputError(f"sampler '{sampler}' unknown; allowed: {', '.join(schema.SAMPLERS)}")
    return u[runs]


def initial_cholesky(cfg: schema.InitialDispersion) -> Array:
    """Lower factor L (6, 6) with L Lᵀ = the initial-state covariance (east, north, up; m then m/s)."""
    if cfg.sigma is not None:
        return np.diag(np.asarray(cfg.sigma, float))
    c = np.asarray(cfg.covariance, float)
    w, v = np.linalg.eigh(0.5 * (c + c.T))  # semi-definite allowed: a symmetric square root, not Cholesky
    return v * np.sqrt(np.clip(w, 0.0, None))


def sample(cfg: schema.CampaignCfg, sampler: str, root_seed: int, n_total: int, runs=None) -> Sample:
    """Every dispersed value of the runs ``runs`` (default: all ``n_total``) of a campaign."""
    runs = np.arange(n_total, dtype=np.int64) if runs is None else np.asarray(runs, dtype=np.int64)
    u = uniforms(sampler, root_seed, n_total, runs, dimensions(cfg))
    cols: dict[str, Array] = {}
    for j, d in enumerate(cfg.dispersions):
        cols[column(d)] = inverse_cdf(d, u[:, j])
    if cfg.initial_state is not None:
        from scipy.special import ndtri

        z = ndtri(np.clip(u[:, len(cfg.dispersions) :], _U_MIN, 1.0 - _U_MIN))
        lower = initial_cholesky(cfg.initial_state)
        for c, name in enumerate(INITIAL_COLUMNS):  # a fixed summation order, not BLAS: same bits per row
            acc = np.zeros(runs.size)
            for k in range(6):
                acc = acc + lower[c, k] * z[:, k]
            cols[name] = acc
    return Sample(runs, cols)
