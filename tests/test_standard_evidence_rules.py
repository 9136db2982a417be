"""Which records are suggested as evidence for which standard, and how evidence reads when it
leaves the organisation: pure rules, as a table of cases."""

from __future__ import annotations

import datetime as dt

import pytest

from coprod.domain import standard_evidence as rules
from coprod.domain.standards import by_number

TEAM, OTHER = 1, 2


def activity(kind: str, category: str | None = None, attended: int = 2, team: int | None = None):
    return rules.ActivityFacts(id=7, team_id=team, kind=kind, category=category, attended=attended)


@pytest.mark.parametrize(
    ("number", "facts", "suggested"),
    [
        (54, activity("interview_panel"), True),
        (54, activity("interview_panel", attended=0), False),  # nobody took part
        (54, activity("interview_panel", team=TEAM), True),
        (54, activity("interview_panel", team=OTHER), False),  # another team's panel
        (54, activity("meeting", "co_decision"), False),
        (90, activity("training_delivery", "co_delivery"), True),
        (90, activity("training_received"), False),
        (14, activity("meeting", "co_design"), True),
        (14, activity("meeting", "co_decision"), True),
        (14, activity("meeting", "co_evaluation"), False),
        (46, activity("meeting", "co_evaluation"), True),
        (46, activity("peer_review", "co_evaluation"), True),
        (46, activity("meeting", "co_delivery"), False),
        (4, activity("interview_panel"), False),  # no rule for this standard
    ],
)
def test_activities_suggested_for_a_standard(number, facts, suggested) -> None:
    found = rules.suggested_activities(number, TEAM, [facts])
    assert bool(found) is suggested
    if found:
        assert found[0].record_id == 7 and found[0].reason


def test_linked_records_are_not_suggested_again() -> None:
    panel = activity("interview_panel")
    assert rules.suggested_activities(54, TEAM, [panel], linked=[7]) == []
    assert rules.suggested_surveys(47, [(3, "carers")], linked=[3]) == []
    assert rules.suggested_actions(47, [(5, "done")], linked=[5]) == []


@pytest.mark.parametrize(
    ("number", "surveys", "actions", "expected"),
    [
        (47, [(1, "patients"), (2, "carers")], [(5, "done"), (6, "planned")], [1, 2, 5]),
        (155, [(1, "patients"), (2, "carers")], [(5, "done")], [1]),
        (54, [(1, "patients")], [(5, "done")], []),
    ],
)
def test_feedback_suggested_for_a_standard(number, surveys, actions, expected) -> None:
    found = rules.suggested_surveys(number, surveys) + rules.suggested_actions(number, actions)
    assert [s.record_id for s in found] == expected


def test_every_rule_names_a_standard_of_the_edition() -> None:
    known = by_number()
    assert set(rules.ACTIVITY_RULES) | set(rules.SURVEY_RULES) | set(rules.DONE_ACTION_RULES) <= (
        set(known)
    )


@pytest.mark.parametrize(
    ("count", "leaving", "shown"),
    [
        (0, True, "0"),
        (1, True, "fewer than 5"),
        (4, True, "fewer than 5"),
        (5, True, "5"),
        (1, False, "1"),
        (4, False, "4"),
    ],
)
def test_counts_of_people_leaving_the_organisation_hide_1_to_4(count, leaving, shown) -> None:
    assert rules.people_count(count, leaving=leaving) == shown


def test_evidence_in_words() -> None:
    day = dt.date(2026, 3, 5)
    assert rules.describe_activity("Panel", "interview panel", day, 1, leaving=False) == (
        "Activity: Panel (interview panel, 5 March 2026): 1 representative took part"
    )
    assert rules.describe_activity("Panel", "interview panel", None, 3, leaving=True) == (
        "Activity: Panel (interview panel, no date set): fewer than 5 representatives took part"
    )
    assert rules.describe_survey("Week one", "carers", 12, leaving=True) == (
        "Survey: Week one (for carers): 12 answers"
    )
    assert rules.describe_note("=1+1") == "Note: =1+1"
