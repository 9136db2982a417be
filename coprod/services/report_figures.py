"""Where a report's figures come from. `Rollups` reads the roll-up tables (what the service
uses); `RawRows` computes the same figures from the flat involvement rows, as reports did before
the roll-ups, and is kept so that tests and bench/report.py can prove the two agree.

Each returns raw counts; suppression happens afterwards, in `reports.build`, whichever source
gave them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tortoise.expressions import Subquery
from tortoise.functions import Count, Min, Sum

from coprod.domain.equality import QUESTIONS
from coprod.domain.reporting import OUTCOMES, WHOLE_ORGANISATION, Period, whole_months
from coprod.domain.scheduling import london_midnight
from coprod.models import AccessArrangement, EqualityResponse, Involvement, WellbeingCheck
from coprod.services.rollups import run

if TYPE_CHECKING:
    from coprod.services.reports import Report


@dataclass
class Totals:
    """One group's sums: by category, by mode, or by member organisation."""

    activities: int = 0
    involvements: int = 0
    people: int = 0
    minutes: int = 0
    fees: int = 0
    expenses: int = 0


class Figures(Protocol):
    async def by(self, report: Report, column: str) -> dict[Any, Totals]: ...

    async def people(self, report: Report) -> dict[str, int]:
        """Distinct people: `total`, `patient`, `carer`, `both`, and `new` this period."""
        ...

    async def projects(self, report: Report) -> list[tuple[int, int]]:
        """For each project with involvement in a category: (categories, involvements)."""
        ...

    async def answers(self, report: Report) -> dict[str, dict[str, int]]:
        """For each equality question, how many people involved gave each answer."""
        ...

    async def members(self, report: Report) -> dict[int, Totals]: ...

    async def access(self, report: Report) -> tuple[int, int]:
        """Access arrangements for bookings starting in the period: (made, done on time)."""
        ...

    async def wellbeing(self, report: Report) -> dict[str, int]:
        """Wellbeing checks for bookings starting in the period, by outcome."""
        ...


# ---------------------------------------------------------------------------- roll-ups


def _in(ids: list[int]) -> str:
    return f"({', '.join('?' * len(ids))})"


def _where(report: Report, column: str, start: Any, end: Any) -> tuple[str, list[Any]]:
    sql = f"organisation_id IN {_in(report.organisations)} AND {column} BETWEEN ? AND ?"
    values: list[Any] = [*report.organisations, start, end]
    if report.team_id:
        sql += " AND team_id = ?"
        values.append(report.team_id)
    return sql, values


def _involved(report: Report) -> tuple[str, list[Any]]:
    """Who took part in the period, a row per person and month or day (so not distinct): whole
    months from the monthly roll-up, the days either side of them from the daily one (whose
    team 0 is no team, so a report across teams reads all its rows)."""
    months, ends = whole_months(report.period)
    parts, values = [], []
    columns = "organisation_id, representative_id, representative_type"
    if months:
        # The monthly roll-up has a row for the whole organisation (team 0) as well as each team.
        parts.append(
            f"SELECT {columns} FROM rollup_person_month WHERE organisation_id IN"
            f" {_in(report.organisations)} AND month BETWEEN ? AND ? AND team_id = ?"
        )
        values += [*report.organisations, *months, report.team_id or WHOLE_ORGANISATION]
    for days in ends:
        where, v = _where(report, "day", days.start, days.end)
        parts.append(f"SELECT {columns} FROM rollup_person_day WHERE {where}")
        values += v
    return " UNION ALL ".join(parts), values


class Rollups:
    async def by(self, report: Report, column: str) -> dict[Any, Totals]:
        if not report.organisations:
            return {}
        where, values = _where(report, "day", report.period.start, report.period.end)
        rows = await run(
            f"SELECT {column} AS k, COUNT(DISTINCT NULLIF(activity_id, 0)) AS a,"
            " SUM(involvements) AS i, SUM(minutes) AS m, SUM(fee_pence) AS f,"
            f" SUM(expenses_pence) AS e FROM rollup_activity_day WHERE {where} GROUP BY {column}",
            values,
        )
        return {
            (r["k"] or None): Totals(
                activities=int(r["a"]),
                involvements=int(r["i"]),
                minutes=int(r["m"]),
                fees=int(r["f"]),
                expenses=int(r["e"]),
            )
            for r in rows
        }

    async def people(self, report: Report) -> dict[str, int]:
        if not report.organisations:
            return {"total": 0, "new": 0}
        involved, values = _involved(report)
        rows = await run(
            "SELECT representative_type AS t, COUNT(DISTINCT representative_id) AS n"
            f" FROM ({involved}) involved GROUP BY representative_type",
            values,
        )
        total = await run(
            f"SELECT COUNT(DISTINCT representative_id) AS n FROM ({involved}) involved", values
        )
        first = (
            f"organisation_id IN {_in(report.organisations)} AND team_id = ?"
            " AND first_day BETWEEN ? AND ?"
        )
        new = await run(
            f"SELECT COUNT(*) AS n FROM rollup_person_first WHERE {first}",
            [
                *report.organisations,
                report.team_id or WHOLE_ORGANISATION,
                report.period.start,
                report.period.end,
            ],
        )
        return {
            **{r["t"]: int(r["n"]) for r in rows},
            "total": int(total[0]["n"]),
            "new": int(new[0]["n"]),
        }

    async def projects(self, report: Report) -> list[tuple[int, int]]:
        if not report.organisations:
            return []
        where, values = _where(report, "day", report.period.start, report.period.end)
        rows = await run(
            "SELECT COUNT(DISTINCT category) AS c, SUM(involvements) AS i"
            f" FROM rollup_activity_day WHERE {where} AND project_id <> 0 AND category <> ''"
            " GROUP BY project_id",
            values,
        )
        return [(int(r["c"]), int(r["i"])) for r in rows]

    async def answers(self, report: Report) -> dict[str, dict[str, int]]:
        if not report.organisations:
            return {}
        involved, values = _involved(report)
        # Every question in one statement, from one pass over the answers of the people
        # involved (the database keeps a list used more than once).
        keys = ", ".join(q.key for q in QUESTIONS)
        per_question = " UNION ALL ".join(
            f"SELECT '{q.key}' AS q, {q.key} AS a, COUNT(*) AS n FROM answered"
            f" WHERE {q.key} IS NOT NULL GROUP BY {q.key}"
            for q in QUESTIONS
        )
        rows = await run(
            f"WITH answered AS (SELECT {keys} FROM equality_response WHERE representative_id"
            f" IN (SELECT representative_id FROM ({involved}) involved)) {per_question}",
            values,
        )
        found: dict[str, dict[str, int]] = {}
        for r in rows:
            found.setdefault(r["q"], {})[r["a"]] = int(r["n"])
        return found

    async def members(self, report: Report) -> dict[int, Totals]:
        if not report.organisations:
            return {}
        where, values = _where(report, "day", report.period.start, report.period.end)
        rows = await run(
            "SELECT organisation_id AS o, SUM(involvements) AS i, SUM(minutes) AS m,"
            " SUM(fee_pence) AS f, SUM(expenses_pence) AS e"
            f" FROM rollup_activity_day WHERE {where} GROUP BY organisation_id",
            values,
        )
        involved, values = _involved(report)
        people = await run(
            "SELECT organisation_id AS o, COUNT(DISTINCT representative_id) AS n"
            f" FROM ({involved}) involved GROUP BY organisation_id",
            values,
        )
        counted = {r["o"]: int(r["n"]) for r in people}
        return {
            r["o"]: Totals(
                involvements=int(r["i"]),
                people=counted.get(r["o"], 0),
                minutes=int(r["m"]),
                fees=int(r["f"]),
                expenses=int(r["e"]),
            )
            for r in rows
        }

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

    async def by(self, report: Report, column: str) -> dict[Any, Totals]:
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
        return {
            row[column]: Totals(
                activities=int(row["activities"]),
                involvements=int(row["involvements"]),
                minutes=int(row["minutes"] or 0),
                fees=int(row["fees"] or 0),
                expenses=int(row["expenses"] or 0),
            )
            for row in rows
        }

    async def people(self, report: Report) -> dict[str, int]:
        scope = _scope(report)
        rows = (
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
        team = {"team_id": report.team_id} if report.team_id else {}
        # New this period: people whose first involvement ever falls inside it.
        new = len(
            await Involvement.filter(organisation_id__in=report.organisations, **team)
            .annotate(first_day=Min("day"))
            .group_by("representative_id")
            .filter(first_day__gte=report.period.start, first_day__lte=report.period.end)
            .values("representative_id")
        )
        return {
            **{r["representative_type"]: int(r["people"]) for r in rows},
            "total": int(total[0]["people"] or 0) if total else 0,
            "new": new,
        }

    async def projects(self, report: Report) -> list[tuple[int, int]]:
        rows = (
            await Involvement.filter(
                **_scope(report), project_id__isnull=False, category__isnull=False
            )
            .annotate(categories=Count("category", distinct=True), touches=Count("id"))
            .group_by("project_id")
            .values("project_id", "categories", "touches")
        )
        return [(int(r["categories"]), int(r["touches"])) for r in rows]

    async def answers(self, report: Report) -> dict[str, dict[str, int]]:
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

    async def members(self, report: Report) -> dict[int, Totals]:
        rows = (
            await Involvement.filter(**_scope(report))
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
        return {
            r["organisation_id"]: Totals(
                involvements=int(r["involvements"]),
                people=int(r["people"]),
                minutes=int(r["minutes"] or 0),
                fees=int(r["fees"] or 0),
                expenses=int(r["expenses"] or 0),
            )
            for r in rows
        }

    async def access(self, report: Report) -> tuple[int, int]:
        scope = _booking_scope(report, "booking__")
        arranged = await AccessArrangement.filter(**scope).count()
        on_time = await AccessArrangement.filter(**scope, done_on_time=True).count()
        return arranged, on_time

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
