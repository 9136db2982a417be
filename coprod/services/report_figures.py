"""Where a report's figures come from. `Rollups` reads the roll-up tables (what the service
uses); `RawRows` computes the same figures from the flat involvement rows, as reports did before
the roll-ups, and is kept so that tests and bench/report.py can prove the two agree.

Each returns raw counts; suppression happens afterwards, in `reports.build`, whichever source
gave them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tortoise.expressions import Subquery
from tortoise.functions import Count, Min, Sum

from coprod.domain.equality import QUESTIONS
from coprod.domain.reporting import (
    EVERY_MODE,
    MONTHS,
    OUTCOMES,
    PERSON_DAY,
    PERSON_YEAR,
    TRAINER_DAY,
    TRAINER_YEAR,
    TRAINING_DELIVERY,
    WHOLE_ORGANISATION,
    Period,
    whole_months,
    years_of_months,
)
from coprod.domain.scheduling import london_midnight
from coprod.models import AccessArrangement, EqualityResponse, Involvement, Mode, WellbeingCheck
from coprod.services.rollups import run

if TYPE_CHECKING:
    from coprod.services.reports import Report


@dataclass
class Totals:
    """One group's sums: by category or by mode, in one organisation."""

    activities: int = 0
    involvements: int = 0
    minutes: int = 0
    fees: int = 0
    expenses: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


@dataclass
class People:
    """The distinct people who took part in the period."""

    by_type: dict[str, int] = field(default_factory=dict)  # patient, carer, both
    total: int = 0
    # Whose first day in the organisation (or the report's team) falls in the period.
    new: int = 0
    by_organisation: dict[int, int] = field(default_factory=dict)
    # For each equality question, how many of them gave each answer.
    answers: dict[str, dict[str, int]] = field(default_factory=dict)


class Figures(Protocol):
    async def by(self, report: Report, column: str) -> dict[tuple[int, Any], Totals]:
        """Each organisation's totals by `column` (category or mode). An activity is one
        organisation's, so its activities add up across organisations."""
        ...

    async def people(self, report: Report) -> People: ...

    async def projects(self, report: Report) -> list[tuple[int, int]]:
        """For each project with involvement in a category: (categories, involvements), in
        that order (projects are not told apart)."""
        ...

    async def access(self, report: Report) -> tuple[int, int]:
        """Access arrangements for bookings starting in the period: (made, done on time)."""
        ...

    async def delivered(self, report: Report) -> tuple[int, int]:
        """Training delivered to staff across the report's organisations, in total:
        (sessions, distinct people who delivered them). Not for a team's report: the
        training roll-ups have no team (see `whole_organisations`)."""
        ...

    async def wellbeing(self, report: Report) -> dict[str, int]:
        """Wellbeing checks for bookings starting in the period, by outcome."""
        ...


# ---------------------------------------------------------------------------- roll-ups


def whole_organisations(report: Report) -> None:
    """Refuse a team's report where only whole organisations' figures are kept."""
    if report.team_id:
        raise ValueError("Training delivered is counted for whole organisations, not teams")


def _in(ids: list[int]) -> str:
    return f"({', '.join('?' * len(ids))})"


def _where(
    report: Report, column: str, start: Any, end: Any, *, by_team: bool = True
) -> tuple[str, list[Any]]:
    sql = f"organisation_id IN {_in(report.organisations)} AND {column} BETWEEN ? AND ?"
    values: list[Any] = [*report.organisations, start, end]
    if by_team and report.team_id:
        sql += " AND team_id = ?"
        values.append(report.team_id)
    return sql, values


PEOPLE = "organisation_id, representative_id, representative_type"


def _involved(
    report: Report,
    years: str = PERSON_YEAR,
    days: str = PERSON_DAY,
    columns: str = PEOPLE,
    *,
    by_team: bool = True,
) -> tuple[str, list[Any]]:
    """Who took part in the period, a row per person and year or day (so not distinct): whole
    months from the yearly roll-up, the days either side of them from the daily one (whose
    team 0 is no team, so a report across teams reads all its rows). The trainer roll-ups,
    which have no team (`by_team=False`), give who delivered training the same way."""
    months, ends = whole_months(report.period)
    parts, values = [], []
    for year, in_period in years_of_months(*months) if months else []:
        # A row is kept only while some month counts, so a whole year needs no test. The
        # yearly people roll-up has a row for the whole organisation (team 0) beside each team's.
        some = "" if len(in_period) == len(MONTHS) else f" AND {' + '.join(in_period)} > 0"
        team = " AND team_id = ?" if by_team else ""
        parts.append(
            f"SELECT {columns} FROM {years} WHERE organisation_id IN"
            f" {_in(report.organisations)}{team} AND year = ?{some}"
        )
        values += report.organisations
        values += [report.team_id or WHOLE_ORGANISATION] if team else []
        values.append(year)
    for ragged in ends:
        where, v = _where(report, "day", ragged.start, ragged.end, by_team=by_team)
        parts.append(f"SELECT {columns} FROM {days} WHERE {where}")
        values += v
    return " UNION ALL ".join(parts), values


class Rollups:
    async def by(self, report: Report, column: str) -> dict[tuple[int, Any], Totals]:
        if not report.organisations:
            return {}
        where, values = _where(report, "day", report.period.start, report.period.end)
        # By mode, the rows of each way of taking part; otherwise the rows of every way. Each
        # mode is read on its own: its rows for a period are one stretch of the index (by
        # organisation, mode and day), which gives them grouped by organisation, unsorted.
        modes = list(Mode) if column == "mode" else [EVERY_MODE]
        rows = await run(
            " UNION ALL ".join(
                f"SELECT organisation_id AS o, {column} AS k,"
                " COUNT(DISTINCT NULLIF(activity_id, 0)) AS a, SUM(involvements) AS i,"
                " SUM(minutes) AS m, SUM(fee_pence) AS f, SUM(expenses_pence) AS e"
                f" FROM rollup_activity_day WHERE {where} AND mode = ?"
                f" GROUP BY organisation_id, {column}"
                for _ in modes
            ),
            [value for mode in modes for value in (*values, str(mode))],
        )
        return {
            (r["o"], r["k"] or None): Totals(
                activities=int(r["a"]),
                involvements=int(r["i"]),
                minutes=int(r["m"]),
                fees=int(r["f"]),
                expenses=int(r["e"]),
            )
            for r in rows
        }

    async def people(self, report: Report) -> People:
        if not report.organisations:
            return People()
        involved, values = _involved(report)
        first = (
            f"organisation_id IN {_in(report.organisations)} AND team_id = ?"
            " AND first_day BETWEEN ? AND ?"
        )
        keys = ", ".join(q.key for q in QUESTIONS)
        answers = " UNION ALL ".join(
            f"SELECT 'answer', '{q.key}', {q.key}, COUNT(*) FROM answered"
            f" WHERE {q.key} IS NOT NULL GROUP BY {q.key}"
            for q in QUESTIONS
        )
        # The people involved are found once, a row each per organisation and type, and
        # counted every way from there, with the answers they gave.
        rows = await run(
            "WITH people AS MATERIALIZED (SELECT organisation_id, representative_id,"
            f" representative_type FROM ({involved}) involved"
            " GROUP BY organisation_id, representative_id, representative_type),"
            f" answered AS (SELECT {keys} FROM equality_response"
            " WHERE representative_id IN (SELECT representative_id FROM people))"
            " SELECT 'type' AS kind, representative_type AS k, NULL AS a,"
            " COUNT(DISTINCT representative_id) AS n FROM people GROUP BY representative_type"
            " UNION ALL SELECT 'total', NULL, NULL, COUNT(DISTINCT representative_id) FROM people"
            " UNION ALL SELECT 'organisation', CAST(organisation_id AS TEXT), NULL,"
            " COUNT(DISTINCT representative_id) FROM people GROUP BY organisation_id"
            f" UNION ALL SELECT 'new', NULL, NULL, COUNT(*) FROM rollup_person_first WHERE {first}"
            f" UNION ALL {answers}",
            [
                *values,
                *report.organisations,
                report.team_id or WHOLE_ORGANISATION,
                report.period.start,
                report.period.end,
            ],
        )
        found = People()
        for r in rows:
            n = int(r["n"])
            if r["kind"] == "type":
                found.by_type[r["k"]] = n
            elif r["kind"] == "total":
                found.total = n
            elif r["kind"] == "organisation":
                found.by_organisation[int(r["k"])] = n
            elif r["kind"] == "new":
                found.new = n
            else:
                found.answers.setdefault(r["k"], {})[r["a"]] = n
        return found

    async def projects(self, report: Report) -> list[tuple[int, int]]:
        if not report.organisations:
            return []
        where, values = _where(report, "day", report.period.start, report.period.end)
        # Each project's categories found first (by hashing, not sorting), then counted.
        rows = await run(
            "SELECT COUNT(*) AS c, SUM(i) AS i FROM (SELECT project_id, SUM(involvements) AS i"
            f" FROM rollup_activity_day WHERE {where} AND mode = ? AND project_id <> 0"
            " AND category <> '' GROUP BY project_id, category) categories GROUP BY project_id",
            [*values, EVERY_MODE],
        )
        return sorted((int(r["c"]), int(r["i"])) for r in rows)

    async def access(self, report: Report) -> tuple[int, int]:
        if not report.organisations:
            return 0, 0
        where, values = _where(report, "day", report.period.start, report.period.end)
        rows = await run(
            "SELECT COALESCE(SUM(arranged), 0) AS a, COALESCE(SUM(on_time), 0) AS t"
            f" FROM rollup_access_day WHERE {where}",
            values,
        )
        return int(rows[0]["a"]), int(rows[0]["t"])

    async def delivered(self, report: Report) -> tuple[int, int]:
        whole_organisations(report)
        if not report.organisations:
            return 0, 0
        where, values = _where(report, "day", report.period.start, report.period.end)
        trainers, more = _involved(
            report, TRAINER_YEAR, TRAINER_DAY, "representative_id", by_team=False
        )
        rows = await run(
            "SELECT (SELECT COUNT(DISTINCT NULLIF(activity_id, 0)) FROM rollup_training_day"
            f" WHERE {where}) AS sessions,"
            f" (SELECT COUNT(DISTINCT representative_id) FROM ({trainers}) t) AS people",
            [*values, *more],
        )
        return int(rows[0]["sessions"]), int(rows[0]["people"])

    async def wellbeing(self, report: Report) -> dict[str, int]:
        if not report.organisations:
            return {}
        where, values = _where(report, "day", report.period.start, report.period.end)
        sums = ", ".join(f"COALESCE(SUM({o}), 0) AS {o}" for o in OUTCOMES)
        rows = await run(f"SELECT {sums} FROM rollup_access_day WHERE {where}", values)
        return {o: int(rows[0][o]) for o in OUTCOMES if rows[0][o]}


# ---------------------------------------------------------------------------- raw rows


def _scope(report: Report, period: Period | None = None) -> dict[str, Any]:
    period = period or report.period
    scope: dict[str, Any] = {
        "organisation_id__in": report.organisations,
        "day__gte": period.start,
        "day__lte": period.end,
    }
    if report.team_id:
        scope["team_id"] = report.team_id
    return scope


class RawRows:
    """The reference: every figure straight from `involvement` (and `equality_response`), and
    access and wellbeing from their own rows joined to bookings by start time."""

    async def by(self, report: Report, column: str) -> dict[tuple[int, Any], Totals]:
        rows = (
            await Involvement.filter(**_scope(report))
            .annotate(
                activities=Count("activity_id", distinct=True),
                involvements=Count("id"),
                minutes=Sum("minutes"),
                fees=Sum("fee_pence"),
                expenses=Sum("expenses_pence"),
            )
            .group_by("organisation_id", column)
            .values(
                "organisation_id",
                column,
                "activities",
                "involvements",
                "minutes",
                "fees",
                "expenses",
            )
        )
        return {
            (row["organisation_id"], row[column]): Totals(
                activities=int(row["activities"]),
                involvements=int(row["involvements"]),
                minutes=int(row["minutes"] or 0),
                fees=int(row["fees"] or 0),
                expenses=int(row["expenses"] or 0),
            )
            for row in rows
        }

    async def people(self, report: Report) -> People:
        scope = _scope(report)
        by_type = (
            await Involvement.filter(**scope)
            .annotate(people=Count("representative_id", distinct=True))
            .group_by("representative_type")
            .values("representative_type", "people")
        )
        total = (
            await Involvement.filter(**scope)
            .annotate(people=Count("representative_id", distinct=True))
            .values("people")
        )
        by_organisation = (
            await Involvement.filter(**scope)
            .annotate(people=Count("representative_id", distinct=True))
            .group_by("organisation_id")
            .values("organisation_id", "people")
        )
        team = {"team_id": report.team_id} if report.team_id else {}
        # New this period: people whose first involvement ever falls inside it.
        new = len(
            await Involvement.filter(organisation_id__in=report.organisations, **team)
            .annotate(first_day=Min("day"))
            .group_by("representative_id")
            .filter(first_day__gte=report.period.start, first_day__lte=report.period.end)
            .values("representative_id")
        )
        return People(
            by_type={r["representative_type"]: int(r["people"]) for r in by_type},
            total=int(total[0]["people"] or 0) if total else 0,
            new=new,
            by_organisation={r["organisation_id"]: int(r["people"]) for r in by_organisation},
            answers=await self._answers(report),
        )

    async def projects(self, report: Report) -> list[tuple[int, int]]:
        rows = (
            await Involvement.filter(
                **_scope(report), project_id__isnull=False, category__isnull=False
            )
            .annotate(categories=Count("category", distinct=True), touches=Count("id"))
            .group_by("project_id")
            .values("project_id", "categories", "touches")
        )
        return sorted((int(r["categories"]), int(r["touches"])) for r in rows)

    async def _answers(self, report: Report) -> dict[str, dict[str, int]]:
        involved = Involvement.filter(**_scope(report)).distinct().values("representative_id")
        answers = EqualityResponse.filter(representative_id__in=Subquery(involved))
        found: dict[str, dict[str, int]] = {}
        for question in QUESTIONS:
            rows = (
                await answers.annotate(n=Count("id"))
                .group_by(question.key)
                .values(question.key, "n")
            )
            counts = {r[question.key]: int(r["n"]) for r in rows if r[question.key] is not None}
            if counts:
                found[question.key] = counts
        return found

    async def access(self, report: Report) -> tuple[int, int]:
        scope = _booking_scope(report, "booking__")
        arranged = await AccessArrangement.filter(**scope).count()
        on_time = await AccessArrangement.filter(**scope, done_on_time=True).count()
        return arranged, on_time

    async def delivered(self, report: Report) -> tuple[int, int]:
        whole_organisations(report)
        found = (
            await Involvement.filter(**_scope(report), kind=TRAINING_DELIVERY)
            .annotate(
                sessions=Count("activity_id", distinct=True),
                people=Count("representative_id", distinct=True),
            )
            .values("sessions", "people")
        )
        return int(found[0]["sessions"] or 0), int(found[0]["people"] or 0)

    async def wellbeing(self, report: Report) -> dict[str, int]:
        rows = (
            await WellbeingCheck.filter(**_booking_scope(report, "booking__"))
            .annotate(n=Count("id"))
            .group_by("outcome")
            .values("outcome", "n")
        )
        return {str(getattr(r["outcome"], "value", r["outcome"])): int(r["n"]) for r in rows}


def _booking_scope(report: Report, prefix: str = "") -> dict[str, Any]:
    """Bookings starting in the period (London days) at the report's organisations and team."""
    scope: dict[str, Any] = {
        f"{prefix}activity__organisation_id__in": report.organisations,
        f"{prefix}starts_at__gte": london_midnight(report.period.start),
        f"{prefix}starts_at__lt": london_midnight(report.period.end + dt.timedelta(days=1)),
    }
    if report.team_id:
        scope[f"{prefix}activity__team_id"] = report.team_id
    return scope


ROLLUPS: Figures = Rollups()
RAW_ROWS: Figures = RawRows()
