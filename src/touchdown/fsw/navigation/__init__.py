"""Navigation: what the lander believes about where it is, from its sensors only.

``onboard_map``  the flight software's terrain knowledge (flat reference or an onboard DEM)
``gating``       measurement gating policies: ``none``, ``latch`` (HAKUTO-R M1), ``robust``
``ekf``          the extended Kalman filter (position, velocity, map offset) and attitude from star tracker
                 and gyro

See docs/navigation.md.
"""

from touchdown.fsw.navigation.ekf import NavigationFilter, NavParams
from touchdown.fsw.navigation.gating import GATING_POLICIES, Gate, GateParams
from touchdown.fsw.navigation.onboard_map import OnboardMap

__all__ = ["GATING_POLICIES", "Gate", "GateParams", "NavParams", "NavigationFilter", "OnboardMap"]
