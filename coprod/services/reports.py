"""Co-production reports for an organisation, and roll-ups for a network.

Involvement figures come from the roll-up tables (`report_figures.Rollups`), which the
attendance and claims services keep in step with the involvement rows; access arrangements and
wellbeing checks are counted from their own tables. Python only arranges the handful of result
rows. Small counts are suppressed after aggregation, whichever source gave them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.transactions import in_transaction

from coprod import db
from coprod.config import get_settings
from coprod.domain.equality import QUESTIONS
from coprod.domain.reporting import Period, suppress, suppress_with_total
from coprod.errors import Forbidden, NotFound
from coprod.models import (
    MembershipStatus,
    Network,
    NetworkMembership,
    Organisation,
    PopulationFigure,
    Role,
    WellbeingOutcome,
)
from coprod.services import audit
from coprod.services import report_feedback as loop
from coprod.services import report_recruitment as recruiting
from coprod.services.actor import Actor
from coprod.services.report_figures import ROLLUPS, Figures, People, Totals
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
# The reach comparison's columns: who took part in the period, who expressed interest in it,
# and the representatives as they stand.
REACH_COLUMNS = {
    "people": "Took part",
    "interested": "Expressed interest",
    "representatives": "Representatives",
}
ANSWERED_KEYS = {
    "people": "answered",
    "interested": "interested_answered",
    "representatives": "representatives_answered",
}
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
    # A network's roll-up: totals across its members, not each member's teams.
    roll_up: bool = False
    by_category: list[dict[str, Any]] = field(default_factory=list)
    by_mode: list[dict[str, Any]] = field(default_factory=list)
    people: dict[str, int | None] = field(default_factory=dict)
    spend: dict[str, int] = field(default_factory=dict)
    access: dict[str, Any] = field(default_factory=dict)
    wellbeing: dict[str, int | None] = field(default_factory=dict)
    projects: dict[str, int] = field(default_factory=dict)
    reach: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    surveys: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, Any] = field(default_factory=dict)
    standards: list[dict[str, Any]] = field(default_factory=list)
    activity_feedback: dict[str, Any] = field(default_factory=dict)
    recruitment: dict[str, Any] = field(default_factory=dict)
    outreach: dict[str, Any] = field(default_factory=dict)
    young_people: dict[str, int | None] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

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
            "survey_answers": self.surveys,
            "actions": self.actions,
            "standards": self.standards,
            "activity_feedback": self.activity_feedback,
            "recruitment": self.recruitment,
            "outreach": self.outreach,
            "young_people": self.young_people,
            "training": self.training,
        }

    def hides(self) -> list[str]:
        """Which counts this report hides when they are from 1 to 4."""
        kinds = ["people who took part"] if self.outside else []
        kinds += [
            "people in each equality monitoring group",
            "wellbeing conversations",
            "survey answers",
            "people who said how an activity went",
        ]
        if self.outside:
            kinds.append("people in the recruitment, outreach and training figures")
        if self.members:
            kinds.append("people in each member organisation")
        return kinds

    def hidden(self) -> list[str]:
        """Every figure this report hides, named as the report page names it."""
        found = [PEOPLE[k] for k in PEOPLE if k in self.people and self.people[k] is None]
        found += [WELLBEING[k] for k in WELLBEING if self.wellbeing.get(k, 0) is None]
        for item in self.reach:  # in the page's order: each group, then everyone who answered
            rows = [(g["label"], g) for g in item["groups"]]
            rows.append((ANSWERED, {k: item[ANSWERED_KEYS[k]] for k in REACH_COLUMNS}))
            for label, row in rows:
                found += [
                    f"{item['question']}: {label}{_column_suffix(column)}"
                    for column in REACH_COLUMNS
                    if row[column] is None
                ]
        found += [f"{m['organisation']}: people" for m in self.members if m["people"] is None]
        found += _hidden_answers(self.surveys)
        if self.activity_feedback.get("given", 0) is None:
            found.append(f"{FEEDBACK_LABEL}: all figures")
        elif self.activity_feedback and self.activity_feedback.get("needed_access", 0) is None:
            found.append(f"{FEEDBACK_LABEL}: {ACCESS_LABEL}")
        found += [recruiting.YOUNG[k] for k, v in self.young_people.items() if v is None]
        found += recruiting.hidden(self.recruitment, self.outreach, self.training)
        return found


def _column_suffix(column: str) -> str:
    """How a hidden reach figure names its column; those who took part keep the plain
    "question: group" they had before the other columns came."""
    return "" if column == "people" else f" ({REACH_COLUMNS[column].lower()})"


FEEDBACK_LABEL = "How activities went"
ACCESS_LABEL = "Access needs met"
SURVEY_LABEL = "Survey answers"
BREAKDOWNS = {
    "by_audience": loop.AUDIENCES,
    "by_stage": loop.STAGES,
    "by_source": loop.SOURCES,
}


def _hidden_answers(surveys: dict[str, Any]) -> list[str]:
    """Hidden survey counts, named as the page's tables name them: total first, then teams."""
    found = []
    rows = [("All teams", surveys["total"])] if surveys else []
    rows += [(t["team"], t) for t in surveys.get("teams", [])]
    for name, row in rows:
        if row["answers"] is None:
            found.append(f"{SURVEY_LABEL}, {name}: answers")
        for breakdown, labels in BREAKDOWNS.items():
            found += [
                f"{SURVEY_LABEL}, {name}: {labels[k]}"
                for k, v in row[breakdown].items()
                if v is None
            ]
    return found


def _summed(found: dict[tuple[int, Any], Totals], part: int) -> dict[Any, Totals]:
    """Each organisation's totals (by category or mode) added up by one part of their key:
    0, the organisation; 1, the category or mode."""
    out: dict[Any, Totals] = {}
    for key, totals in found.items():
        out[key[part]] = out.get(key[part], Totals()) + totals
    return out


def _ordered(found: dict[tuple[int, Any], Totals], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    summed = _summed(found, 1)
    rows = []
    for key in [*keys, *(k for k in summed if k not in keys)]:
        totals = summed.get(key, Totals())
        rows.append(
            {
                "key": key,
                "activities": totals.activities,
                "involvements": totals.involvements,
                "hours": round(totals.minutes / 60, 1),
                "fees_pence": totals.fees,
                "expenses_pence": totals.expenses,
            }
        )
    return rows


def _people(people: People) -> dict[str, int | None]:
    return {
        "patients": people.by_type.get("patient", 0),
        "carers": people.by_type.get("carer", 0),
        "both": people.by_type.get("both", 0),
        "total": people.total,
        "new": people.new,
    }


async def _access(report: Report, figures: Figures) -> dict[str, Any]:
    arranged, on_time = await figures.access(report)
    return {
        "arranged": arranged,
        "on_time": on_time,
        "share_on_time": round(100 * on_time / arranged) if arranged else None,
    }


async def _wellbeing(report: Report, figures: Figures) -> dict[str, int | None]:
    found = await figures.wellbeing(report)
    return {o.value: suppress(found.get(o.value, 0)) for o in WellbeingOutcome}


async def _projects(report: Report, figures: Figures) -> dict[str, int]:
    rows = await figures.projects(report)
    end_to_end = sum(1 for categories, _ in rows if categories == len(CATEGORIES))
    single = sum(1 for _, touches in rows if touches == 1)
    return {
        "end_to_end": end_to_end,
        "single_touchpoint": single,
        "other": len(rows) - end_to_end - single,
    }


def _column(question: Any, counts: dict[str, int]) -> tuple[dict[str, int | None], int | None]:
    """One column of the reach comparison: each group's count, and everyone who answered.
    People who left the question unanswered are not among those who answered it."""
    safe = suppress_with_total({v: suppress(counts.get(v, 0)) for v, _ in question.options})
    return safe, suppress(sum(counts.values()))


async def _population(report: Report) -> list[dict[str, Any]]:
    return await PopulationFigure.filter(organisation_id__in=report.organisations).values(
        "characteristic", "group", "percent_tenths"
    )


def _reach(
    population: list[dict[str, Any]], answers: dict[str, dict[str, dict[str, int]]]
) -> list[dict[str, Any]]:
    """The reach comparison: for each question, each group's share of the local population
    beside how many gave that answer in each of `answers` (keyed by `REACH_COLUMNS`)."""
    out = []
    for question in QUESTIONS:
        columns = {
            k: _column(question, found.get(question.key, {})) for k, found in answers.items()
        }
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
                    **{k: safe[value] for k, (safe, _) in columns.items()},
                    "local_population_percent": (sum(local) / len(local) / 10) if local else None,
                }
            )
        out.append(
            {
                "characteristic": question.key,
                "question": question.text,
                **{ANSWERED_KEYS[k]: answered for k, (_, answered) in columns.items()},
                "groups": groups,
            }
        )
    return out


async def _names(report: Report) -> dict[int, str]:
    return dict(await Organisation.filter(id__in=report.organisations).values_list("id", "name"))


def _members(
    report: Report,
    found: dict[tuple[int, Any], Totals],
    people: People,
    names: dict[int, str],
) -> list[dict[str, Any]]:
    """A network's members side by side, from each member's totals by category."""
    totals_of = _summed(found, 0)
    members: list[dict[str, Any]] = []
    for org_id in sorted(report.organisations, key=lambda i: names.get(i, "")):
        totals = totals_of.get(org_id, Totals())
        members.append(
            {
                "organisation": names.get(org_id, ""),
                "involvements": totals.involvements,
                "people": suppress(people.by_organisation.get(org_id, 0)),
                "hours": round(totals.minutes / 60, 1),
                "fees_pence": totals.fees,
                "expenses_pence": totals.expenses,
            }
        )
    # Members' people counts add up to the network's: hide a second one if only one is hidden.
    safe = suppress_with_total({str(i): m["people"] for i, m in enumerate(members)})
    for i, member in enumerate(members):
        member["people"] = safe[str(i)]
    return members


def _young_people(reach: list[dict[str, Any]], young_carers: int) -> dict[str, int | None]:
    """Interest from people aged 16 to 24 (as the reach comparison shows it, so that neither
    gives the other away), and from young carers among them."""
    ages = next(item for item in reach if item["characteristic"] == "age_band")
    under_25 = next(g for g in ages["groups"] if g["group"] == recruiting.YOUNG_BAND)
    return {"under_25": under_25["interested"], "young_carers": suppress(young_carers)}


async def build(report: Report, figures: Figures = ROLLUPS) -> Report:
    """Every figure of the report, from `figures` (the roll-ups unless a test or benchmark asks
    for the raw rows), with small counts hidden. The parts are read at once, from one snapshot
    of the database."""
    names = await loop.team_names(report)
    # The slowest parts first (as measured at 10M rows: by mode, people, by category, the
    # representatives' answers, projects), so that no lane is left with a long one at the end.
    async with db.reads_at_once(get_settings().db_report_lanes) as read:
        by_mode = read(figures.by(report, "mode"))
        people = read(figures.people(report))
        by_category = read(figures.by(report, "category"))
        representatives = read(recruiting.representative_answers(report))
        projects = read(_projects(report, figures))
        training = read(recruiting.training(report, names, figures))
        interested = read(recruiting.interest_answers(report))
        population = read(_population(report))
        access = read(_access(report, figures))
        wellbeing = read(_wellbeing(report, figures))
        surveys = read(loop.surveys(report, names))
        actions = read(loop.actions(report, names))
        standards = read(loop.standards_met(report, names))
        activity_feedback = read(loop.activity_feedback(report))
        recruitment = read(recruiting.funnel(report))
        outreach = read(recruiting.outreach(report))
        young_carers = read(recruiting.young_carers(report))
        member_names = read(_names(report)) if report.roll_up else None
    report.by_category = _ordered(by_category.result(), CATEGORIES)
    report.by_mode = _ordered(by_mode.result(), MODES)
    report.people = _people(people.result())
    if report.outside:
        hidden: dict[str, int | None] = {k: suppress(v) for k, v in report.people.items()}
        by_type = suppress_with_total({k: hidden[k] for k in ("patients", "carers", "both")})
        # New and returning people add up to the total, so a few returning people would show
        # as the total minus the new ones.
        returning = (report.people["total"] or 0) - (report.people["new"] or 0)
        new = suppress_with_total({"new": hidden["new"], "returning": suppress(returning)})
        report.people = {**hidden, **by_type, "new": new["new"]}
    report.spend = {
        "fees_pence": sum(row["fees_pence"] for row in report.by_category),
        "expenses_pence": sum(row["expenses_pence"] for row in report.by_category),
    }
    report.access = access.result()
    report.wellbeing = wellbeing.result()
    report.projects = projects.result()
    report.reach = _reach(
        population.result(),
        {
            "people": people.result().answers,
            "interested": interested.result(),
            "representatives": representatives.result(),
        },
    )
    report.surveys = surveys.result()
    report.actions = actions.result()
    report.standards = standards.result()
    report.activity_feedback = activity_feedback.result()
    report.recruitment = recruitment.result()
    report.outreach = outreach.result()
    report.young_people = _young_people(report.reach, young_carers.result())
    report.training = training.result()
    report.members = (
        _members(report, by_category.result(), people.result(), member_names.result())
        if member_names
        else []
    )
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


async def network_report(
    actor: Actor, network_id: int, period: Period, figures: Figures = ROLLUPS
) -> tuple[Network, Report]:
    """The same figures across a network's members, then each member side by side. No personal
    data, and every people count is suppressed after aggregation."""
    network = await Network.get_or_none(id=network_id)
    if network is None or network_id not in actor.network_ids:
        raise NotFound
    # Invited and declined organisations are not members: their figures never leave them.
    members: list[int] = await NetworkMembership.filter(  # type: ignore[assignment]
        network=network, status=MembershipStatus.ACCEPTED
    ).values_list("organisation_id", flat=True)
    report = await build(Report(period, list(members), outside=True, roll_up=True), figures)
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
