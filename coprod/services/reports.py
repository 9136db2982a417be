"""Co-production reports for an organisation, and roll-ups for a network.

Every figure is aggregated by the database (GROUP BY over the involvement table and friends);
Python only arranges the handful of result rows. Small counts are suppressed after aggregation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.expressions import Subquery
from tortoise.functions import Count, Min, Sum
from tortoise.transactions import in_transaction

from coprod.domain.equality import QUESTIONS
from coprod.domain.reporting import Period, suppress, suppress_with_total
from coprod.domain.scheduling import LONDON
from coprod.errors import Forbidden, NotFound
from coprod.models import (
    AccessArrangement,
    EqualityResponse,
    Involvement,
    MembershipStatus,
    Network,
    NetworkMembership,
    Organisation,
    PopulationFigure,
    Role,
    WellbeingCheck,
    WellbeingOutcome,
)
from coprod.services import audit
from coprod.services.actor import Actor
from coprod.validation import Checker

CATEGORIES = ("co_design", "co_decision", "co_delivery", "co_evaluation")
MODES = ("in_person", "video", "phone")
PEOPLE = {
    "total": "People who took part",
    "patients": "Patients",
    "carers": "Carers",
    "both": "Both patient and carer",
    "new": "New this period",
}
ANSWERED = "Everyone who answered"
WELLBEING = {
    "proceed": "Wellbeing conversations: proceed",
    "postpone": "Wellbeing conversations: postpone",
    "adjust_role": "Wellbeing conversations: role adjusted",
    "not_this_time": "Wellbeing conversations: not this time",
}


@dataclass
class Report:
    period: Period
    organisations: list[int]
    team_id: int | None = None
    # Figures that leave the organisation (network roll-ups, downloads) hide small counts of
    # people too; inside it, only equality (reach) and wellbeing counts are hidden.
    outside: bool = False
    by_category: list[dict[str, Any]] = field(default_factory=list)
    by_mode: list[dict[str, Any]] = field(default_factory=list)
    people: dict[str, int | None] = field(default_factory=dict)
    spend: dict[str, int] = field(default_factory=dict)
    access: dict[str, Any] = field(default_factory=dict)
    wellbeing: dict[str, int | None] = field(default_factory=dict)
    projects: dict[str, int] = field(default_factory=dict)
    reach: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
                "label": self.period.label,
            },
            "team_id": self.team_id,
            "by_category": self.by_category,
            "by_mode": self.by_mode,
            "people": self.people,
            "spend": self.spend,
            "access_arrangements": self.access,
            "wellbeing_checks": self.wellbeing,
            "projects": self.projects,
            "reach": self.reach,
            "members": self.members,
        }

    def hides(self) -> list[str]:
        """Which counts this report hides when they are from 1 to 4."""
        kinds = ["people who took part"] if self.outside else []
        kinds += ["people in each equality monitoring group", "wellbeing conversations"]
        if self.members:
            kinds.append("people in each member organisation")
        return kinds

    def hidden(self) -> list[str]:
        """Every figure this report hides, named as the report page names it."""
        found = [PEOPLE[k] for k in PEOPLE if k in self.people and self.people[k] is None]
        found += [WELLBEING[k] for k in WELLBEING if self.wellbeing.get(k, 0) is None]
        for item in self.reach:  # in the page's order: each group, then everyone who answered
            found += [
                f"{item['question']}: {g['label']}" for g in item["groups"] if g["people"] is None
            ]
            if item["answered"] is None:
                found.append(f"{item['question']}: {ANSWERED}")
        found += [f"{m['organisation']}: people" for m in self.members if m["people"] is None]
        return found


def _scope(report: Report) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "organisation_id__in": report.organisations,
        "day__gte": report.period.start,
        "day__lte": report.period.end,
    }
    if report.team_id:
        scope["team_id"] = report.team_id
    return scope


async def _by(report: Report, column: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = (
        await Involvement.filter(**_scope(report))
        .annotate(
            activities=Count("activity_id", distinct=True),
            involvements=Count("id"),
            minutes=Sum("minutes"),
            fees=Sum("fee_pence"),
            expenses=Sum("expenses_pence"),
        )
        .group_by(column)
        .values(column, "activities", "involvements", "minutes", "fees", "expenses")
    )
    found = {row[column]: row for row in rows}
    ordered = [*keys, *(k for k in found if k not in keys)]
    return [
        {
            "key": key,
            "activities": int(found.get(key, {}).get("activities") or 0),
            "involvements": int(found.get(key, {}).get("involvements") or 0),
            "hours": round(int(found.get(key, {}).get("minutes") or 0) / 60, 1),
            "fees_pence": int(found.get(key, {}).get("fees") or 0),
            "expenses_pence": int(found.get(key, {}).get("expenses") or 0),
        }
        for key in ordered
    ]


def _team(report: Report) -> dict[str, Any]:
    return {"team_id": report.team_id} if report.team_id else {}


async def _people(report: Report) -> dict[str, int | None]:
    scope = _scope(report)
    rows = (
        await Involvement.filter(**scope)
        .annotate(people=Count("representative_id", distinct=True))
        .group_by("representative_type")
        .values("representative_type", "people")
    )
    counts = {row["representative_type"]: int(row["people"]) for row in rows}
    total = (
        await Involvement.filter(**scope)
        .annotate(people=Count("representative_id", distinct=True))
        .values("people")
    )
    # New this period: people whose first involvement ever falls inside it (a HAVING clause).
    # New this period: people whose first involvement ever falls inside it (GROUP BY ... HAVING
    # in the database; one small row comes back per new person).
    new = len(
        await Involvement.filter(organisation_id__in=report.organisations, **_team(report))
        .annotate(first_day=Min("day"))
        .group_by("representative_id")
        .filter(first_day__gte=report.period.start, first_day__lte=report.period.end)
        .values("representative_id")
    )
    return {
        "patients": counts.get("patient", 0),
        "carers": counts.get("carer", 0),
        "both": counts.get("both", 0),
        "total": int(total[0]["people"] or 0) if total else 0,
        "new": new,
    }


def _booking_scope(report: Report, prefix: str = "") -> dict[str, Any]:
    scope: dict[str, Any] = {
        f"{prefix}activity__organisation_id__in": report.organisations,
        f"{prefix}starts_at__gte": _start_of(report.period.start),
        f"{prefix}starts_at__lt": _start_of(report.period.end + dt.timedelta(days=1)),
    }
    if report.team_id:
        scope[f"{prefix}activity__team_id"] = report.team_id
    return scope


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), LONDON).astimezone(dt.UTC)


async def _access(report: Report) -> dict[str, Any]:
    scope = _booking_scope(report, "booking__")
    arranged = await AccessArrangement.filter(**scope).count()
    on_time = await AccessArrangement.filter(**scope, done_on_time=True).count()
    return {
        "arranged": arranged,
        "on_time": on_time,
        "share_on_time": round(100 * on_time / arranged) if arranged else None,
    }


async def _wellbeing(report: Report) -> dict[str, int | None]:
    rows = (
        await WellbeingCheck.filter(**_booking_scope(report, "booking__"))
        .annotate(n=Count("id"))
        .group_by("outcome")
        .values("outcome", "n")
    )
    found = {
        str(r["outcome"].value if hasattr(r["outcome"], "value") else r["outcome"]): int(r["n"])
        for r in rows
    }
    return {o.value: suppress(found.get(o.value, 0)) for o in WellbeingOutcome}


async def _projects(report: Report) -> dict[str, int]:
    rows = (
        await Involvement.filter(**_scope(report), project_id__isnull=False, category__isnull=False)
        .annotate(categories=Count("category", distinct=True), touches=Count("id"))
        .group_by("project_id")
        .values("project_id", "categories", "touches")
    )
    end_to_end = sum(1 for r in rows if int(r["categories"]) == len(CATEGORIES))
    single = sum(1 for r in rows if int(r["touches"]) == 1)
    return {
        "end_to_end": end_to_end,
        "single_touchpoint": single,
        "other": len(rows) - end_to_end - single,
    }


async def _reach(report: Report) -> list[dict[str, Any]]:
    involved = Involvement.filter(**_scope(report)).distinct().values("representative_id")
    population = await PopulationFigure.filter(organisation_id__in=report.organisations).values(
        "characteristic", "group", "percent_tenths"
    )
    answers = EqualityResponse.filter(representative_id__in=Subquery(involved))
    # One cheap check first: with no answers at all, the ten per-question queries are skipped.
    anyone = await answers.exists()
    out = []
    for question in QUESTIONS:
        rows = (
            []
            if not anyone
            else (
                await answers.annotate(n=Count("id"))
                .group_by(question.key)
                .values(question.key, "n")
            )
        )
        # People who left this question unanswered are not among those who answered it.
        counts = {r[question.key]: int(r["n"]) for r in rows if r[question.key] is not None}
        answered = sum(counts.values())
        safe = suppress_with_total({v: suppress(counts.get(v, 0)) for v, _ in question.options})
        groups = []
        for value, label in question.options:
            local = [
                p["percent_tenths"]
                for p in population
                if p["characteristic"] == question.key and p["group"] == value
            ]
            groups.append(
                {
                    "group": value,
                    "label": label,
                    "people": safe[value],
                    "local_population_percent": (sum(local) / len(local) / 10) if local else None,
                }
            )
        out.append(
            {
                "characteristic": question.key,
                "question": question.text,
                "answered": suppress(answered),
                "groups": groups,
            }
        )
    return out


async def build(report: Report) -> Report:
    report.by_category = await _by(report, "category", CATEGORIES)
    report.by_mode = await _by(report, "mode", MODES)
    report.people = await _people(report)
    if report.outside:
        people: dict[str, int | None] = {k: suppress(v) for k, v in report.people.items()}
        by_type = suppress_with_total({k: people[k] for k in ("patients", "carers", "both")})
        # New and returning people add up to the total, so a few returning people would show
        # as the total minus the new ones.
        returning = (report.people["total"] or 0) - (report.people["new"] or 0)
        new = suppress_with_total({"new": people["new"], "returning": suppress(returning)})
        report.people = {**people, **by_type, "new": new["new"]}
    report.spend = {
        "fees_pence": sum(row["fees_pence"] for row in report.by_category),
        "expenses_pence": sum(row["expenses_pence"] for row in report.by_category),
    }
    report.access = await _access(report)
    report.wellbeing = await _wellbeing(report)
    report.projects = await _projects(report)
    report.reach = await _reach(report)
    return report


async def organisation_report(
    actor: Actor, period: Period, team_id: int | None = None, *, outside: bool = False
) -> Report:
    """`outside` for figures that will leave the organisation, such as a download."""
    if not actor.has(Role.REPORTER, Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN, Role.FINANCE_OFFICER):
        raise Forbidden
    if actor.organisation_id is None:
        raise NotFound
    return await build(Report(period, [actor.organisation_id], team_id, outside=outside))


async def network_report(actor: Actor, network_id: int, period: Period) -> tuple[Network, Report]:
    """The same figures across a network's members, then each member side by side. No personal
    data, and every people count is suppressed after aggregation."""
    network = await Network.get_or_none(id=network_id)
    if network is None or network_id not in actor.network_ids:
        raise NotFound
    # Invited and declined organisations are not members: their figures never leave them.
    members: list[int] = await NetworkMembership.filter(  # type: ignore[assignment]
        network=network, status=MembershipStatus.ACCEPTED
    ).values_list("organisation_id", flat=True)
    report = await build(Report(period, list(members), outside=True))
    names = dict(await Organisation.filter(id__in=report.organisations).values_list("id", "name"))
    rows = (
        await Involvement.filter(
            organisation_id__in=report.organisations, day__gte=period.start, day__lte=period.end
        )
        .annotate(
            involvements=Count("id"),
            people=Count("representative_id", distinct=True),
            minutes=Sum("minutes"),
            fees=Sum("fee_pence"),
            expenses=Sum("expenses_pence"),
        )
        .group_by("organisation_id")
        .values("organisation_id", "involvements", "people", "minutes", "fees", "expenses")
    )
    found = {r["organisation_id"]: r for r in rows}
    report.members = [
        {
            "organisation": names.get(org_id, ""),
            "involvements": int(found.get(org_id, {}).get("involvements") or 0),
            "people": suppress(int(found.get(org_id, {}).get("people") or 0)),
            "hours": round(int(found.get(org_id, {}).get("minutes") or 0) / 60, 1),
            "fees_pence": int(found.get(org_id, {}).get("fees") or 0),
            "expenses_pence": int(found.get(org_id, {}).get("expenses") or 0),
        }
        for org_id in sorted(report.organisations, key=lambda i: names.get(i, ""))
    ]
    # Members' people counts add up to the network's: hide a second one if only one is hidden.
    safe = suppress_with_total({str(i): m["people"] for i, m in enumerate(report.members)})
    for i, member in enumerate(report.members):
        member["people"] = safe[str(i)]
    return network, report


async def set_population_figure(actor: Actor, data: Mapping[str, Any]) -> PopulationFigure:
    """The share of the local population in one group, as the organisation enters it."""
    if not actor.has(Role.REPORTER, Role.ORG_ADMIN) or actor.organisation_id is None:
        raise Forbidden
    c = Checker(data)
    key = c.choice("characteristic", "a characteristic", [q.key for q in QUESTIONS])
    question = next((q for q in QUESTIONS if q.key == key), None)
    group = c.choice("group", "a group", question.values if question else [])
    try:
        percent = Decimal(c.raw("percent"))
        if not percent.is_finite() or not 0 <= percent <= 100:
            raise InvalidOperation
        tenths = int((percent * 10).to_integral_value())
    except InvalidOperation:
        c.fail("percent", "Enter a percentage from 0 to 100, like 12.5")
    c.done()
    async with in_transaction():
        figure, _ = await PopulationFigure.update_or_create(
            defaults={"percent_tenths": tenths},
            organisation_id=actor.organisation_id,
            characteristic=key,
            group=group,
        )
        await audit.record(
            actor,
            "population.set",
            figure,
            after={"characteristic": key, "group": group, "percent_tenths": tenths},
        )
    return figure
