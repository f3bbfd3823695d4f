"""The one small interface every guidance law implements, and the command it returns.

Guidance sees only the navigation estimate (ARCHITECTURE rule 1). It works in the **landing-site frame**
``site``: east-north-up at the target site, origin on the target's surface point, the datum at the target's
terrain height (x east, y north, z up) [m]. Every array has a leading batch axis N (rule 2).

A law returns the commanded **thrust acceleration** ``a_thrust_site`` = A_cmd − g [m/s²]: the specific force
the engines must provide. Control (elsewhere) turns it into attitude and throttle and applies the limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.errors import InputError

Array = NDArray[np.float64]


@dataclass(frozen=True)
class GuidanceCommand:
    """What a guidance law asks for, per trajectory.

    a_thrust_site: (N, 3) commanded thrust acceleration in the site frame [m/s²] (A_cmd − g).
    t_go_s:        (N,) time to go to the law's aim point [s], positive; NaN where the law has none.
    complete:      (N,) bool, the phase's end condition is met (the sequencer decides what follows).
    """

    a_thrust_site: Array
    t_go_s: Array
    complete: NDArray[np.bool_]


@runtime_checkable
class GuidanceLaw(Protocol):
    """A guidance law: ``reset`` once per phase entry, then ``command`` at the guidance rate.

    ``command`` must be batch-first and deterministic: row i of the outputs depends only on row i of the
    inputs and on the law's documented per-trajectory state. The built-in laws are stateless (``reset``
    does nothing), so a sequencer may call them on any subset of trajectories.

    Optional class attributes a law may declare: ``frame = "local"`` to be given the state in the local
    east-north-up frame below the vehicle (r = (0, 0, altitude above the believed terrain)) instead of the
    site frame, and ``uses_thrust_capability = True`` to be called with ``a_max_mps2`` (N,), the flight
    software's estimate of the largest thrust acceleration the enabled engines give [m/s²].
    """

    def reset(self, n: int) -> None:
        """Prepare per-trajectory state for a batch of ``n`` trajectories."""
        ...

    def command(self, t_s: ArrayLike, r_site: Array, v_site: Array, g_site: Array) -> GuidanceCommand:
        """Thrust-acceleration command from the estimated state.

        t_s: time [s], scalar or (N,); r_site (N, 3) [m], v_site (N, 3) [m/s]: estimated position and
        velocity in the site frame; g_site (N, 3) [m/s²]: gravity at r_site from the caller's model.
        """
        ...


def check_state(r_site: ArrayLike, v_site: ArrayLike, g_site: ArrayLike) -> tuple[Array, Array, Array]:
    """Validate and return (r_site, v_site, g_site) as float (N, 3) arrays of one batch size."""
    out = []
    for name, a in (("r_site", r_site), ("v_site", v_site), ("g_site", g_site)):
        arr = np.asarray(a, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise InputError(f"must have shape (N, 3), got {arr.shape}", where=name)
        out.append(arr)
    if not out[0].shape == out[1].shape == out[2].shape:
        shapes = ", ".join(str(a.shape) for a in out)
        raise InputError(f"batch sizes differ: {shapes}", where="guidance state")
    return out[0], out[1], out[2]
