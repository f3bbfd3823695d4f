"""Guidance laws: one small interface (``GuidanceLaw``), four laws, and the Apollo 11 targets.

Every law works in the landing-site ENU frame on the navigation estimate and returns the thrust
acceleration the engines must provide (``GuidanceCommand``). See docs/guidance.md.
"""

from touchdown.fsw.guidance.apollo import (
    ApolloGuidanceParams,
    ApolloQuadraticGuidance,
    apollo_to_site,
    quadratic_acceleration,
    site_to_apollo,
    solve_time_to_go,
)
from touchdown.fsw.guidance.base import GuidanceCommand, GuidanceLaw
from touchdown.fsw.guidance.gravity_turn import GravityTurnGuidance, GravityTurnParams
from touchdown.fsw.guidance.powered_braking import PoweredBrakingGuidance, PoweredBrakingParams
from touchdown.fsw.guidance.targets import (
    APOLLO11_APPROACH,
    APOLLO11_BRAKING,
    APOLLO11_VERTICAL_RATE_MPS,
    SERIES1_BRAKING,
    PhaseTargets,
    gate_targets,
    targets_from_ft,
    vertical_gate_targets,
)
from touchdown.fsw.guidance.vertical import VerticalDescentGuidance, VerticalDescentParams

__all__ = [
    "APOLLO11_APPROACH",
    "APOLLO11_BRAKING",
    "APOLLO11_VERTICAL_RATE_MPS",
    "SERIES1_BRAKING",
    "ApolloGuidanceParams",
    "ApolloQuadraticGuidance",
    "GravityTurnGuidance",
    "GravityTurnParams",
    "GuidanceCommand",
    "GuidanceLaw",
    "PhaseTargets",
    "PoweredBrakingGuidance",
    "PoweredBrakingParams",
    "VerticalDescentGuidance",
    "VerticalDescentParams",
    "apollo_to_site",
    "gate_targets",
    "quadratic_acceleration",
    "site_to_apollo",
    "solve_time_to_go",
    "targets_from_ft",
    "vertical_gate_targets",
]
