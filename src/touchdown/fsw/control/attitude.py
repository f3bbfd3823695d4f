"""Thrust-vector pointing: RCS torque that turns the engines' thrust axis onto a commanded direction.

Cascaded proportional loops on the estimated attitude and rate (belief, never truth): the pointing error
θ (the rotation taking the body thrust axis onto the commanded direction) commands a body rate
ω_cmd = K_att θ, saturated at ``max_rate_deg_s``; the rate loop asks τ = I K_rate (ω_cmd − ω) + ω × Iω.
With K_rate = 2ζω_n and K_att = ω_n/(2ζ), small errors close as θ̈ + 2ζω_n θ̇ + ω_n² θ = 0. Roll about the
thrust axis is not steered, only damped (its rate command is zero). The RCS saturates the torque.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.fsw.control import _kernels
from touchdown.moon.frames import QUAT_CONJUGATE, cross, dot, quat_conjugate, quat_rotate

Array = NDArray[np.float64]


def _rows(a: object, width: int) -> bool:
    """A 2-D float64 array of ``width`` columns (one row per trajectory): the compiled path."""
    return type(a) is np.ndarray and a.ndim == 2 and a.shape[1] == width and a.dtype == np.float64


@dataclass(frozen=True)
class AttitudeControlParams:
    """Pointing-loop design (assumed defaults; tune per vehicle)."""

    bandwidth_rad_s: float = 1.0  # closed-loop natural frequency ω_n
    damping: float = 0.8  # ζ
    max_rate_deg_s: float = 10.0  # slew-rate limit (Chandrayaan-2 hit its software's limits, REFERENCE §3.5)

    @property
    def k_rate(self) -> float:
        return 2.0 * self.damping * self.bandwidth_rad_s

    @property
    def k_att(self) -> float:
        return self.bandwidth_rad_s / (2.0 * self.damping)


def pointing_error(q_body_to_ref: Array, thrust_axis_body: ArrayLike, direction_ref: Array) -> Array:
    """Rotation vector θ (N, 3) [rad], body axes, turning the thrust axis onto ``direction_ref``.

    ``q_body_to_ref`` is the (estimated) attitude relative to the frame in which ``direction_ref`` (unit,
    (N, 3)) is expressed. At exactly 180° the rotation axis is taken as body x.
    """
    axis_b = np.broadcast_to(np.asarray(thrust_axis_body, dtype=float), direction_ref.shape)
    if (
        _rows(q_body_to_ref, 4)
        and _rows(direction_ref, 3)
        and q_body_to_ref.shape[0] == direction_ref.shape[0]
    ):
        e, s, c = _kernels.pointing_geometry(q_body_to_ref, QUAT_CONJUGATE, axis_b, direction_ref)
        return _kernels.pointing_vector(e, s, np.arctan2(s, c))
    d_b = quat_rotate(quat_conjugate(q_body_to_ref), direction_ref)
    e = cross(axis_b, d_b)
    s = np.sqrt(dot(e, e))
    angle = np.arctan2(s, dot(axis_b, d_b))
    fallback = np.zeros_like(e)
    fallback[..., 0] = 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(
            (s > 1e-12)[..., None], e / s[..., None], np.where((angle > 1.0)[..., None], fallback, 0.0)
        )
    return u * angle[..., None]


def attitude_torque(
    q_body_to_ref: Array,
    w_body: Array,
    direction_ref: Array,
    thrust_axis_body: ArrayLike,
    inertia_body: ArrayLike,
    params: AttitudeControlParams = AttitudeControlParams(),
) -> tuple[Array, Array]:
    """RCS torque demand (N, 3) [N·m] and pointing error angle (N,) [rad].

    ``q_body_to_ref``, ``w_body`` [rad/s] are the navigation estimates; ``inertia_body`` the principal
    inertias (3,) or (N, 3) [kg·m²] the flight software believes.
    """
    theta = pointing_error(q_body_to_ref, thrust_axis_body, direction_ref)
    w_max = np.radians(params.max_rate_deg_s)
    inertia = np.asarray(inertia_body, dtype=float)
    if (
        _rows(theta, 3)
        and _rows(w_body, 3)
        and theta.shape[0] == w_body.shape[0]
        and inertia.shape[-1:] == (3,)
    ):
        inertia_rows = np.broadcast_to(inertia, theta.shape)
        return _kernels.rate_loop_torque(
            theta, w_body, inertia_rows, params.k_att, params.k_rate, float(w_max)
        )
    w_cmd = params.k_att * theta
    mag = np.sqrt(dot(w_cmd, w_cmd))
    w_cmd = w_cmd * np.minimum(1.0, w_max / np.maximum(mag, 1e-300))[..., None]
    torque = inertia * params.k_rate * (w_cmd - w_body) + cross(w_body, inertia * w_body)
    return torque, np.sqrt(dot(theta, theta))
