"""Control: turn a commanded thrust-acceleration vector into RCS torques, engine on/off and throttles."""

from touchdown.fsw.control.attitude import AttitudeControlParams, attitude_torque
from touchdown.fsw.control.throttle import ThrottleAllocator

__all__ = ["AttitudeControlParams", "ThrottleAllocator", "attitude_torque"]
