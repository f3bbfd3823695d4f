"""Apollo lunar-landing guidance: the quadratic law with time to go (Luminary 099, REFERENCE §3.4).

The **apollo frame** is the guidance frame at the landing site: x up, y cross-range, z downrange (the
horizontal direction of approach), right-handed (x × y = z), origin at the site. From the site ENU frame,
with the approach azimuth α (clockwise from north, the heading of the ground track)::

    x = up,   y = cos α · east − sin α · north,   z = sin α · east + cos α · north.

Law (time to go T < 0, Luminary's convention), with aim-point targets R_D, V_D, A_D::

    A_cmd = A_D + 6 (V_D + V)/T + 12 (R_D − R)/T²,      thrust acceleration = A_cmd − g.

It is the acceleration at T of the quartic R(τ) = R_D + V_D τ + A_D τ²/2 + J τ³/6 + S τ⁴/24 that passes
through the current (R, V) at τ = T; flown continuously, the vehicle stays on that quartic. Requiring its
downrange jerk at τ = 0 to equal the target J_Dz gives the time-to-go cubic::

    J_Dz T³ + 6 A_Dz T² + (6 V_z + 18 V_Dz) T + 24 (R_Dz − R_z) = 0.

Root choice: the negative root nearest zero. It is the one Luminary's Newton iteration tracks from one
cycle to the next (T advances by the elapsed time when the vehicle is on its quartic), and for the Apollo 11
ignition design point it is ≈ −590 s (a ~530 s braking phase to |T| = 62 s) while the other negative root
is ≈ −3,200 s. It is found without state: the cubic's critical points split (−t_go_max, 0] into monotone
pieces; the first piece from zero with a sign change brackets the root, then a safeguarded Newton
iteration (bisection when a step leaves the bracket) converges, each trajectory frozen once converged so
results do not depend on batch size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.errors import InputError
from touchdown.fsw.guidance.base import Array, GuidanceCommand, check_state
from touchdown.fsw.guidance.targets import PhaseTargets


def site_to_apollo(vec_site: Array, approach_azimuth_rad: float) -> Array:
    """Components in the apollo frame (x up, y cross-range, z downrange) of site-ENU vectors (…, 3)."""
    s, c = math.sin(approach_azimuth_rad), math.cos(approach_azimuth_rad)
    e, n, u = vec_site[..., 0], vec_site[..., 1], vec_site[..., 2]
    return np.stack((u, c * e - s * n, s * e + c * n), axis=-1)


def apollo_to_site(vec_apollo: Array, approach_azimuth_rad: float) -> Array:
    """Components in the site ENU frame of apollo-frame vectors (…, 3) (inverse of ``site_to_apollo``)."""
    s, c = math.sin(approach_azimuth_rad), math.cos(approach_azimuth_rad)
    x, y, z = vec_apollo[..., 0], vec_apollo[..., 1], vec_apollo[..., 2]
    return np.stack((c * y + s * z, -s * y + c * z, x), axis=-1)


def quadratic_acceleration(
    t_go_s: ArrayLike, r_apollo: Array, v_apollo: Array, r_d: ArrayLike, v_d: ArrayLike, a_d: ArrayLike
) -> Array:
    """A_cmd = A_D + 6 (V_D + V)/T + 12 (R_D − R)/T² [m/s²] (apollo frame, T < 0 [s], shape (N,))."""
    t = np.asarray(t_go_s, dtype=float)[..., None]
    r_d, v_d, a_d = (np.asarray(x, dtype=float) for x in (r_d, v_d, a_d))
    return a_d + 6.0 * (v_d + v_apollo) / t + 12.0 * (r_d - r_apollo) / (t * t)


def time_to_go_cubic(
    t_go_s: ArrayLike,
    j_dz: ArrayLike,
    a_dz: ArrayLike,
    v_z: ArrayLike,
    v_dz: ArrayLike,
    r_dz_minus_r_z: ArrayLike,
) -> Array:
    """Left side of the time-to-go cubic J_Dz T³ + 6 A_Dz T² + (6 V_z + 18 V_Dz) T + 24 (R_Dz − R_z)."""
    t = np.asarray(t_go_s, dtype=float)
    c3, c2, c1, c0 = _coefficients(j_dz, a_dz, v_z, v_dz, r_dz_minus_r_z)
    return ((c3 * t + c2) * t + c1) * t + c0


def _coefficients(j_dz, a_dz, v_z, v_dz, r_dz_minus_r_z) -> tuple[Array, Array, Array, Array]:
    c3, c2, c1, c0 = np.broadcast_arrays(
        np.asarray(j_dz, dtype=float),
        6.0 * np.asarray(a_dz, dtype=float),
        6.0 * np.asarray(v_z, dtype=float) + 18.0 * np.asarray(v_dz, dtype=float),
        24.0 * np.asarray(r_dz_minus_r_z, dtype=float),
    )
    return c3, c2, c1, c0


def solve_time_to_go(
    j_dz: ArrayLike,
    a_dz: ArrayLike,
    v_z: ArrayLike,
    v_dz: ArrayLike,
    r_dz_minus_r_z: ArrayLike,
    *,
    t_go_max_s: float = 1.0e6,
    max_iterations: int = 100,
    rel_tol: float = 1.0e-14,
) -> tuple[Array, NDArray[np.bool_]]:
    """The negative root nearest zero of the time-to-go cubic, searched in [−t_go_max_s, 0] [s].

    Returns (T, found): T < 0 [s] (NaN where no root lies in the range) and the mask of solved rows.
    A leading coefficient J_Dz = 0 (and A_Dz = 0) is handled: the cubic degrades to a quadratic (linear).
    """
    c3, c2, c1, c0 = _coefficients(j_dz, a_dz, v_z, v_dz, r_dz_minus_r_z)

    def p(t: Array) -> Array:
        return ((c3 * t + c2) * t + c1) * t + c0

    def dp(t: Array) -> Array:
        return (3.0 * c3 * t + 2.0 * c2) * t + c1

    # Critical points (roots of p' = 3c3 t² + 2c2 t + c1), with the cancellation-free quadratic formula.
    qa, qb, qc = 3.0 * c3, 2.0 * c2, c1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        disc = qb * qb - 4.0 * qa * qc
        q = -0.5 * (qb + np.where(qb >= 0.0, 1.0, -1.0) * np.sqrt(np.maximum(disc, 0.0)))
        crit1 = np.where(qa != 0.0, q / qa, np.where(qb != 0.0, -qc / qb, np.nan))
        crit2 = np.where((qa != 0.0) & (q != 0.0), qc / q, np.nan)
        crit1 = np.where(disc >= 0.0, crit1, np.nan)
        crit2 = np.where(disc >= 0.0, crit2, np.nan)
    # Fujiwara's bound on the roots' magnitudes (of the polynomial's true degree) tightens the search range.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bound3 = 2.0 * np.maximum.reduce(
            [np.abs(c2 / c3), np.sqrt(np.abs(c1 / c3)), np.cbrt(np.abs(c0 / (2.0 * c3)))]
        )
        bound2 = 2.0 * np.maximum(np.abs(c1 / c2), np.sqrt(np.abs(c0 / (2.0 * c2))))
        bound1 = np.abs(c0 / c1)
        bound = np.where(c3 != 0.0, bound3, np.where(c2 != 0.0, bound2, np.where(c1 != 0.0, bound1, 0.0)))
    bound = np.where(np.isfinite(bound), bound, np.inf)
    t_min = -np.minimum(float(t_go_max_s), 1.0 + 1.0001 * bound)

    def breakpoint(c: Array) -> Array:  # a critical point inside (−t_go_max, 0), else 0 (an empty piece)
        return np.where(np.isfinite(c) & (c < 0.0) & (c > t_min), c, 0.0)

    pts = np.stack((np.zeros_like(c0), breakpoint(crit1), breakpoint(crit2), t_min), axis=-1)
    pts = -np.sort(-pts, axis=-1)  # descending: 0 ≥ b1 ≥ b2 ≥ −t_go_max
    found = np.zeros(c0.shape, dtype=bool)
    lo = np.full(c0.shape, np.nan)
    hi = np.full(c0.shape, np.nan)
    for k in range(3):  # the monotone pieces, nearest zero first
        h, lo_k = pts[..., k], pts[..., k + 1]
        change = ~found & (np.sign(p(h)) * np.sign(p(lo_k)) <= 0.0)
        lo = np.where(change, lo_k, lo)
        hi = np.where(change, h, hi)
        found |= change

    def split(lo: Array, hi: Array) -> Array:  # bisection point; geometric when the bracket spans decades
        wide = (hi < 0.0) & (lo < 10.0 * hi)
        return np.where(wide, -np.sqrt(np.abs(lo * hi)), 0.5 * (lo + hi))

    # Safeguarded Newton inside [lo, hi], started from the linear-term estimate T ≈ −c0/c1 when it lies in
    # the bracket (exact when J_Dz = A_Dz = 0); rows freeze once converged.
    with np.errstate(divide="ignore", invalid="ignore"):
        t_lin = -c0 / c1
    x = np.where((t_lin > lo) & (t_lin < hi), t_lin, split(lo, hi))
    x = np.where(p(hi) == 0.0, hi, x)
    f_lo = p(lo)
    done = ~found | (p(x) == 0.0)
    for _ in range(max_iterations):
        if done.all():
            break
        fx = p(x)
        zero = fx == 0.0
        same = np.sign(fx) == np.sign(f_lo)
        active = ~done & ~zero
        lo = np.where(active & same, x, lo)
        f_lo = np.where(active & same, fx, f_lo)
        hi = np.where(active & ~same, x, hi)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = fx / dp(x)
        x_new = x - step
        outside = ~np.isfinite(x_new) | (x_new < lo) | (x_new > hi)
        converged = ~outside & (np.abs(step) <= rel_tol * np.abs(x))
        x_new = np.where(outside, split(lo, hi), x_new)
        x = np.where(active, x_new, x)
        done = done | zero | converged | (hi - lo <= rel_tol * np.abs(x))
    return np.where(found, x, np.nan), found


@dataclass(frozen=True)
class ApolloGuidanceParams:
    """Parameters of the Apollo law besides its targets.

    approach_azimuth_deg: ground-track heading of the approach, clockwise from north [deg]; defines
        downrange. Default 270 (west-bound): Apollo 11 flew in from the east; the exact value is not in
        REFERENCE, so set it from the scenario's trajectory.
    t_go_floor_s: |T| never goes below this in the law's gains (avoids the 1/T² singularity) [s].
    t_go_max_s: the root search range [−t_go_max_s, 0] [s].
    """

    approach_azimuth_deg: float = 270.0
    t_go_floor_s: float = 1.0
    t_go_max_s: float = 1.0e6

    def __post_init__(self) -> None:
        if not math.isfinite(self.approach_azimuth_deg):
            raise InputError("must be finite", where="approach_azimuth_deg")
        if not (self.t_go_floor_s > 0.0 and self.t_go_max_s > self.t_go_floor_s):
            raise InputError(
                f"need 0 < t_go_floor_s < t_go_max_s, got {self.t_go_floor_s}, {self.t_go_max_s}",
                where="t_go_floor_s",
            )


class ApolloQuadraticGuidance:
    """Apollo braking/approach guidance for one phase's targets (REFERENCE §3.4). Stateless.

    Each call solves the time-to-go cubic from the estimated state (nearest negative root), forms A_cmd in
    the apollo frame and returns A_cmd − g in the site frame. ``t_go_s`` is −T (positive) and NaN where the
    cubic has no negative root (the vehicle is past its aim point downrange, or the state is inconsistent
    with the jerk target); those rows fly with T = −t_go_floor_s and report ``complete`` (the phase has
    nothing left to fly), as do rows with |T| ≤ targets.t_go_end_s.
    """

    def __init__(self, targets: PhaseTargets, params: ApolloGuidanceParams | None = None) -> None:
        self.targets = targets
        self.params = params or ApolloGuidanceParams()
        self._azimuth_rad = math.radians(self.params.approach_azimuth_deg)
        self._r_d = np.asarray(targets.r_d_apollo_m)
        self._v_d = np.asarray(targets.v_d_apollo_mps)
        self._a_d = np.asarray(targets.a_d_apollo_mps2)

    def reset(self, n: int) -> None:
        """Nothing to reset: the law keeps no per-trajectory state."""

    def time_to_go(self, r_apollo: Array, v_apollo: Array) -> tuple[Array, NDArray[np.bool_]]:
        """Luminary time to go T < 0 [s] (N,) and the solved mask, from apollo-frame state."""
        tg = self.targets
        return solve_time_to_go(
            tg.j_dz_mps3,
            tg.a_d_apollo_mps2[2],
            v_apollo[:, 2],
            tg.v_d_apollo_mps[2],
            tg.r_d_apollo_m[2] - r_apollo[:, 2],
            t_go_max_s=self.params.t_go_max_s,
        )

    def command(self, t_s: ArrayLike, r_site: Array, v_site: Array, g_site: Array) -> GuidanceCommand:
        """Thrust acceleration A_cmd − g [m/s²] in the site frame; ``t_s`` is unused (T comes from state)."""
        r_site, v_site, g_site = check_state(r_site, v_site, g_site)
        r_ap = site_to_apollo(r_site, self._azimuth_rad)
        v_ap = site_to_apollo(v_site, self._azimuth_rad)
        t_go, found = self.time_to_go(r_ap, v_ap)
        t_law = np.where(found, np.minimum(t_go, -self.params.t_go_floor_s), -self.params.t_go_floor_s)
        a_cmd_ap = quadratic_acceleration(t_law, r_ap, v_ap, self._r_d, self._v_d, self._a_d)
        a_thrust_site = apollo_to_site(a_cmd_ap, self._azimuth_rad) - g_site
        # past the aim point (no root) the law has nothing left to fly: the phase is over too
        complete = ~found | (-t_go <= self.targets.t_go_end_s)
        return GuidanceCommand(a_thrust_site, -t_go, complete)
