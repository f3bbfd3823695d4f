"""Ray casting against a terrain: what a laser altimeter's beam sees.

``raycast(terrain, origin_mcmf, direction_mcmf)`` returns the range [m] along each ray to its first crossing
of the terrain surface, NaN when there is none within ``max_range_m``.

Method: conservative marching on the height above terrain ``g(p) = |p| − R_MOON − h(lat, lon)``.
Write the ray as p(t) = o + t û, with ρ = |p| and α the angle between û and the local vertical. Along the
ray, ``dg/dt = dρ/dt − (horizontal part of û) · ∇h · R/ρ``, and
* dρ/dt = p̂ · û only grows along a straight line (ρ(t) is convex: d²ρ/dt² = (1 − (p̂ · û)²)/ρ ≥ 0), so the
  radius falls at most at the rate ``f = max(−p̂ · û, 0)`` it falls at the current point (1 for a nadir ray,
  sin β for a ray β below the horizontal, 0 for a rising one);
* the horizontal part of û is at most ``sin α₀ + t/ρ_lo`` after a distance t (the local vertical turns by at
  most t/ρ_lo radians), where ρ_lo = ρ − g = R + h(p) bounds ρ from below over the step (the radius falls
  at most f·t ≤ g over a step t ≤ g/f);
* |∇h| ≤ L per metre of datum arc, i.e. ≤ L·R/ρ_lo per metre at radius ≥ ρ_lo. L is the terrain's bound
  over the points the ray can reach within ``max_range_m`` (``ray_slope_bound``: a DEM's largest patch
  bound within reach of any point of the origin's patch, kept per patch; 0.16–0.37 along the Mare Frigoris
  descent against its latitude band's 0.6 and LDEM_4's global 19.4, set by the polar rows), else its
  global ``max_slope``; or, for a terrain offering local terms, the bound below.
So over a step of at most ``STEP_MAX_G · g`` the height g falls at most at rate
``k = f + (sin α₀ + STEP_MAX_G · g/ρ_lo) · L · R/ρ_lo``, and the step ``t = g / max(k, 1/STEP_MAX_G)`` cannot
cross the surface. For a nadir ray k ≈ 1 (the step is nearly the whole height); a slanted ray over gentle
ground steps ≈ g / sin β, close to where it meets the ground; k grows with L.

Local terms. A terrain may instead offer ``local_slope_terms(lat, lon, reach_m)`` (synthetic terrain):
additive terms (slope_k, span_k) such that along any ground path of length s ≤ reach_m from the point, h
changes by at most Σ_k min(slope_k · s, span_k) — each component (a named crater, one class and layer of
the random craters) is slope_k-Lipschitz near the point and varies by at most span_k there. Over a step of
length t ≤ g the ground track is at most c · t long, ``c = (sin α₀ + g/ρ_lo) · R/ρ_lo``, so it stays in the
disc of reach c · g, and g falls by at most ``φ(t) = t + Σ_k min(slope_k · c · t, span_k)``. The step is the
root of φ(t) = g (:func:`safe_step`), which is never shorter than g/k with L = Σ slope_k; rays whose
global step g/k is already more than g/``LOCAL_ABOVE_K`` (nadir rays) keep it and spare the query. The
choice, like the terms, depends on the ray alone. The terms are
those of the ground near the ray, not of the whole terrain: a synthetic crater field's global bound adds
the steepest crater of each of its ~25 classes and layers (≈ 25 m/m), whereas near one point only a few
craters reach, and small craters, though steep, cannot lower the ground by more than their depth. A 30°
beam from 5 km over the synthetic Atlas floor takes 15 iterations instead of 178.

Near the surface the conservative step shrinks geometrically; once it is below ``tol_m`` the march takes
steps of ``tol_m`` instead, so the first sample below the surface brackets the crossing within ``tol_m``;
the range is then the linear interpolation of g across that bracket, refined by ``refine`` regula-falsi
(Illinois) iterations (default 1). Accuracy: the crossing lies in the final bracket, whose width ≤ ``tol_m``
(default 1 cm), and the interpolation brings the error well below it (≈ g''·tol²/8 before refining: 10⁻¹⁰ m on
LDEM_4's 7.6 km patches). The only features that can be missed are ones
narrower than ``tol_m`` that the ray grazes within ``tol_m·(1 + L)`` of the surface.

Worst case: each iteration advances t by at least ``min(g/max(k, 1/STEP_MAX_G), tol_m)``; the iteration
count is capped by ``max_iter`` (rays still unresolved then return NaN and are counted in
``RaycastStats.unresolved``). For a ray at elevation β below the horizontal over terrain of slope bound L,
g shrinks by a factor ≈ (1 − sin β / k) per step, k ≈ sin β + L cos β, so about
``ln(g₀/tol) / −ln(1 − sin β / k)`` iterations: a 30° beam over Mare Frigoris (L ≈ 0.16) about 9 from 5 km,
on the latitude band's bound (0.6) 20.
A ray starting below the surface (g ≤ 0) returns range 0.

Falling rays search instead. Over the whole reach [0, s] (s = ``max_range_m``) the radius stays above
ρ_lo = ρ₀ − f₀ s (convexity), so dρ/dt ≤ −f₀ + t/ρ_lo and the ground track moves at most
(sin α₀ + t/ρ_lo)·R/ρ_lo datum metres per metre of ray:
``−dg/dt ≥ D = f₀ − s/ρ_lo − (sin α₀ + s/ρ_lo)·L·R/ρ_lo`` everywhere on the ray (``kernels._fall_bound``).
Where D > 0 — the ray falls faster than the steepest ground within reach can rise: over Mare Frigoris
(L ≈ 0.16) any ray from ≈ 10° below the horizontal to nadir — g falls strictly all along the ray, which
crosses the surface at most once: any point below the surface brackets *the* crossing, and no
conservative step is needed. Such a ray steps by the secant through its last two points above the
surface (the first step: g₀/f₀, as over flat ground; the slope never below D) plus ``tol_m``, up to
``max_range_m`` (still above there: no crossing); once a point lies below, by Illinois regula falsi in the
bracket. It stops where |g| ≤ SEARCH_TOL·``tol_m``·D (the range is then within SEARCH_TOL·``tol_m`` =
10⁻⁸ m of the crossing) or the bracket is at most ``tol_m`` wide (then interpolated as the march's). Over
the nominal descent a beam that hits takes 4.4 terrain queries instead of 8.7 (the origin's, shared by
the beams, counted per beam), with ranges within 10 nm of the march's; ``RaycastStats.searched`` counts
the rays that searched.

Implementation. Over a :class:`~touchdown.moon.terrain.dem.Dem` held in memory the march runs in a numba
kernel (:func:`~touchdown.moon.terrain.kernels.march_dem`: the operations below, ray by ray, the rays still
marching or searching advancing together so that each step's atan2 is one call of numpy's loop); every
other terrain takes the numpy march below. Both give the same bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.moon.constants import R_MOON
from touchdown.moon.terrain.base import Terrain
from touchdown.moon.terrain.dem import Dem
from touchdown.moon.terrain.kernels import (
    _FOUND,
    _MISSED,
    _NO_ANSWER,
    _SEARCHING,
    ATAN2,
    SEARCH_TOL,
    STEP_MAX_G,
    dem_incidence_cos,
    march_dem,
)

Array = NDArray[np.float64]

#: Default maximum range [m].
MAX_RANGE_M = 100_000.0
#: Default bracket width [m] at which marching stops being conservative.
TOL_M = 0.01
#: Default cap on marching iterations.
MAX_ITER = 5_000
#: Bands of sin(latitude) over which a DEM's highest point is tabulated for the out-of-reach test.
TOP_BANDS = 4096
_NO_TOP = np.empty(0)
#: With local terms on offer, a ray whose global-bound step is shorter than g / LOCAL_ABOVE_K marches on
#: them (a local-terms query costs a few height queries: nadir rays, whose k ≈ 1, need none).
LOCAL_ABOVE_K = 2.0


@dataclass
class RaycastStats:
    """Diagnostics of one :func:`raycast` call."""

    iterations: int = 0  # marching iterations of the slowest ray
    evaluations: int = 0  # terrain point queries in total
    unresolved: int = 0  # rays that hit ``max_iter`` (returned NaN)
    searched: int = (
        0  # rays whose height above the terrain falls all along their reach: searched, not marched
    )


def _g(terrain: Terrain, p: Array) -> tuple[Array, Array]:
    """Height above the terrain g [m] and radius [m] of the Moon-fixed points p (N, 3) [m]."""
    return _g_xyz(terrain, p[:, 0], p[:, 1], p[:, 2])


def _g_xyz(terrain: Terrain, x: Array, y: Array, z: Array) -> tuple[Array, Array]:
    """:func:`_g` of the points with Moon-fixed components x, y, z [m] (the same operations)."""
    rxy = np.sqrt(x * x + y * y)  # not hypot (≈ 10× slower in the kernel); no overflow at lunar radii
    alt = np.sqrt(rxy * rxy + z * z) - R_MOON
    return alt - terrain.height(np.arctan2(z, rxy), np.arctan2(y, x)), alt + R_MOON


def _reach_rad(max_range_m: float) -> float:
    """Largest angle [rad] between a ray's origin and the points it marches within ``max_range_m``.

    Every such point lies within D = ``max_range_m`` of the origin, so its angle from the origin's position
    is at most (π/2)·D/r_min (chord ≥ 2 r_min sin(θ/2) ≥ (2/π) r_min θ), with r_min below the lowest radius
    the terrain reaches."""
    r_min = R_MOON - 20_000.0  # below the lowest point of the Moon (≈ −9.1 km)
    return min(math.pi, 0.5 * math.pi * max_range_m / r_min) + 1e-6


def _slope_bounds(terrain: Terrain, o: Array, max_range_m: float) -> Array:
    """Slope bound L (N,) [m/m] per ray: the terrain's bound over the points the ray can reach
    (:func:`_reach_rad`) where the terrain offers one (``ray_slope_bound``: a DEM), else its global
    ``max_slope``. The bound depends on the ray alone, never on its batch."""
    around = getattr(terrain, "ray_slope_bound", None)
    if around is None or not np.isfinite(max_range_m):
        return np.full(o.shape[0], float(terrain.max_slope))
    lat = np.arctan2(o[:, 2], np.sqrt(o[:, 0] * o[:, 0] + o[:, 1] * o[:, 1]))  # as _g_xyz
    lon = np.arctan2(o[:, 1], o[:, 0])
    return np.asarray(around(lat, lon, _reach_rad(max_range_m)), dtype=np.float64)


def safe_step(g: Array, rate: Array, span: Array) -> Array:
    """Longest step t (N,) [m] with ``t + Σ_k min(rate_k · t, span_k) ≤ g`` (rate, span: (K, N)).

    The left side, φ(t), bounds how much the height above terrain can fall over a step t (module docstring);
    it is concave and piecewise linear. For any set S of terms taken as saturated,
    ``ℓ_S(t) = t (1 + Σ_{k∉S} rate_k) + Σ_{k∈S} span_k ≥ φ(t)``, so the root of ℓ_S is a safe step
    whatever S. The largest of these roots, over the sets of the terms saturating first (sorted by
    span/rate), is φ's own root. Rounding can pick a slightly smaller S-root, never an unsafe one."""
    n = g.shape[0]
    active = (rate > 0.0) & (span > 0.0)
    rate = np.where(active, rate, 0.0)
    span = np.where(active, span, 0.0)
    tau = np.where(active, span / np.where(active, rate, 1.0), np.inf)  # where term k saturates
    order = np.argsort(tau, axis=0, kind="stable")  # per ray, its own terms only
    rate = np.take_along_axis(rate, order, axis=0)
    span = np.take_along_axis(span, order, axis=0)
    zero = np.zeros((1, n))
    span_before = np.cumsum(np.concatenate([zero, span]), axis=0)  # j = 0…K: the first j terms saturated
    rate_after = np.concatenate([np.cumsum(rate[::-1], axis=0)[::-1], zero])  # and the rest linear
    return np.max((g - span_before) / (1.0 + rate_after), axis=0)


def raycast(
    terrain: Terrain,
    origin_mcmf: ArrayLike,
    direction_mcmf: ArrayLike,
    max_range_m: float = MAX_RANGE_M,
    *,
    tol_m: float = TOL_M,
    max_iter: int = MAX_ITER,
    refine: int = 1,
    stats: RaycastStats | None = None,
) -> Array:
    """Range [m] from each origin (N, 3) [m, Moon-fixed] along each direction (N, 3) to the terrain, or NaN.

    ``direction_mcmf`` need not be unit length. See the module docstring for the method and its accuracy.
    """
    o = np.asarray(origin_mcmf, dtype=np.float64)
    d = np.asarray(direction_mcmf, dtype=np.float64)
    if o.ndim < 2 or o.shape != d.shape:
        o, d = np.broadcast_arrays(np.atleast_2d(o), np.atleast_2d(d))
    shape = o.shape[:-1]
    o = np.array(o.reshape(-1, 3), order="C")  # contiguous copies: bits independent of caller's strides
    u = np.array(d.reshape(-1, 3), order="C")
    st = stats if stats is not None else RaycastStats()

    kernel_grid = terrain.kernel_grid if isinstance(terrain, Dem) else None
    if kernel_grid is not None:  # a DEM in memory: the numba kernel, the same bits as the numpy march below
        # the bound over all latitudes (180°) is the global max_slope
        span_deg = math.degrees(_reach_rad(max_range_m)) if np.isfinite(max_range_m) else 180.0
        top = _NO_TOP
        if np.isfinite(max_range_m):  # rays staying high above the ground within range: no query
            top = terrain.max_height_by_sine(
                TOP_BANDS, math.ceil(_reach_rad(max_range_m) * TOP_BANDS / 2) + 1
            )
        out, it, evaluations, unresolved, searched = march_dem(
            o,
            u,
            *kernel_grid,
            *terrain._slope_pyramid,
            terrain._patch_slope_bounds,
            *terrain._ray_slope_memo(span_deg),
            span_deg,
            float(max_range_m),
            float(tol_m),
            int(max_iter),
            int(refine),
            ATAN2,
            top,
        )
        st.iterations = max(st.iterations, it)
        st.evaluations += evaluations
        st.unresolved += unresolved
        st.searched += searched
        return out.reshape(shape)

    u = u / np.sqrt(np.sum(u * u, axis=-1))[:, None]
    n = o.shape[0]
    lip = _slope_bounds(terrain, o, max_range_m)
    out = np.full(n, np.nan)
    g, rho = _g(terrain, o)
    local = getattr(terrain, "local_slope_terms", None)
    st.evaluations += n
    out[g <= 0.0] = 0.0
    # per ray, the last step's bracket: t_prev (g_prev > 0) → t (g_cur); NaN g_cur: no crossing found
    t = np.zeros(n)
    t_prev = np.zeros(n)
    g_prev = np.full(n, np.nan)
    g_cur = np.full(n, np.nan)
    searched = np.zeros(n, dtype=bool)  # found by the search (no refinement)
    # the rays still at work, compacted as rays finish: components of origin, direction and current point
    live = np.flatnonzero(g > 0.0)
    ox, oy, oz = (o[live, c] for c in range(3))
    ux, uy, uz = (u[live, c] for c in range(3))
    t_a = np.zeros(live.size)
    g_a, rho_a, lip_a = g[live], rho[live], lip[live]
    px, py, pz = ox + t_a * ux, oy + t_a * uy, oz + t_a * uz
    # falling rays search (kernels._search_point): their point above the surface is t_a, g_a
    fall0, d_min = _fall_bounds(ox, oy, oz, ux, uy, uz, rho_a, lip_a, max_range_m)
    srch = d_min > 0.0
    st.searched += int(np.count_nonzero(srch))
    g_stop = (SEARCH_TOL * tol_m) * d_min
    tp_a, gp_a = np.zeros(live.size), np.full(live.size, np.nan)  # the point above before t_a
    th_a, gh_a = np.zeros(live.size), np.full(live.size, np.nan)  # the point below (NaN: none yet)
    side_a = np.zeros(live.size, dtype=np.int64)
    it = 0
    while live.size and it < max_iter:
        it += 1
        cos_v = (px * ux + py * uy + pz * uz) / rho_a
        sin_a = np.sqrt(np.maximum(0.0, 1.0 - cos_v * cos_v))
        rho_lo = np.maximum(rho_a - g_a, 1.0)
        fall = np.maximum(-cos_v, 0.0)
        k = np.maximum(fall + (sin_a + STEP_MAX_G * g_a / rho_lo) * lip_a * R_MOON / rho_lo, 1.0 / STEP_MAX_G)
        step = g_a / k
        if local is not None:
            # rays the global bound slows (k > LOCAL_ABOVE_K) march on the local terms instead
            j = np.flatnonzero((k > LOCAL_ABOVE_K) & ~srch)
            if j.size:
                # ground track [datum m] per metre along the ray, over a step of at most g
                c = (sin_a[j] + g_a[j] / rho_lo[j]) * R_MOON / rho_lo[j]
                lat_j = np.arctan2(pz[j], np.sqrt(px[j] * px[j] + py[j] * py[j]))
                slope, span = local(lat_j, np.arctan2(py[j], px[j]), g_a[j] * c)
                step[j] = np.maximum(step[j], safe_step(g_a[j], slope * c, span))
        t_new = t_a + np.maximum(step, tol_m)
        if srch.any():
            t_new = np.where(
                srch,
                _search_points(t_a, g_a, tp_a, gp_a, th_a, gh_a, fall0, d_min, tol_m, max_range_m),
                t_new,
            )
        px, py, pz = ox + t_new * ux, oy + t_new * uy, oz + t_new * uz
        g_new, rho_new = _g_xyz(terrain, px, py, pz)
        st.evaluations += live.size
        done = ~srch & ((g_new <= 0.0) | (t_new > max_range_m))  # crossed, or beyond the maximum range
        if done.any():
            ray = live[done]
            t_prev[ray], g_prev[ray] = t_a[done], g_a[done]
            t[ray], g_cur[ray] = t_new[done], g_new[done]
        if srch.any():
            state, s_t, s_g, tp_a, gp_a, th_a, gh_a, side_a = _search_updates(
                t_new, g_new, t_a, g_a, tp_a, gp_a, th_a, gh_a, side_a, g_stop, tol_m, max_range_m
            )
            state = np.where(srch, state, _SEARCHING)
            found = state == _FOUND
            if found.any():
                ray = live[found]
                t_prev[ray], g_prev[ray] = tp_a[found], gp_a[found]
                t[ray], g_cur[ray] = th_a[found], gh_a[found]
                searched[ray] = True
            st.unresolved += int(np.count_nonzero(state == _NO_ANSWER))
            done |= state != _SEARCHING
            t_new, g_new = np.where(srch, s_t, t_new), np.where(srch, s_g, g_new)
        if done.any():
            keep = ~done
            live = live[keep]
            ox, oy, oz, ux, uy, uz = ox[keep], oy[keep], oz[keep], ux[keep], uy[keep], uz[keep]
            px, py, pz, lip_a = px[keep], py[keep], pz[keep], lip_a[keep]
            t_new, g_new, rho_new = t_new[keep], g_new[keep], rho_new[keep]
            srch, fall0, d_min, g_stop = srch[keep], fall0[keep], d_min[keep], g_stop[keep]
            tp_a, gp_a, th_a, gh_a, side_a = tp_a[keep], gp_a[keep], th_a[keep], gh_a[keep], side_a[keep]
        t_a, g_a, rho_a = t_new, g_new, rho_new
    st.iterations = max(st.iterations, it)
    st.unresolved += int(live.size)  # unresolved rays keep g_cur = NaN: no answer

    hit = np.flatnonzero((g_cur <= 0.0) & np.isnan(out))
    if hit.size:
        a, b = t_prev[hit], t[hit]
        ga, gb = g_prev[hit], g_cur[hit]
        marched = ~searched[hit]
        m = np.flatnonzero(marched)
        for _ in range(
            refine if m.size else 0
        ):  # Illinois regula falsi in the bracket [a, b], g(a) > 0 ≥ g(b)
            c = np.clip(b[m] - gb[m] * (b[m] - a[m]) / (gb[m] - ga[m]), a[m], b[m])
            gc, _ = _g(terrain, o[hit[m]] + c[:, None] * u[hit[m]])
            st.evaluations += m.size
            above = gc > 0.0
            a[m], ga[m] = np.where(above, c, a[m]), np.where(above, gc, 0.5 * ga[m])
            b[m], gb[m] = np.where(above, b[m], c), np.where(above, 0.5 * gb[m], gc)
        with np.errstate(invalid="ignore", divide="ignore"):  # gb == ga (a search's exact hit) takes b
            r = np.where(gb == ga, b, b - gb * (b - a) / (gb - ga))
        r = np.clip(r, a, b)
        out[hit] = np.where(r <= max_range_m, r, np.nan)
    return out.reshape(shape)


def _fall_bounds(
    ox: Array,
    oy: Array,
    oz: Array,
    ux: Array,
    uy: Array,
    uz: Array,
    rho0: Array,
    lip: Array,
    max_range_m: float,
) -> tuple[Array, Array]:
    """(f₀, D) per ray: kernels._fall_bound in the same operations."""
    if not math.isfinite(max_range_m):
        return np.zeros(ox.size), np.zeros(ox.size)
    cos_v = (ox * ux + oy * uy + oz * uz) / rho0
    fall = np.maximum(-cos_v, 0.0)
    sin_a = np.sqrt(np.maximum(0.0, 1.0 - cos_v * cos_v))
    rho_lo = np.maximum(rho0 - fall * max_range_m, 1.0)
    turn = max_range_m / rho_lo
    return fall, fall - turn - (sin_a + turn) * lip * R_MOON / rho_lo


def _search_points(
    t: Array,
    g: Array,
    t_prev: Array,
    g_prev: Array,
    t_hit: Array,
    g_hit: Array,
    fall0: Array,
    d_min: Array,
    tol_m: float,
    max_range_m: float,
) -> Array:
    """kernels._search_point per ray, in the same operations (rays that do not search give junk)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(np.isnan(g_prev), fall0, np.maximum((g_prev - g) / (t - t_prev), d_min))
        above = np.minimum(t + (g / slope + tol_m), max_range_m)
        falsi = np.clip(t_hit - g_hit * (t_hit - t) / (g_hit - g), t, t_hit)
    return np.where(np.isnan(g_hit), above, falsi)


def _search_updates(
    tn: Array,
    gn: Array,
    t: Array,
    g: Array,
    t_prev: Array,
    g_prev: Array,
    t_hit: Array,
    g_hit: Array,
    side: Array,
    g_stop: Array,
    tol_m: float,
    max_range_m: float,
) -> tuple[Array, ...]:
    """kernels._search_update per ray, in the same operations: (state, t, g, t_prev, g_prev, t_hit, g_hit,
    side)."""
    state = np.full(tn.size, _SEARCHING, dtype=np.int64)
    unbracketed = np.isnan(g_hit)
    no_answer = np.isnan(gn)
    on_surface = ~no_answer & (np.abs(gn) <= g_stop)
    rest = ~no_answer & ~on_surface
    rise = rest & unbracketed & (gn > 0.0)  # still above the surface, nothing below it yet
    missed = rise & (tn >= max_range_m)
    rise &= ~missed
    upper = rest & ~unbracketed & (gn > 0.0)  # bracketed: the new point replaces the upper end
    lower = rest & ~(unbracketed & (gn > 0.0)) & ~upper  # the first point below, or the lower end
    t_prev = np.where(rise, t, t_prev)
    g_prev = np.where(rise, g, g_prev)
    g_hit = np.where(upper & (side > 0), 0.5 * g_hit, g_hit)
    g = np.where(lower & ~unbracketed & (side < 0), 0.5 * g, g)
    t = np.where(rise | upper, tn, t)
    g = np.where(rise | upper, gn, g)
    t_hit = np.where(lower, tn, t_hit)
    g_hit = np.where(lower, gn, g_hit)
    side = np.where(upper, 1, np.where(lower, -1, side))
    narrow = (upper | lower) & (t_hit - t <= tol_m)
    t_prev = np.where(narrow, t, t_prev)
    g_prev = np.where(narrow, g, g_prev)
    t_prev = np.where(on_surface, tn, t_prev)
    t_hit = np.where(on_surface, tn, t_hit)
    g_prev = np.where(on_surface, 0.0, g_prev)
    g_hit = np.where(on_surface, 0.0, g_hit)
    g_hit = np.where(no_answer, np.nan, g_hit)
    state[narrow | on_surface] = _FOUND
    state[missed] = _MISSED
    state[no_answer] = _NO_ANSWER
    return state, t, g, t_prev, g_prev, t_hit, g_hit, side


def incidence_cos(terrain: Terrain, origin_mcmf: Array, direction_mcmf: Array, range_m: Array) -> Array:
    """Cosine of the angle between each ray (…, 3) [m, Moon-fixed; direction of any length] and the terrain's
    outward normal at its hit point ``origin + range · direction`` (range (…) [m]); NaN where the range is
    not finite (no hit). A DEM in memory answers in a kernel, with the same bits."""
    kernel_grid = terrain.kernel_grid if isinstance(terrain, Dem) else None
    if kernel_grid is not None:
        o = np.ascontiguousarray(origin_mcmf, dtype=np.float64)
        u = np.ascontiguousarray(direction_mcmf, dtype=np.float64)
        r = np.ascontiguousarray(range_m, dtype=np.float64)
        cos_inc = dem_incidence_cos(o.reshape(-1, 3), u.reshape(-1, 3), r.reshape(-1), *kernel_grid, ATAN2)
        return cos_inc.reshape(r.shape)
    o = np.asarray(origin_mcmf, dtype=np.float64)
    d = np.asarray(direction_mcmf, dtype=np.float64)
    hit = np.isfinite(range_m)
    p = o + np.where(hit, range_m, 0.0)[..., None] * d
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    rxy = np.sqrt(x * x + y * y)
    rho = np.sqrt(rxy * rxy + z * z)
    _, de, dn = terrain.height_gradient(np.arctan2(z, rxy), np.arctan2(y, x))
    # base.surface_normal_mcmf, with the sines and cosines of latitude and longitude from the coordinates
    pole = rxy == 0.0
    safe = np.where(pole, 1.0, rxy)
    slat, clat = z / rho, rxy / rho
    slon, clon = np.where(pole, 0.0, y / safe), np.where(pole, 1.0, x / safe)
    n0 = clat * clon - de * -slon - dn * (-slat * clon)
    n1 = clat * slon - de * clon - dn * (-slat * slon)
    n2 = slat - de * 0.0 - dn * clat
    scale = np.sqrt(1.0 + de * de + dn * dn)
    n0, n1, n2 = n0 / scale, n1 / scale, n2 / scale
    d0, d1, d2 = d[..., 0], d[..., 1], d[..., 2]
    cos_inc = -(d0 * n0 + d1 * n1 + d2 * n2) / np.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
    return np.where(hit, cos_inc, np.nan)
