"""The one rule for what the interviewer does after an assessed answer."""

from __future__ import annotations

import pytest

from agent.interview.next_step import FEEDBACK_PREFIX, INJECTION_NOTICE, next_step, spoken_part


def current(**overrides) -> dict:
    return {"followups": 0, "hints": 0, "redirected": False, **overrides}


def settings(**overrides) -> dict:
    return {"max_followups": 2, "feedback": "each", **overrides}


@pytest.mark.parametrize(
    ("state", "flags", "target", "step"),
    [
        (current(), [], "batching", "probe"),
        (current(), [], None, "grade"),
        (current(followups=2), [], "batching", "grade"),  # the budget bounds every probe
        (current(), ["non-answer"], None, "hint"),
        (current(hints=1), ["non-answer"], None, "grade"),
        (current(), ["off-topic"], "batching", "redirect"),
        (current(redirected=True), ["off-topic"], "batching", "probe"),
        (current(followups=2), ["off-topic"], None, "grade"),
    ],
)
def test_next_step(state, flags, target, step):
    assert next_step(state, settings(), flags, target) == step


def test_the_probe_is_said_with_the_injection_notice_and_feedback_with_its_prefix():
    assert spoken_part("probe", ["injection"], settings()) == ("followup", INJECTION_NOTICE)
    assert spoken_part("probe", [], settings()) == ("followup", "")
    assert spoken_part("grade", [], settings()) == ("feedback", FEEDBACK_PREFIX)
    assert spoken_part("grade", [], settings(feedback="end")) is None
    assert spoken_part("hint", [], settings()) is None


def test_a_wrong_claim_is_challenged_before_a_gap_is_probed():
    step = next_step(current(), settings(), ["misconception"], "batching", challenge_due=True)
    assert step == "challenge"
    assert next_step(current(followups=2), settings(), [], None, challenge_due=True) == "grade"


def test_the_bar_is_raised_only_when_nothing_is_left_to_probe():
    assert next_step(current(), settings(), [], None, stretch_due=True) == "stretch"
    assert next_step(current(), settings(), [], "batching", stretch_due=True) == "probe"
    assert spoken_part("challenge", [], settings()) is None
    assert spoken_part("stretch", [], settings()) is None
