"""Gravity of the Moon: point mass, uniform field, zonal J2 and spherical harmonics of any degree/order.

Every model exposes

``acceleration(r) -> (…, 3)``  gravitational acceleration [m/s²] at positions ``r`` (…, 3) [m];
``potential(r) -> (…)``        gravitational potential U [m²/s²];
``body_fixed: bool``            True when the field is fixed to the Moon: ``r`` must then be in ``mcmf``
                                components and the acceleration comes back in ``mcmf`` (the simulator
                                rotates). False when the field may be evaluated in any frame (its
                                symmetry makes ``mci`` and ``mcmf`` equivalent, or it is frame-free).

Sign convention (geodesy's): ``a = +∇U`` and ``U = GM/r > 0`` for a point mass, so U increases toward
the Moon and the specific mechanical energy is ``v²/2 − U``.

Coefficients are fully (4π) normalised C̄nm, S̄nm in the principal-axis (mean-Earth/polar-axis) frame,
with ``C̄20 = −J2/√5`` (REFERENCE §1). Positions are Moon-centred; r = 0 is outside every model's domain.

All models are batch-first and vectorised over points; the spherical harmonics loop only over degree
and order, with element-wise arithmetic in a fixed order, so a point's result does not depend on the
batch it is evaluated in (bit for bit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from touchdown.errors import DataNotFoundError, InputError
from touchdown.moon.constants import GM_MOON, J2_MOON, R_GRAVITY_REF

Array = NDArray[np.float64]

#: Highest degree the Pines recursion supports in double precision: the derived Legendre functions
#: Ā_nm(±1) reach ~1e251 at degree 1200 and overflow past ~1500.
MAX_SUPPORTED_DEGREE: int = 1500

#: SHADR normalisation-state flag for fully (4π) normalised coefficients (REFERENCE §1).
SHADR_FULLY_NORMALISED: int = 1

#: Work-array size (elements) that bounds a spherical-harmonic evaluation's memory; points are chunked.
_CHUNK_ELEMENTS: int = 2_000_000


@runtime_checkable
class GravityModel(Protocol):
    """What the simulator needs from a gravity field."""

    #: True: evaluate with ``mcmf`` positions (field fixed to the rotating Moon).
    body_fixed: bool

    def acceleration(self, r: ArrayLike) -> Array:
        """Acceleration [m/s²] (…, 3) at positions r [m] (…, 3)."""
        ...

    def potential(self, r: ArrayLike) -> Array:
        """Potential U [m²/s²] (…) with a = +∇U, at positions r [m] (…, 3)."""
        ...


def _positions(r: ArrayLike) -> Array:
    r = np.asarray(r, dtype=float)
    if r.ndim == 0 or r.shape[-1] != 3:
        raise ValueError(f"positions must have shape (…, 3), got {r.shape}")
    return r


# --------------------------------------------------------------------------------------------------
# Simple models


class PointMass:
    """Central field ``a = −GM r/|r|³``, ``U = GM/|r|``."""

    body_fixed = False

    def __init__(self, gm: float = GM_MOON) -> None:
        self.gm = float(gm)  # [m³/s²], default REFERENCE §1

    def acceleration(self, r: ArrayLike) -> Array:
        return _field_at(POINT_MASS, (self.gm, 0.0, 0.0), r)

    def potential(self, r: ArrayLike) -> Array:
        r = _positions(r)
        x, y, z = r[..., 0], r[..., 1], r[..., 2]
        return self.gm / np.sqrt(x * x + y * y + z * z)


class UniformGravity:
    """Constant field ``a = g_vector`` (flat-Moon oracles, REFERENCE §4); ``U = g·r``.

    ``g_vector`` [m/s²] is given in whatever frame the caller's positions use, e.g. ``(0, 0, −1.62)``
    with z up.
    """

    body_fixed = False

    def __init__(self, g_vector: ArrayLike) -> None:
        g = np.asarray(g_vector, dtype=float)
        if g.shape != (3,) or not np.all(np.isfinite(g)):
            raise InputError(f"g_vector must be 3 finite numbers [m/s²], got {g_vector!r}")
        self.g_vector = g

    def acceleration(self, r: ArrayLike) -> Array:
        r = _positions(r)
        return np.broadcast_to(self.g_vector, r.shape).copy()

    def potential(self, r: ArrayLike) -> Array:
        r = _positions(r)
        g = self.g_vector
        return g[0] * r[..., 0] + g[1] * r[..., 1] + g[2] * r[..., 2]


class ZonalJ2:
    """Point mass plus the J2 zonal term, closed form.

    ``U = (GM/r) [1 − J2 (R/r)² P2(z/r)]``, P2(u) = (3u² − 1)/2, J2 unnormalised at reference radius R.
    The field is symmetric about the spin axis, which ``mci`` and ``mcmf`` share, so ``body_fixed`` is
    False: either frame's positions give that frame's acceleration.
    """

    body_fixed = False

    def __init__(self, gm: float = GM_MOON, j2: float = J2_MOON, r_ref: float = R_GRAVITY_REF) -> None:
        self.gm = float(gm)  # REFERENCE §1
        self.j2 = float(j2)  # REFERENCE §1
        self.r_ref = float(r_ref)  # REFERENCE §1

    def acceleration(self, r: ArrayLike) -> Array:
        return _field_at(ZONAL_J2, (self.gm, self.j2, self.r_ref), r)

    def potential(self, r: ArrayLike) -> Array:
        r = _positions(r)
        x, y, z = r[..., 0], r[..., 1], r[..., 2]
        r2 = x * x + y * y + z * z
        rn = np.sqrt(r2)
        p2 = 0.5 * (3.0 * z * z / r2 - 1.0)
        return self.gm / rn * (1.0 - self.j2 * self.r_ref * self.r_ref / r2 * p2)


# --------------------------------------------------------------------------------------------------
# Compiled evaluation of the closed-form models (one source of truth for the models' ``acceleration`` and
# the truth dynamics' kernels, ``touchdown.vehicle._kernels``)

#: Codes of the models :func:`field_acceleration` evaluates; see :func:`kernel_spec`.
POINT_MASS, ZONAL_J2, UNIFORM = 0, 1, 2

FieldParams = tuple[float, float, float]


def kernel_spec(model: object) -> tuple[int, FieldParams] | None:
    """(code, parameters) with which :func:`field_acceleration` evaluates ``model``, or None for a model
    it does not know (spherical harmonics, or any other class: evaluate those with their own method)."""
    kind = type(model)
    if kind is PointMass:
        return POINT_MASS, (model.gm, 0.0, 0.0)
    if kind is ZonalJ2:
        return ZONAL_J2, (model.gm, model.j2, model.r_ref)
    if kind is UniformGravity:
        g = model.g_vector
        return UNIFORM, (float(g[0]), float(g[1]), float(g[2]))
    return None


@njit(cache=True, error_model="numpy", inline="always")
def field_acceleration(
    code: int, p0: float, p1: float, p2: float, x: float, y: float, z: float
) -> tuple[float, float, float]:
    """Acceleration [m/s²] at one position (x, y, z) [m] of the closed-form model ``code``.

    Parameters (p0, p1, p2): (GM [m³/s²], –, –) for ``POINT_MASS``; (GM, J2, R [m]) for ``ZONAL_J2``;
    the field vector [m/s²] for ``UNIFORM``. The operations are those of the numpy formulas, in the same
    order; division by zero gives ±inf/NaN as numpy does. Scalars only and inlined, so that it compiles into
    the truth-dynamics kernels without array bookkeeping and vectorises there.
    """
    if code == POINT_MASS:
        rn = math.sqrt(x * x + y * y + z * z)
        f = -p0 / (rn * rn * rn)
        return f * x, f * y, f * z
    if code == ZONAL_J2:
        gm, j2, r_ref = p0, p1, p2
        r2 = x * x + y * y + z * z
        rn = math.sqrt(r2)
        u2 = z * z / r2
        k = 1.5 * j2 * r_ref * r_ref / r2
        f = -gm / (r2 * rn)
        fxy = f * (1.0 + k * (1.0 - 5.0 * u2))
        fz = f * (1.0 + k * (3.0 - 5.0 * u2))
        return fxy * x, fxy * y, fz * z
    return p0, p1, p2


@njit(cache=True, error_model="numpy")
def _field_rows(code: int, p0: float, p1: float, p2: float, r: Array, out: Array) -> None:
    """``out[i] = field_acceleration(r[i])`` for points r (P, 3) [m]."""
    for i in range(r.shape[0]):
        out[i, 0], out[i, 1], out[i, 2] = field_acceleration(code, p0, p1, p2, r[i, 0], r[i, 1], r[i, 2])


def _field_at(code: int, params: FieldParams, r: ArrayLike) -> Array:
    """Acceleration of model ``code`` at positions r (…, 3) [m] through :func:`field_acceleration`."""
    p0, p1, p2 = params
    r = _positions(r)
    flat = r if r.ndim == 2 else np.ascontiguousarray(r.reshape(-1, 3))  # rows: read in place (a view too)
    out = np.empty(flat.shape)
    _field_rows(code, p0, p1, p2, flat, out)
    return out.reshape(r.shape)


# --------------------------------------------------------------------------------------------------
# Coefficients


@dataclass(frozen=True)
class GravityCoefficients:
    """Fully normalised spherical-harmonic coefficients of a gravity field (SI).

    ``c[n, m]`` and ``s[n, m]`` for 0 ≤ m ≤ min(n, max_order), n ≤ max_degree; arrays have shape
    (max_degree + 1, max_order + 1), zero where m > n. ``c[0, 0]`` scales the central term (normally 1).
    """

    gm: float  #: gravitational parameter [m³/s²]
    r_ref: float  #: reference radius [m]
    c: Array = field(repr=False)  #: C̄nm, indexed [n, m]
    s: Array = field(repr=False)  #: S̄nm, indexed [n, m]
    max_degree: int
    max_order: int
    source: str = ""  #: where the numbers came from

    def __post_init__(self) -> None:
        shape = (self.max_degree + 1, self.max_order + 1)
        if self.max_degree < 0 or not 0 <= self.max_order <= self.max_degree:
            raise InputError(f"need 0 ≤ max_order ≤ max_degree, got {self.max_degree}, {self.max_order}")
        c = np.array(self.c, dtype=float)
        s = np.array(self.s, dtype=float)
        if c.shape != shape or s.shape != shape:
            raise InputError(f"coefficient arrays must have shape {shape}, got {c.shape} and {s.shape}")
        if not (np.all(np.isfinite(c)) and np.all(np.isfinite(s))):
            raise InputError("coefficients must be finite")
        if not (math.isfinite(self.gm) and self.gm > 0 and math.isfinite(self.r_ref) and self.r_ref > 0):
            raise InputError(f"gm and r_ref must be positive, got {self.gm}, {self.r_ref}")
        c.setflags(write=False)
        s.setflags(write=False)
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "s", s)

    def truncated(self, max_degree: int | None = None, max_order: int | None = None) -> GravityCoefficients:
        """The same field cut to ``max_degree`` and ``max_order`` (default: as far as available)."""
        n = self.max_degree if max_degree is None else int(max_degree)
        m = min(n, self.max_order) if max_order is None else int(max_order)
        if not 0 <= n <= self.max_degree or not 0 <= m <= min(n, self.max_order):
            raise InputError(
                f"requested degree {n}, order {m} beyond the field's degree {self.max_degree}, "
                f"order {self.max_order} ({self.source or 'coefficients'})"
            )
        if n == self.max_degree and m == self.max_order:
            return self
        return GravityCoefficients(
            self.gm, self.r_ref, self.c[: n + 1, : m + 1], self.s[: n + 1, : m + 1], n, m, self.source
        )


def coefficients_from_j2(
    j2: float = J2_MOON, gm: float = GM_MOON, r_ref: float = R_GRAVITY_REF
) -> GravityCoefficients:
    """Degree-2, order-0 coefficients with ``C̄00 = 1`` and ``C̄20 = −J2/√5`` (REFERENCE §1)."""
    c = np.zeros((3, 1))
    c[0, 0] = 1.0
    c[2, 0] = -float(j2) / math.sqrt(5.0)
    return GravityCoefficients(
        float(gm), float(r_ref), c, np.zeros((3, 1)), 2, 0, f"J2 = {j2:g} at R = {r_ref:g} m"
    )


def j2_from_coefficients(coeffs: GravityCoefficients) -> float:
    """Unnormalised J2 = −√5 C̄20 at the coefficients' reference radius (REFERENCE §1)."""
    if coeffs.max_degree < 2:
        raise InputError(f"no degree-2 coefficient in {coeffs.source or 'coefficients'}")
    return -math.sqrt(5.0) * float(coeffs.c[2, 0])


# --------------------------------------------------------------------------------------------------
# SHADR ASCII files (REFERENCE §1)


def _fields(line: str) -> list[str]:
    parts = [p.strip() for p in line.split(",")]
    if parts and parts[-1] == "":  # a trailing comma
        parts.pop()
    return parts


def _decode(raw: bytes, path: Path, lineno: int) -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise InputError("not ASCII text", where=f"{path}, line {lineno}") from None


def _number(text: str, what: str, where: str) -> float:
    try:
        value = float(text.replace("D", "E").replace("d", "e"))
    except ValueError:
        raise InputError(f"{what} is not a number: {text!r}", where=where) from None
    if not math.isfinite(value):
        raise InputError(f"{what} is not finite: {text!r}", where=where)
    return value


def _integer(text: str, what: str, where: str) -> int:
    value = _number(text, what, where)
    if value != int(value):
        raise InputError(f"{what} is not an integer: {text!r}", where=where)
    return int(value)


def read_shadr(
    path: str | Path, max_degree: int | None = None, max_order: int | None = None
) -> GravityCoefficients:
    """Read a SHADR ASCII coefficient file (e.g. GRGM1200A ``gggrx_1200a_sha.tab``), converted to SI.

    Header: reference radius [km], GM [km³/s²], σGM, max degree, max order, normalisation flag (must be
    1, fully normalised), reference lon, reference lat. Rows: ``n, m, C̄nm, S̄nm, σC, σS``. Comma
    separated; spaces and blank lines tolerated; Fortran ``D`` exponents accepted. Rows of degree 0 and 1
    may be absent (then C̄00 = 1, the rest 0); every row from degree 2 up to the degree read must be
    present. Reading stops early once rows pass ``max_degree`` (files are sorted by degree).
    Every defect raises `InputError` naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(
            "gravity coefficient file not found (GRGM1200A is not shipped; see docs/gravity.md)",
            where=str(path),
        )
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", where=str(path)) from None

    with handle:
        lineno = 0
        header: list[str] = []
        for raw in handle:
            lineno += 1
            line = _decode(raw, path, lineno)
            if line.strip():
                header = _fields(line)
                break
        where = f"{path}, line {lineno}"
        if not header:
            raise InputError("empty file, expected a SHADR header row", where=str(path))
        if not 6 <= len(header) <= 8:
            raise InputError(
                f"SHADR header needs 8 comma-separated fields (radius km, GM km³/s², σGM, degree, "
                f"order, normalisation, lon, lat), got {len(header)}",
                where=where,
            )
        r_km = _number(header[0], "reference radius", where)
        gm_km = _number(header[1], "GM", where)
        _number(header[2], "σGM", where)
        file_degree = _integer(header[3], "max degree", where)
        file_order = _integer(header[4], "max order", where)
        flag = _integer(header[5], "normalisation flag", where)
        for k, name in ((6, "reference longitude"), (7, "reference latitude")):
            if len(header) > k:
                _number(header[k], name, where)
        if r_km <= 0 or gm_km <= 0:
            raise InputError(f"reference radius and GM must be positive, got {r_km}, {gm_km}", where=where)
        if file_degree < 0 or not 0 <= file_order <= file_degree:
            raise InputError(
                f"header degree {file_degree} and order {file_order} need 0 ≤ order ≤ degree", where=where
            )
        if flag != SHADR_FULLY_NORMALISED:
            raise InputError(
                f"normalisation flag is {flag}; only fully normalised coefficients "
                f"(flag {SHADR_FULLY_NORMALISED}) are supported",
                where=where,
            )
        degree = file_degree if max_degree is None else int(max_degree)
        order = min(degree, file_order) if max_order is None else int(max_order)
        if not 0 <= degree <= file_degree or not 0 <= order <= min(degree, file_order):
            raise InputError(
                f"requested degree {degree}, order {order} beyond the file's degree {file_degree}, "
                f"order {file_order}",
                where=where,
            )
        if degree > MAX_SUPPORTED_DEGREE:
            raise InputError(f"degree {degree} above the supported {MAX_SUPPORTED_DEGREE}", where=where)

        c = np.zeros((degree + 1, order + 1))
        s = np.zeros((degree + 1, order + 1))
        c[0, 0] = 1.0
        seen = np.zeros((degree + 1, order + 1), dtype=bool)
        for raw in handle:
            lineno += 1
            line = _decode(raw, path, lineno)
            if not line.strip():
                continue
            where = f"{path}, line {lineno}"
            parts = _fields(line)
            if len(parts) < 6:
                raise InputError(
                    f"truncated row: {len(parts)} fields, expected 6 (n, m, C, S, σC, σS)", where=where
                )
            if len(parts) > 6:
                raise InputError(f"row has {len(parts)} fields, expected 6 (n, m, C, S, σC, σS)", where=where)
            n = _integer(parts[0], "degree n", where)
            m = _integer(parts[1], "order m", where)
            cnm = _number(parts[2], "C", where)
            snm = _number(parts[3], "S", where)
            _number(parts[4], "σC", where)
            _number(parts[5], "σS", where)
            if not 0 <= m <= n:
                raise InputError(f"need 0 ≤ m ≤ n, got n = {n}, m = {m}", where=where)
            if n > file_degree or m > file_order:
                raise InputError(
                    f"n = {n}, m = {m} beyond the header's degree {file_degree}, order {file_order}",
                    where=where,
                )
            if n > degree:
                break  # rows are sorted by degree: nothing further is needed
            if m > order:
                continue
            if seen[n, m]:
                raise InputError(f"duplicate row for n = {n}, m = {m}", where=where)
            seen[n, m] = True
            c[n, m] = cnm
            s[n, m] = snm

    for n in range(2, degree + 1):
        for m in range(min(n, order) + 1):
            if not seen[n, m]:
                raise InputError(
                    f"no row for n = {n}, m = {m} (file truncated or incomplete; header promises degree "
                    f"{file_degree}, order {file_order})",
                    where=f"{path}, line {lineno}",
                )
    return GravityCoefficients(
        gm=gm_km * 1e9,  # km³/s² → m³/s²
        r_ref=r_km * 1e3,  # km → m
        c=c,
        s=s,
        max_degree=degree,
        max_order=order,
        source=f"{path.name} (degree {degree}, order {order} of {file_degree}×{file_order})",
    )


def write_shadr(path: str | Path, coeffs: GravityCoefficients) -> None:
    """Write ``coeffs`` as a SHADR ASCII file (km, km³/s², fully normalised; σ columns zero).

    Rows for n = 0 … max_degree, m = 0 … min(n, max_order); numbers printed with 17 significant digits so
    that `read_shadr` gives back the same coefficients bit for bit.
    """
    lines = [
        f"{coeffs.r_ref / 1e3:.16E}, {coeffs.gm / 1e9:.16E}, {0.0:.16E}, {coeffs.max_degree:5d}, "
        f"{coeffs.max_order:5d}, {SHADR_FULLY_NORMALISED:4d}, {0.0:.16E}, {0.0:.16E}"
    ]
    for n in range(coeffs.max_degree + 1):
        for m in range(min(n, coeffs.max_order) + 1):
            lines.append(
                f"{n:5d}, {m:5d}, {coeffs.c[n, m]:.16E}, {coeffs.s[n, m]:.16E}, {0.0:.16E}, {0.0:.16E}"
            )
    Path(path).write_text("\n".join(lines) + "\n", encoding="ascii")


# --------------------------------------------------------------------------------------------------
# Spherical harmonics (Pines' singularity-free formulation)


class SphericalHarmonics:
    """Spherical-harmonic field of any degree and order, singularity-free at the poles (Pines 1973).

    With s, t, u = x/r, y/r, z/r and ρ = R/r,
    ``U = (GM/r) Σ_n ρ^n Σ_m Ā_nm(u) [C̄nm Re(s + it)^m + S̄nm Im(s + it)^m]``,
    where Ā_nm(u) = P̄nm(u)/cos^m φ are the fully normalised derived Legendre functions (P̄nm without the
    Condon–Shortley phase). ∇U follows from the partials in (r, s, t, u). Positions in ``mcmf``.
    """

    body_fixed = True

    def __init__(
        self, coeffs: GravityCoefficients, max_degree: int | None = None, max_order: int | None = None
    ) -> None:
        coeffs = coeffs.truncated(max_degree, max_order)
        if coeffs.max_degree > MAX_SUPPORTED_DEGREE:
            raise InputError(f"degree {coeffs.max_degree} above the supported {MAX_SUPPORTED_DEGREE}")
        self.coeffs = coeffs
        self.gm = coeffs.gm
        self.r_ref = coeffs.r_ref
        self.max_degree = coeffs.max_degree
        self.max_order = coeffs.max_order
        self._tables()

    def _tables(self) -> None:
        """Per-degree recursion and derivative factors, and coefficient rows, computed once."""
        nmax, mmax = self.max_degree, self.max_order
        self._a: list[Array] = []  # a_nm for m ≤ min(n − 2, mmax + 1)
        self._b: list[Array] = []
        self._k: list[Array] = []  # k_nm for m ≤ min(n − 1, mmax): dĀ_nm/du = k_nm Ā_{n,m+1}
        self._c: list[Array] = []  # C̄nm for m ≤ min(n, mmax), as columns (…, 1)
        self._s: list[Array] = []
        self._cd: list[Array] = []  # k_nm C̄nm for m ≤ min(n − 1, mmax)
        self._sd: list[Array] = []
        for n in range(nmax + 1):
            m = np.arange(min(n - 2, mmax + 1) + 1, dtype=float)
            self._a.append(np.sqrt((2 * n + 1) * (2 * n - 1) / ((n - m) * (n + m)))[:, None])
            self._b.append(
                np.sqrt((2 * n + 1) * (n + m - 1) * (n - m - 1) / ((n - m) * (n + m) * (2 * n - 3)))[:, None]
            )
            md = np.arange(min(n - 1, mmax) + 1, dtype=float)
            k = np.sqrt((n - md) * (n + md + 1))
            if k.size:
                k[0] = math.sqrt(n * (n + 1) / 2.0)
            self._k.append(k[:, None])
            top = min(n, mmax) + 1
            self._c.append(np.array(self.coeffs.c[n, :top])[:, None])
            self._s.append(np.array(self.coeffs.s[n, :top])[:, None])
            self._cd.append((k * self.coeffs.c[n, : k.size])[:, None])
            self._sd.append((k * self.coeffs.s[n, : k.size])[:, None])

    def _sums(self, r: Array, gradient: bool) -> tuple[Array, ...]:
        """Dimensionless sums over (n, m) for points r (P, 3): Σ for U, and for ∇U Σ_r, Σ_s, Σ_t, Σ_u."""
        nmax, mmax = self.max_degree, self.max_order
        x, y, z = r[:, 0], r[:, 1], r[:, 2]
        rn = np.sqrt(x * x + y * y + z * z)
        s, t, u = x / rn, y / rn, z / rn
        rho = self.r_ref / rn
        npts = rn.size

        # Re and Im of (s + it)^m, m = 0 … mmax.
        re = np.empty((mmax + 1, npts))
        im = np.empty((mmax + 1, npts))
        re[0], im[0] = 1.0, 0.0
        for m in range(1, mmax + 1):
            re[m] = s * re[m - 1] - t * im[m - 1]
            im[m] = s * im[m - 1] + t * re[m - 1]

        # Accumulators over n for each order m: Σ ρ^n C̄ Ā, Σ ρ^n S̄ Ā, and for the gradient
        # Σ (n+1) ρ^n C̄ Ā, Σ (n+1) ρ^n S̄ Ā, Σ ρ^n k C̄ Ā_{n,m+1}, Σ ρ^n k S̄ Ā_{n,m+1}.
        pc = np.zeros((mmax + 1, npts))
        ps = np.zeros((mmax + 1, npts))
        if gradient:
            qc, qs, dc, ds = (np.zeros((mmax + 1, npts)) for _ in range(4))
        rho_n = np.ones(npts)
        row_2 = row_1 = np.empty((0, npts))  # rows n − 2 and n − 1 of Ā, m ≤ min(n, mmax + 1)
        for n in range(nmax + 1):
            width = min(n, mmax + 1) + 1
            row = np.empty((width, npts))
            if n == 0:
                row[0] = 1.0
            else:
                inner = min(n - 2, mmax + 1) + 1  # columns from the three-term recursion
                if inner > 0:
                    row[:inner] = self._a[n] * (u * row_1[:inner]) - self._b[n] * row_2[:inner]
                if n - 1 < width:
                    row[n - 1] = math.sqrt(2 * n + 1) * u * row_1[n - 1]
                if n < width:
                    row[n] = math.sqrt(3.0) if n == 1 else math.sqrt((2 * n + 1) / (2 * n)) * row_1[n - 1]
                rho_n = rho_n * rho
            top = min(n, mmax) + 1
            w = rho_n * row[:top]
            cw = self._c[n] * w
            sw = self._s[n] * w
            pc[:top] += cw
            ps[:top] += sw
            if gradient:
                qc[:top] += (n + 1) * cw
                qs[:top] += (n + 1) * sw
                kd = self._k[n].shape[0]
                if kd:
                    wd = rho_n * row[1 : kd + 1]
                    dc[:kd] += self._cd[n] * wd
                    ds[:kd] += self._sd[n] * wd
            row_2, row_1 = row_1, row

        su = pc[0] * re[0] + ps[0] * im[0]
        if not gradient:
            for m in range(1, mmax + 1):
                su = su + (pc[m] * re[m] + ps[m] * im[m])
            return rn, su
        sr = qc[0] * re[0] + qs[0] * im[0]
        sd = dc[0] * re[0] + ds[0] * im[0]
        ss = np.zeros(npts)
        st = np.zeros(npts)
        for m in range(1, mmax + 1):
            su = su + (pc[m] * re[m] + ps[m] * im[m])
            sr = sr + (qc[m] * re[m] + qs[m] * im[m])
            sd = sd + (dc[m] * re[m] + ds[m] * im[m])
            ss = ss + m * (pc[m] * re[m - 1] + ps[m] * im[m - 1])
            st = st + m * (ps[m] * re[m - 1] - pc[m] * im[m - 1])
        return rn, su, sr, ss, st, sd, s, t, u

    def _chunks(self, r: Array) -> list[slice]:
        """Point ranges small enough that the per-order work arrays stay ~16 MB each."""
        npts = int(np.prod(r.shape[:-1]))
        step = max(256, _CHUNK_ELEMENTS // (self.max_order + 2))
        return [slice(i, min(i + step, npts)) for i in range(0, max(npts, 1), step)]

    def potential(self, r: ArrayLike) -> Array:
        r = _positions(r)
        flat = r.reshape(-1, 3)
        out = np.empty(flat.shape[0])
        for sl in self._chunks(r):
            rn, su = self._sums(flat[sl], gradient=False)
            out[sl] = self.gm / rn * su
        return out.reshape(r.shape[:-1])

    def acceleration(self, r: ArrayLike) -> Array:
        """∇U [m/s²] (…, 3) in ``mcmf`` at ``mcmf`` positions r [m] (…, 3).

        With U = (GM/r)·Σ, the partials are U_r = −(GM/r²)Σ_r, U_s = (GM/r)Σ_s, … and
        ``∇U = (1/r)(U_s, U_t, U_u) + r̂ [U_r − (s U_s + t U_t + u U_u)/r]``.
        """
        r = _positions(r)
        flat = r.reshape(-1, 3)
        out = np.empty(flat.shape)
        for sl in self._chunks(r):
            rn, _, sr, ss, st, sd, s, t, u = self._sums(flat[sl], gradient=True)
            f = self.gm / (rn * rn)
            radial = sr + (s * ss + t * st + u * sd)
            out[sl, 0] = f * (ss - s * radial)
            out[sl, 1] = f * (st - t * radial)
            out[sl, 2] = f * (sd - u * radial)
        return out.reshape(r.shape)
