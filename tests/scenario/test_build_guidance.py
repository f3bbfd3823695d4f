"""scenario.build.guidance_law builds the law each phase names, and refuses a phase it does not know."""

from __future__ import annotations

import pytest

from touchdown.scenario.build import guidance_law


def test_a_phase_no_branch_builds_is_an_error_not_a_gravity_turn():
    class UnknownPhase:
        law = "spiral"

    with pytest.raises(TypeError, match=r"UnknownPhase.*spiral"):
        guidance_law(None, UnknownPhase(), None)
