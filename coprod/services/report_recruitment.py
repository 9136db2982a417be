"""The co-production report's figures on recruitment, outreach and training: the recruitment
funnel, outreach by kind, who expressed interest and who the representatives are by equality
group (for the reach comparison), interest from young people and young carers, and training
received and delivered.

Each is one aggregate statement whatever the number of rows, and Python only arranges the
handful of result rows. Equality figures are suppressed from 1 to 4 wherever the report goes;
other counts of people only in figures that leave the organisation (`Report.outside`).

Interest, representatives and courses belong to the organisation, not to one team, so a
team's report shows them for the whole organisation; outreach and training delivered are the
team's own.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from tortoise.expressions import Q
from tortoise.functions import Count, Sum

from coprod import db
from coprod.domain.courses import LABELS as FORMATS  # the words the course pages use
from coprod.domain.equality import QUESTIONS
from coprod.domain.reporting import settle_sums, suppress
from coprod.domain.scheduling import london_midnight
from coprod.models import (
    Booking,
    BookingStatus,
    CloseReason,
    CourseCompletion,
    Interest,
    InterestSource,
    InterestStatus,
    Kind,
    Outreach,
    OutreachKind,
    RepresentativeType,
)
from coprod.services.report_feedback import per_team
from coprod.services.rollups import run

if TYPE_CHECKING:
    from coprod.services.report_figures import Figures
    from coprod.services.reports import Report

STATUSES = {s.value: s.label for s in InterestStatus}
REASONS = {r.value: r.label for r in CloseReason}
SOURCES = {"online": "Online form", "through_a_lead": "Through a lead (phone, email, letter)"}
KINDS = {k.value: k.label for k in OutreachKind}
FUNNEL_LABEL = "Recruitment"
OUTREACH_LABEL = "Outreach"
TRAINING_LABEL = "Training"
YOUNG = {
    "under_25": "Interest from people aged 16 to 24",
    "young_carers": "Interest from young carers (16 to 24)",
}
NOT_SAID = "Not said"
YOUNG_BAND = "16_24"


def _in(ids: list[int]) -> str:
    return f"({', '.join('?' * len(ids))})"


def _interest_scope(report: Report) -> dict[str, Any]:
    """Interest expressed in the period, not held aside as spam."""
    return {
        "organisation_id__in": report.organisations,
        "held_as_spam": False,
        "created_at__gte": london_midnight(report.period.start),
        "created_at__lt": london_midnight(report.period.end + dt.timedelta(days=1)),
    }


def _hide(report: Report, count: int) -> int | None:
    """A count of people, hidden from 1 to 4 where the report hides such counts."""
    return suppress(count) if report.outside else count


def _settled(
    report: Report, true: dict[str, int], sums: list[tuple[str, list[str]]]
) -> dict[str, int | None]:
    cells = {k: _hide(report, v) for k, v in true.items()}
    return settle_sums(cells, true, sums) if report.outside else cells


# ---------------------------------------------------------------------------- the funnel


async def funnel(report: Report) -> dict[str, Any]:
    """Everyone who expressed interest in the period: where they are now, why those closed
    were closed, how they came in, and how many became representatives."""
    rows: list[dict[str, Any]] = []
    if report.organisations:
        rows = (
            await Interest.filter(**_interest_scope(report))
            .annotate(n=Count("id"), reps=Count("representative_id"))
            .group_by("status", "close_reason", "source")
            .values("status", "close_reason", "source", "n", "reps")
        )
    true: dict[str, int] = {"expressed": 0, "became_representatives": 0}
    true |= {f"status.{k}": 0 for k in STATUSES}
    true |= {f"reason.{k}": 0 for k in REASONS}
    true |= {f"source.{k}": 0 for k in SOURCES}
    for r in rows:
        n = int(r["n"])
        status = getattr(r["status"], "value", r["status"])
        reason = getattr(r["close_reason"], "value", r["close_reason"])
        source = getattr(r["source"], "value", r["source"])
        true["expressed"] += n
        true["became_representatives"] += int(r["reps"])
        true[f"status.{status}"] += n
        if status == InterestStatus.CLOSED.value:
            true[f"reason.{reason or CloseReason.OTHER.value}"] += n
        online = source == InterestSource.ONLINE.value
        true[f"source.{'online' if online else 'through_a_lead'}"] += n
    safe = _settled(
        report,
        true,
        [
            ("expressed", [f"status.{k}" for k in STATUSES]),
            ("expressed", [f"source.{k}" for k in SOURCES]),
            ("status.closed", [f"reason.{k}" for k in REASONS]),
        ],
    )
    return {
        "expressed": safe["expressed"],
        "by_status": {k: safe[f"status.{k}"] for k in STATUSES},
        "closed_by_reason": {k: safe[f"reason.{k}"] for k in REASONS},
        "by_source": {k: safe[f"source.{k}"] for k in SOURCES},
        "became_representatives": safe["became_representatives"],
    }


# ---------------------------------------------------------------------------- outreach


async def outreach(report: Report) -> dict[str, Any]:
    """Outreach held in the period by kind: events, people reached, and how many people who
    said they heard through it (spam held aside not counted)."""
    held: list[dict[str, Any]] = []
    linked: list[dict[str, Any]] = []
    if report.organisations:
        scope: dict[str, Any] = {
            "organisation_id__in": report.organisations,
            "held_on__gte": report.period.start,
            "held_on__lte": report.period.end,
        }
        if report.team_id:
            scope["team_id"] = report.team_id
        held = (
            await Outreach.filter(**scope)
            .annotate(n=Count("id"), reached=Sum("people_reached"))
            .group_by("kind")
            .values("kind", "n", "reached")
        )
        linked = (
            await Interest.filter(
                held_as_spam=False, **{f"outreach__{k}": v for k, v in scope.items()}
            )
            .annotate(n=Count("id"))
            .group_by("outreach__kind")
            .values("outreach__kind", "n")
        )
    events = {k: 0 for k in KINDS}
    reached = {k: 0 for k in KINDS}
    for r in held:
        kind = getattr(r["kind"], "value", r["kind"])
        events[kind], reached[kind] = int(r["n"]), int(r["reached"] or 0)
    true = {k: 0 for k in KINDS}
    for r in linked:
        true[getattr(r["outreach__kind"], "value", r["outreach__kind"])] = int(r["n"])
    true["all"] = sum(true.values())
    interests = _settled(report, true, [("all", list(KINDS))])
    return {
        "kinds": [
            {
                "kind": k,
                "label": label,
                "events": events[k],
                "people_reached": reached[k],
                "interests": interests[k],
            }
            for k, label in KINDS.items()
        ],
        "total": {
            "events": sum(events.values()),
            "people_reached": sum(reached.values()),
            "interests": interests["all"],
        },
    }


# ---------------------------------------------------------------------------- equality


def _per_question(table: str, where: str) -> str:
    """Every question's answers counted in one statement, from one pass over the answers."""
    keys = ", ".join(f"e.{q.key}" for q in QUESTIONS)
    per_question = " UNION ALL ".join(
        f"SELECT '{q.key}' AS q, {q.key} AS a, COUNT(*) AS n FROM answered"
        f" WHERE {q.key} IS NOT NULL GROUP BY {q.key}"
        for q in QUESTIONS
    )
    return f"WITH answered AS (SELECT {keys} FROM {table} WHERE {where}) {per_question}"


def _answers(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for r in rows:
        found.setdefault(r["q"], {})[r["a"]] = int(r["n"])
    return found


async def interest_answers(report: Report) -> dict[str, dict[str, int]]:
    """For each equality question, how many who expressed interest in the period gave each
    answer."""
    if not report.organisations:
        return {}
    scope = _interest_scope(report)
    rows = await run(
        _per_question(
            "interest_equality e JOIN interest i ON i.id = e.interest_id",
            f"i.organisation_id IN {_in(report.organisations)} AND i.held_as_spam = ?"
            " AND i.created_at >= ? AND i.created_at < ?",
        ),
        [*report.organisations, False, scope["created_at__gte"], scope["created_at__lt"]],
    )
    return _answers(rows)


async def representative_answers(report: Report) -> dict[str, dict[str, int]]:
    """For each equality question, how many of the representatives (not archived) gave each
    answer, as they stand."""
    if not report.organisations:
        return {}
    rows = await run(
        _per_question(
            "equality_response e JOIN representative r ON r.id = e.representative_id",
            f"r.organisation_id IN {_in(report.organisations)} AND r.archived_at IS NULL",
        ),
        list(report.organisations),
    )
    return _answers(rows)


async def young_carers(report: Report) -> int:
    """People aged 16 to 24 who expressed interest and said they care for someone, in the
    equality questions or as the kind of representative they would be."""
    if not report.organisations:
        return 0
    carer = Q(equality__carer_status="yes") | Q(
        representative_type__in=[RepresentativeType.CARER, RepresentativeType.BOTH]
    )
    return await Interest.filter(
        carer, **_interest_scope(report), equality__age_band=YOUNG_BAND
    ).count()


# ---------------------------------------------------------------------------- training


async def training(report: Report, names: dict[int, str], figures: Figures) -> dict[str, Any]:
    return {
        "received": await _received(report),
        "delivered": await _delivered(report, names, figures),
    }


async def _received(report: Report) -> dict[str, Any]:
    """Courses completed in the period, by course and by the format taken."""
    rows: list[dict[str, Any]] = []
    if report.organisations:
        rows = (
            await CourseCompletion.filter(
                organisation_id__in=report.organisations,
                completed_on__gte=report.period.start,
                completed_on__lte=report.period.end,
            )
            .annotate(n=Count("id"))
            .group_by("course_id", "course__name", "format")
            .values("course_id", "course__name", "format", "n")
        )
    courses: dict[int, str] = {}
    true: dict[str, int] = {"all": 0}
    for r in rows:
        n = int(r["n"])
        courses[int(r["course_id"])] = str(r["course__name"])
        true["all"] += n
        for key in (f"course.{r['course_id']}", f"format.{r['format']}"):
            true[key] = true.get(key, 0) + n
    course_keys = [k for k in true if k.startswith("course.")]
    format_keys = sorted(k for k in true if k.startswith("format."))
    safe = _settled(report, true, [("all", course_keys), ("all", format_keys)])
    by_course = [
        {"course_id": c, "course": name, "completions": safe[f"course.{c}"]}
        for c, name in sorted(courses.items(), key=lambda item: (item[1], item[0]))
    ]
    return {
        "completions": safe["all"],
        # Courses are each organisation's own: a network's roll-up gives totals only.
        "by_course": by_course if per_team(report) else [],
        "by_format": {k.split(".", 1)[1]: safe[k] for k in format_keys},
    }


async def _delivered(report: Report, names: dict[int, str], figures: Figures) -> dict[str, Any]:
    """Training representatives delivered to staff: attended sessions in the period, by team
    and by audience (sessions, and the distinct people who delivered them). A network's
    roll-up shows the totals alone, from `figures`."""
    if not per_team(report):
        sessions, people = await figures.delivered(report)
        total = [{"team_id": None, "audience": None, "sessions": sessions, "people": people}]
        return _arrange_delivered(report, total, people, names)
    rows: list[dict[str, Any]] = []
    people = 0
    if report.organisations:
        scope: dict[str, Any] = {
            "status": BookingStatus.ATTENDED,
            "activity__kind": Kind.TRAINING_DELIVERY,
            "activity__organisation_id__in": report.organisations,
            # The session's time (an attended booking's is the same): with the organisation and
            # kind, one index finds the sessions, and their bookings are read by activity.
            "activity__starts_at__gte": london_midnight(report.period.start),
            "activity__starts_at__lt": london_midnight(report.period.end + dt.timedelta(days=1)),
        }
        if report.team_id:
            scope["activity__team_id"] = report.team_id
        delivered = Booking.filter(**scope).values(
            "activity_id",
            "representative_id",
            team_id="activity__team_id",
            audience="activity__audience",
        )
        # The attended bookings are read once, for both groupings: by team and audience, and
        # everyone (whose distinct count is not the sum of the groups').
        found = await db.rows_around(
            delivered,
            "WITH delivered AS MATERIALIZED ({query})"
            " SELECT team_id, audience, COUNT(DISTINCT activity_id) AS sessions,"
            " COUNT(DISTINCT representative_id) AS people, 0 AS everyone"
            " FROM delivered GROUP BY team_id, audience"
            " UNION ALL SELECT NULL, NULL, 0, COUNT(DISTINCT representative_id), 1"
            " FROM delivered",
        )
        rows = [r for r in found if not r["everyone"]]
        people = sum(int(r["people"]) for r in found if r["everyone"])
    return _arrange_delivered(report, rows, people, names)


def _arrange_delivered(
    report: Report, rows: list[dict[str, Any]], people: int, names: dict[int, str]
) -> dict[str, Any]:
    teams: dict[int, list[int]] = {}
    audiences: dict[str, list[int]] = {}
    for r in rows:
        team = int(r["team_id"] or 0)
        audience = (r["audience"] or "").strip() or NOT_SAID
        for totals in (teams.setdefault(team, [0, 0]), audiences.setdefault(audience, [0, 0])):
            totals[0] += int(r["sessions"])
            totals[1] += int(r["people"])
    sessions = sum(t[0] for t in teams.values())

    def people_of(found: dict[Any, list[int]]) -> dict[Any, int | None]:
        true = {str(k): v[1] for k, v in found.items()} | {"all": people}
        safe = _settled(report, true, [("all", [str(k) for k in found])])
        return {k: safe[str(k)] for k in found}

    team_people = people_of(teams)
    audience_people = people_of(audiences)
    return {
        "sessions": sessions,
        "people": _hide(report, people),
        "by_team": [
            {
                "team_id": t or None,
                "team": names.get(t, "No team") if t else "No team",
                "sessions": teams[t][0],
                "people": team_people[t],
            }
            for t in sorted(teams, key=lambda t: (t == 0, names.get(t, "")))
        ]
        if per_team(report)
        else [],
        "by_audience": [
            {"audience": a, "sessions": audiences[a][0], "people": audience_people[a]}
            for a in sorted(audiences, key=lambda a: (a == NOT_SAID, a.lower()))
        ]
        if per_team(report)
        else [],
    }


# ---------------------------------------------------------------------------- hidden figures

EXPRESSED = "Expressed interest"
BECAME = "Became representatives"
ALL_KINDS = "All kinds"
COMPLETED = "Courses completed"
DELIVERERS = "People who delivered training"
RECEIVED_LABEL = "Training received"
DELIVERED_LABEL = "Training delivered"


def hidden(funnel: dict[str, Any], outreach: dict[str, Any], training: dict[str, Any]) -> list[str]:
    """The hidden figures of these sections, named as the report page names them, in its
    order."""
    found: list[str] = []
    if funnel:
        rows = [(EXPRESSED, funnel["expressed"]), (BECAME, funnel["became_representatives"])]
        rows += [(STATUSES[k], v) for k, v in funnel["by_status"].items()]
        rows += [(REASONS[k], v) for k, v in funnel["closed_by_reason"].items()]
        rows += [(SOURCES[k], v) for k, v in funnel["by_source"].items()]
        found += [f"{FUNNEL_LABEL}: {label}" for label, v in rows if v is None]
    if outreach:
        rows = [(k["label"], k["interests"]) for k in outreach["kinds"]]
        rows.append((ALL_KINDS, outreach["total"]["interests"]))
        found += [f"{OUTREACH_LABEL}, {label}: interest linked" for label, v in rows if v is None]
    if training:
        received, delivered = training["received"], training["delivered"]
        rows = [(COMPLETED, received["completions"])]
        rows += [(c["course"], c["completions"]) for c in received["by_course"]]
        rows += [(FORMATS.get(k, k), v) for k, v in received["by_format"].items()]
        found += [f"{RECEIVED_LABEL}: {label}" for label, v in rows if v is None]
        if delivered["people"] is None:
            found.append(f"{DELIVERED_LABEL}: {DELIVERERS}")
        found += [
            f"{DELIVERED_LABEL}, {t['team']}: people"
            for t in delivered["by_team"]
            if t["people"] is None
        ]
        found += [
            f"{DELIVERED_LABEL} to {a['audience']}: people"
            for a in delivered["by_audience"]
            if a["people"] is None
        ]
    return found
