"""Imported once by the server that local campaign workers fork from (:mod:`touchdown.campaign.workers`):
what every worker needs, so that each fork starts with it loaded."""

from __future__ import annotations

import distributed  # noqa: F401  the worker itself
import numpy as np

from touchdown.campaign import runner  # noqa: F401  the flight: vehicle, sensors, flight software, terrain
from touchdown.noise import uniform

# a process's first compiled call loads numba's typing and lowering registries (≈ 0.5 s): once, here
uniform(np.zeros(1, np.uint64), 0, 0)
