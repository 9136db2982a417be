"""The report's figures on recruitment, outreach, young people and training, as the JSON
replies declare them and as the CSV writes them (coprod.services.report_recruitment gives
them; api/reports.py serves them with the rest of the report)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from coprod.web.api.schema import Hidden, Reply


class InterestStatuses(Reply):
    new: Hidden
    chatted: Hidden
    welcome_booked: Hidden = Field(description="Welcome session booked")
    ready: Hidden
    closed: Hidden


class CloseReasons(Reply):
    not_right_time: Hidden
    no_suitable_role: Hidden
    support_elsewhere: Hidden
    chose_not_to: Hidden
    could_not_contact: Hidden
    other: Hidden


class InterestSources(Reply):
    online: Hidden = Field(description="By the public form")
    through_a_lead: Hidden = Field(description="Written down by a lead: phone, email, letter")


class Recruitment(Reply):
    """Everyone who expressed interest in the period (not held as spam), and where they are
    now. Counts of people are suppressed in roll-ups and CSV downloads."""

    expressed: Hidden
    by_status: InterestStatuses
    closed_by_reason: CloseReasons
    by_source: InterestSources
    became_representatives: Hidden


class OutreachKindFigures(Reply):
    kind: str
    label: str
    events: int
    people_reached: int
    interests: Hidden = Field(description="People who said they heard through it")


class OutreachTotals(Reply):
    events: int
    people_reached: int
    interests: Hidden


class OutreachFigures(Reply):
    """Outreach held in the period, by kind."""

    kinds: list[OutreachKindFigures]
    total: OutreachTotals


class YoungPeople(Reply):
    """Interest expressed in the period by young people, who are under-represented; always
    suppressed from 1 to 4, as equality figures are."""

    under_25: Hidden = Field(description="Aged 16 to 24")
    young_carers: Hidden = Field(
        description="Aged 16 to 24 and caring for someone (in the equality questions, or as "
        "a carer or both)"
    )


class CourseFigures(Reply):
    course_id: int
    course: str
    completions: Hidden


class TrainingReceived(Reply):
    completions: Hidden = Field(description="Courses completed in the period")
    by_course: list[CourseFigures] = Field(description="Organisation reports only")
    by_format: dict[str, Hidden] = Field(description="standard, braille, audio, easy_read, ...")


class DeliveredByTeam(Reply):
    team_id: int | None
    team: str
    sessions: int
    people: Hidden


class DeliveredByAudience(Reply):
    audience: str
    sessions: int
    people: Hidden


class TrainingDelivered(Reply):
    """Training representatives delivered to staff: attended sessions in the period."""

    sessions: int
    people: Hidden = Field(description="Distinct representatives who delivered it")
    by_team: list[DeliveredByTeam] = Field(description="Organisation reports only")
    by_audience: list[DeliveredByAudience] = Field(description="Organisation reports only")


class Training(Reply):
    received: TrainingReceived
    delivered: TrainingDelivered


def csv_rows(figures: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The recruitment funnel, outreach, young people and training; counts of people are the
    ones that may be suppressed."""
    funnel = figures["recruitment"]
    for measure in ("expressed", "became_representatives"):
        yield "recruitment", "", measure, funnel[measure], True
    for breakdown in ("by_status", "closed_by_reason", "by_source"):
        for key, value in funnel[breakdown].items():
            yield "recruitment", breakdown, key, value, True
    outreach = figures["outreach"]
    for row in [*outreach["kinds"], {"kind": "all", **outreach["total"]}]:
        for measure in ("events", "people_reached", "interests"):
            yield "outreach", row["kind"], measure, row[measure], measure == "interests"
    for measure, value in figures["young_people"].items():
        yield "young_people", "", measure, value, True
    received = figures["training"]["received"]
    yield "training_received", "all", "completions", received["completions"], True
    for course in received["by_course"]:
        yield "training_received", course["course"], "completions", course["completions"], True
    for key, value in received["by_format"].items():
        yield "training_received", f"format.{key}", "completions", value, True
    delivered = figures["training"]["delivered"]
    rows = [("all", delivered)]
    rows += [(f"team.{t['team']}", t) for t in delivered["by_team"]]
    rows += [(f"audience.{a['audience']}", a) for a in delivered["by_audience"]]
    for key, row in rows:
        yield "training_delivered", key, "sessions", row["sessions"], False
        yield "training_delivered", key, "people", row["people"], True
