"""The co-production report's figures on closing the loop: survey answers, "You said, we did"
actions, standards met, and representatives' feedback on activities.

Each is one aggregate statement (GROUP BY in the database), whatever the number of teams or
rows, and Python only arranges the handful of result rows. Counts of answers and of people
giving feedback are suppressed from 1 to 4 (coprod.domain.reporting), wherever the report goes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from tortoise.functions import Count, Sum

from coprod.domain import standards
from coprod.domain.activity_feedback import share
from coprod.domain.reporting import suppress, suppress_with_total
from coprod.domain.scheduling import london_midnight
from coprod.models import ActivityFeedback, Team
from coprod.services.rollups import run

if TYPE_CHECKING:
    from coprod.services.reports import Report

AUDIENCES = {"patients": "Patients", "carers": "Carers", "representatives": "Representatives"}
STAGES = {"start": "Start of their time with the team", "end": "End", "not_said": "Not said"}
SOURCES = {"web": "Web or QR code", "paper": "Paper"}
ACTION_STATUSES = {
    "planned": "Planned",
    "in_progress": "In progress",
    "done": "Done",
    "not_possible": "Not possible",
}


def _in(ids: list[int]) -> str:
    return f"({', '.join('?' * len(ids))})"


def _scope(report: Report, prefix: str = "") -> tuple[str, list[Any]]:
    sql = f"{prefix}organisation_id IN {_in(report.organisations)}"
    values: list[Any] = list(report.organisations)
    if report.team_id:
        sql += f" AND {prefix}team_id = ?"
        values.append(report.team_id)
    return sql, values


def per_team(report: Report) -> bool:
    """Team by team for one organisation; a network's roll-up gives totals only."""
    return not report.roll_up


async def team_names(report: Report) -> dict[int, str]:
    if not report.organisations or not per_team(report):
        return {}
    return dict(
        await Team.filter(organisation_id__in=report.organisations).values_list("id", "name")
    )


# ---------------------------------------------------------------------------- survey answers


def _survey_counts(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {
        "audience": dict.fromkeys(AUDIENCES, 0),
        "stage": dict.fromkeys(STAGES, 0),
        "source": dict.fromkeys(SOURCES, 0),
    }
    for r in rows:
        n = int(r["n"])
        counts["audience"][r["audience"]] = counts["audience"].get(r["audience"], 0) + n
        stage = r["stage"] or "not_said"
        counts["stage"][stage] = counts["stage"].get(stage, 0) + n
        counts["source"][r["source"]] = counts["source"].get(r["source"], 0) + n
    return counts


def _safe_surveys(counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    total = sum(counts["audience"].values())
    out: dict[str, Any] = {"answers": suppress(total)}
    for breakdown, found in counts.items():
        out[f"by_{breakdown}"] = {k: suppress(v) for k, v in found.items()}
    return out


BREAKDOWNS = {"by_audience": AUDIENCES, "by_stage": STAGES, "by_source": SOURCES}


def _settle(rows: list[dict[str, Any]]) -> None:
    """Complementary suppression, until nothing more needs hiding: each breakdown of a row adds
    up to its answers, and each figure over the teams adds up to the total's, so a lone hidden
    count in either would show as the rest."""
    while True:
        before = repr(rows)
        for row in rows:
            for breakdown in BREAKDOWNS:
                row[breakdown] = suppress_with_total(row[breakdown])
        if len(rows) > 1:
            safe = suppress_with_total({str(i): row["answers"] for i, row in enumerate(rows)})
            for i, row in enumerate(rows):
                row["answers"] = safe[str(i)]
            for breakdown, keys in BREAKDOWNS.items():
                for key in keys:
                    cells = {str(i): row[breakdown][key] for i, row in enumerate(rows)}
                    for place, value in suppress_with_total(cells).items():
                        rows[int(place)][breakdown][key] = value
        if repr(rows) == before:
            return


async def surveys(report: Report, names: dict[int, str]) -> dict[str, Any]:
    if not report.organisations:
        return {"teams": [], "total": _safe_surveys(_survey_counts([]))}  # all zeros: safe
    sql, values = _scope(report)
    rows = await run(
        "SELECT team_id, audience, stage, source, COUNT(*) AS n FROM survey_response"
        f" WHERE {sql} AND received_on BETWEEN ? AND ?"
        " GROUP BY team_id, audience, stage, source",
        [*values, report.period.start, report.period.end],
    )
    teams = []
    if per_team(report):
        for team_id in sorted({int(r["team_id"]) for r in rows}, key=lambda t: names.get(t, "")):
            mine = [r for r in rows if int(r["team_id"]) == team_id]
            counts = _safe_surveys(_survey_counts(mine))
            teams.append({"team_id": team_id, "team": names.get(team_id, ""), **counts})
        _settle(teams)
    total = _safe_surveys(_survey_counts(rows))
    _settle([total])
    return {"teams": teams, "total": total}


# ---------------------------------------------------------------------------- actions


async def actions(report: Report, names: dict[int, str]) -> dict[str, Any]:
    """Done ones by the day they were done, within the period; the rest as they stand."""
    empty = dict.fromkeys(ACTION_STATUSES, 0)
    if not report.organisations:
        return {"teams": [], "total": {**empty, "all": 0}}
    sql, values = _scope(report)
    rows = await run(
        "SELECT team_id, status, COUNT(*) AS n FROM feedback_action"
        f" WHERE {sql} AND (status <> 'done' OR done_on BETWEEN ? AND ?)"
        " GROUP BY team_id, status",
        [*values, report.period.start, report.period.end],
    )
    by_team: dict[int, dict[str, int]] = {}
    total = dict(empty)
    for r in rows:
        team = by_team.setdefault(int(r["team_id"]), dict(empty))
        team[r["status"]] = int(r["n"])
        total[r["status"]] += int(r["n"])
    teams = (
        [
            {"team_id": t, "team": names.get(t, ""), **found, "all": sum(found.values())}
            for t, found in sorted(by_team.items(), key=lambda item: names.get(item[0], ""))
        ]
        if per_team(report)
        else []
    )
    return {"teams": teams, "total": {**total, "all": sum(total.values())}}


# ---------------------------------------------------------------------------- standards


def _share(s: standards.SectionShare) -> dict[str, Any]:
    return {
        "section": s.section,
        "standards": s.standards,
        "met": s.met,
        "partly_met": s.partly_met,
        "not_met": s.not_met,
        "not_marked": s.not_marked,
        "percent_met": s.percent_met,
    }


async def standards_met(report: Report, names: dict[int, str]) -> list[dict[str, Any]]:
    """For each team that has marked any standard: the share met per section and overall, as
    the marks stand (a self-review is not tied to a period)."""
    if not report.organisations or not per_team(report):
        return []
    sql, values = _scope(report)
    rows = await run(
        f"SELECT team_id, number, status FROM standard_review WHERE {sql} AND edition = ?",
        [*values, standards.EDITION],
    )
    marks: dict[int, dict[int, str]] = {}
    for r in rows:
        marks.setdefault(int(r["team_id"]), {})[int(r["number"])] = str(r["status"])
    out = []
    for team_id, found in sorted(marks.items(), key=lambda item: names.get(item[0], "")):
        sections, overall = standards.section_shares(found)
        out.append(
            {
                "team_id": team_id,
                "team": names.get(team_id, ""),
                "sections": [_share(s) for s in sections],
                "overall": _share(overall),
            }
        )
    return out


# ---------------------------------------------------------------------------- activity feedback


async def activity_feedback(report: Report) -> dict[str, Any]:
    """Feedback on activities held in the period. Everything is hidden when 1 to 4 gave it
    (an average of a few answers points to them), and the access share when 1 to 4 needed
    something."""
    given = rating = listened = needed = met = 0
    if report.organisations:
        scope: dict[str, Any] = {
            "organisation_id__in": report.organisations,
            "booking__starts_at__gte": london_midnight(report.period.start),
            "booking__starts_at__lt": london_midnight(report.period.end + dt.timedelta(days=1)),
        }
        if report.team_id:
            scope["activity__team_id"] = report.team_id
        rows = (
            await ActivityFeedback.filter(**scope)
            .annotate(n=Count("id"), r=Sum("rating"))
            .group_by("listened_to", "access_met")
            .values("listened_to", "access_met", "n", "r")
        )
        for row in rows:
            n = int(row["n"])
            listened_to = getattr(row["listened_to"], "value", row["listened_to"])
            access_met = getattr(row["access_met"], "value", row["access_met"])
            given += n
            rating += int(row["r"] or 0)
            listened += n if listened_to == "yes" else 0
            needed += n if access_met is not None else 0
            met += n if access_met == "yes" else 0
    if suppress(given) is None:
        return {
            "given": None,
            "average_rating": None,
            "listened_percent": None,
            "needed_access": None,
            "access_met_percent": None,
        }
    return {
        "given": given,
        "average_rating": round(rating / given, 1) if given else None,
        "listened_percent": share(listened, given),
        "needed_access": suppress(needed),
        "access_met_percent": share(met, needed) if suppress(needed) else None,
    }
