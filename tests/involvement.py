"""Involvement for report tests, built the way people build it: a lead plans an activity, books
a representative, records their attendance, drafts and submits their claim, and a second lead
approves it. Reports then count what the services wrote; no test writes report rows itself.

`took_part` returns what the report should count for that attendance, worked out here from the
pay rules rather than read back, so a test can compare the report with an independent sum.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from coprod import clock
from coprod.models import Activity, Booking, Claim, Representative, Role
from coprod.services import (
    activities,
    attendance,
    auth,
    bookings,
    claims,
    contracts,
    money_states,
    representatives,
    wellbeing,
)
from coprod.services.actor import Actor

LONDON = ZoneInfo("Europe/London")
HALF_DAY, DAY = 7000, 14000  # the default rate card
MILEAGE_PENCE = 45  # per mile, the default


@dataclass
class Trust:
    organisation_id: int
    lead: Actor
    approver: Actor  # nobody approves a claim they made


async def trust(world: Any, name: str = "Northshire NHS Trust", slug: str = "trust") -> Trust:
    org = await world.org(name)
    lead = await world.user(org, f"lead@{slug}.example", Role.INVOLVEMENT_LEAD)
    approver = await world.user(org, f"approver@{slug}.example", Role.INVOLVEMENT_LEAD)
    return Trust(org.id, await auth.actor_for(lead, org.id), await auth.actor_for(approver, org.id))


async def person(
    t: Trust,
    name: str,
    kind: str = "patient",
    *,
    contract_from: dt.date,
    declines_payment: bool = False,
    equality: dict[str, str] | None = None,
) -> Representative:
    """A representative with a contract from `contract_from`, and equality answers (given with
    consent) if any."""
    rep = await representatives.create(
        t.lead,
        {
            "full_name": name,
            "representative_type": kind,
            "phone": "01632 960 001",
            "contact_channels": ["phone"],
            "payment_preference": "decline" if declines_payment else "paid",
        },
    )
    await contracts.create(
        t.lead, rep, {"role_title": "Expert by experience", "starts_on": contract_from.isoformat()}
    )
    if equality:
        # Consent given today: one given at the contract's start could be past its review date.
        await wellbeing.give_consent(t.lead, rep, {"purpose": "equality"})
        await wellbeing.save_equality(t.lead, rep, equality)
    return rep


async def took_part(
    t: Trust,
    rep: Representative,
    day: dt.date,
    *,
    category: str | None = "co_design",
    kind: str | None = None,
    mode: str = "video",
    minutes: int = 120,
    team_id: int | None = None,
    project_id: int | None = None,
) -> dict[str, Any]:
    """Plan, book and record attendance at an activity at 10:00 on `day` (in the past)."""
    ahead = dt.datetime.combine(clock.today() + dt.timedelta(days=5), dt.time(10))
    activity = await activities.create_activity(
        t.lead,
        {
            "title": f"{category or 'Other'} session",
            "kind": kind or ("meeting" if category else "training_received"),
            "category": category or "",
            "duration_minutes": str(minutes),
            "capacity": "20",
            "in_person": "true",
            "address": "1 High Street, Northshire",
            "video": "true",
            "video_link": "https://meet.example/room",
            "phone": "true",
            "dial_in": "01632 960 000",
            "team_id": str(team_id or ""),
            "project_id": str(project_id or ""),
            "starts_at": ahead.isoformat(),
        },
    )
    booking = await bookings.book(t.lead, activity, rep, mode)
    # Attendance is recorded once an activity has happened: move it to the day it took place,
    # as the claims tests do (the services never book into the past).
    start = dt.datetime.combine(day, dt.time(10), LONDON).astimezone(dt.UTC)
    await Activity.filter(id=activity.id).update(starts_at=start)
    await Booking.filter(id=booking.id).update(
        starts_at=start, ends_at=start + dt.timedelta(minutes=minutes)
    )
    booking = await Booking.get(id=booking.id)
    await attendance.record_attendance(
        t.lead, booking, {"attended": "yes", "attended_minutes": str(minutes)}
    )
    return {
        "organisation_id": t.organisation_id,
        "activity_id": activity.id,
        "project_id": project_id,
        "team_id": team_id,
        "representative_id": rep.id,
        "representative_type": rep.representative_type.value,
        "category": category,
        "mode": mode,
        "day": day,
        "minutes": minutes,
        "fee_pence": 0,
        "expenses_pence": 0,
    }


async def claimed_and_approved(
    t: Trust, rep: Representative, rows: list[dict[str, Any]], *, miles: int = 0
) -> Claim:
    """The representative's claim for the days in `rows` (one attendance a day), with `miles`
    of mileage on each day, submitted by the lead and approved by another lead. Fills in the
    fee and expenses the report should show for each row."""
    mine = [r for r in rows if r["representative_id"] == rep.id]
    days = [r["day"] for r in mine]
    assert len(set(days)) == len(days), "one attendance a day keeps each day's fee on one row"
    claim = await claims.generate_draft(
        t.lead, rep, {"period_start": min(days).isoformat(), "period_end": max(days).isoformat()}
    )
    for r in mine:
        if miles:
            await claims.add_expense(
                t.lead, claim, {"kind": "mileage", "day": r["day"].isoformat(), "miles": str(miles)}
            )
        declined = rep.payment_preference.value == "decline"
        r["fee_pence"] = 0 if declined else (HALF_DAY if r["minutes"] <= 240 else DAY)
        r["expenses_pence"] = miles * MILEAGE_PENCE
    await claims.submit(t.lead, claim)
    approved = await claims.approve(t.approver, claim, {})
    # Spend counts once the money goes out, which a pay run or a payroll export reports here.
    await money_states.money_went_out([approved])
    return approved


def last_financial_year() -> int:
    """The most recent financial year that has ended, so every day in it can be attended."""
    today = clock.today()
    return (today.year if today.month >= 4 else today.year - 1) - 1


async def seed(
    t: Trust,
    rng: Any,
    *,
    first: dt.date,
    n: int = 60,
    reps: int = 10,
    teams: tuple[int | None, ...] = (None,),
    projects: tuple[int | None, ...] = (None,),
    declining: int = 1,
    name: str = "Person",
    equality: Callable[[int], dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """`n` attendances of `reps` people on days from 60 days before `first` to about 14 months
    after it (never later than yesterday), each claimed and approved. The first `declining`
    people decline payment; `equality(i)` gives person i's equality answers."""
    yesterday = clock.today() - dt.timedelta(days=1)
    start = first - dt.timedelta(days=60)
    span = min((yesterday - start).days, 480)
    people = [
        await person(
            t,
            f"{name} {t.organisation_id}-{i}",
            ("patient", "carer", "both")[i % 3],
            contract_from=start,
            declines_payment=i < declining,
            equality=equality(i) if equality else None,
        )
        for i in range(reps)
    ]
    taken: set[tuple[int, dt.date]] = set()
    rows = []
    while len(rows) < n:
        rep = rng.choice(people)
        day = start + dt.timedelta(days=rng.randrange(span + 1))
        if (rep.id, day) in taken:
            continue
        taken.add((rep.id, day))
        rows.append(
            await took_part(
                t,
                rep,
                day,
                category=rng.choice(
                    ["co_design", "co_decision", "co_delivery", "co_evaluation", None]
                ),
                mode=rng.choice(["in_person", "video", "phone"]),
                minutes=rng.choice([60, 120, 240, 300]),
                team_id=rng.choice(teams),
                project_id=rng.choice(projects),
            )
        )
    for i, rep in enumerate(people):
        if any(r["representative_id"] == rep.id for r in rows):
            await claimed_and_approved(t, rep, rows, miles=i % 3 * 10)
    return rows
