"""Which of a team's records could evidence a quality-network standard, and how a piece of
evidence reads to a peer reviewer.

Suggestions are a rule over facts the service reads (an activity's kind, category and how many
representatives attended), so the lead gets one-click links without searching. They are only
suggestions: a lead decides whether a record really meets the standard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from coprod.domain.reporting import suppress

STATUS_LABELS = {
    "met": "Met",
    "partly_met": "Partly met",
    "not_met": "Not met",
    "not_marked": "Not marked yet",
}
# NHS.UK tag colours; the words carry the meaning, the colour only repeats it.
STATUS_COLOURS = {"met": "green", "partly_met": "yellow", "not_met": "red", "not_marked": "grey"}

KIND_LABELS = {
    "activity": "An activity",
    "action": 'A "You said, we did" action',
    "survey": "A survey",
    "note": "A note",
}


@dataclass(frozen=True)
class ActivityFacts:
    id: int
    team_id: int | None
    kind: str
    category: str | None
    attended: int  # representatives recorded as attended


@dataclass(frozen=True)
class ActivityRule:
    reason: str
    kinds: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()

    def fits(self, activity: ActivityFacts) -> bool:
        # Evidence of involvement needs someone to have been involved: planned or empty
        # activities prove nothing to a peer reviewer.
        if activity.attended < 1:
            return False
        return activity.kind in self.kinds or (activity.category or "") in self.categories


ACTIVITY_RULES: dict[int, ActivityRule] = {
    14: ActivityRule(
        "Representatives helped plan the service or decide how to spend its money",
        categories=frozenset({"co_design", "co_decision"}),
    ),
    46: ActivityRule(
        "Representatives took part in improving the service",
        kinds=frozenset({"peer_review"}),
        categories=frozenset({"co_design", "co_decision", "co_evaluation"}),
    ),
    54: ActivityRule(
        "Representatives sat on a staff interview panel", kinds=frozenset({"interview_panel"})
    ),
    90: ActivityRule(
        "Representatives delivered staff training", kinds=frozenset({"training_delivery"})
    ),
}


@dataclass(frozen=True)
class SurveyRule:
    reason: str
    audiences: frozenset[str] = frozenset({"patients", "carers", "representatives"})


# Standards that feedback evidences: the team's surveys, and (for 47, "feedback is used to
# improve the service") the "You said, we did" actions it has finished.
SURVEY_RULES: dict[int, SurveyRule] = {
    47: SurveyRule("The team asks people for feedback with this survey"),
    155: SurveyRule(
        "This survey asks patients about their experience of staff",
        frozenset({"patients"}),
    ),
}
DONE_ACTION_RULES: dict[int, str] = {
    47: "The team changed something because of what people said",
}


@dataclass(frozen=True)
class Suggestion:
    kind: str  # activity, survey or action
    record_id: int
    reason: str


def suggested_activities(
    number: int, team_id: int, activities: Iterable[ActivityFacts], linked: Iterable[int] = ()
) -> list[Suggestion]:
    """The activities that could evidence standard `number` for a team: the organisation's
    activities for that team or for no team in particular, not already linked."""
    rule = ACTIVITY_RULES.get(number)
    if rule is None:
        return []
    taken = set(linked)
    return [
        Suggestion("activity", a.id, rule.reason)
        for a in activities
        if a.id not in taken and a.team_id in (None, team_id) and rule.fits(a)
    ]


def suggested_surveys(
    number: int, surveys: Iterable[tuple[int, str]], linked: Iterable[int] = ()
) -> list[Suggestion]:
    """`surveys` are the team's (id, audience)."""
    rule = SURVEY_RULES.get(number)
    if rule is None:
        return []
    taken = set(linked)
    return [
        Suggestion("survey", survey_id, rule.reason)
        for survey_id, audience in surveys
        if survey_id not in taken and audience in rule.audiences
    ]


def suggested_actions(
    number: int, actions: Iterable[tuple[int, str]], linked: Iterable[int] = ()
) -> list[Suggestion]:
    """`actions` are the team's (id, status): only finished ones show feedback was used."""
    reason = DONE_ACTION_RULES.get(number)
    if reason is None:
        return []
    taken = set(linked)
    return [
        Suggestion("action", action_id, reason)
        for action_id, status in actions
        if action_id not in taken and status == "done"
    ]


def people_count(count: int, *, leaving: bool) -> str:
    """How many people, in words. What leaves the organisation (the print and the CSV for peer
    reviewers) hides counts of 1 to 4, which could point to a person."""
    shown = suppress(count) if leaving else count
    if shown is None:
        return "fewer than 5"
    return str(shown)


def describe_activity(
    title: str, kind_label: str, day: dt.date | None, attended: int, *, leaving: bool
) -> str:
    when = day.strftime("%-d %B %Y") if day else "no date set"
    people = people_count(attended, leaving=leaving)
    noun = "representative" if people == "1" else "representatives"
    return f"Activity: {title} ({kind_label}, {when}): {people} {noun} took part"


def describe_survey(title: str, audience: str, answers: int, *, leaving: bool) -> str:
    counted = people_count(answers, leaving=leaving)
    noun = "answer" if counted == "1" else "answers"
    return f"Survey: {title} (for {audience}): {counted} {noun}"


def describe_action(you_said: str, we_did: str, status_label: str) -> str:
    return f'You said: "{you_said}" We did: "{we_did}" ({status_label})'


def describe_note(note: str) -> str:
    return f"Note: {note}"
