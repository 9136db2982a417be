"""Planning and changing activities: their details, ways to take part and the times on offer,
and what an activity's emails tell a representative about it (how to join, what is paid, whom
to ask)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tortoise.expressions import Subquery
from tortoise.functions import Lower
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from coprod import db
from coprod.domain import pay, scheduling
from coprod.domain.scheduling import LONDON
from coprod.errors import Conflict, NotFound
from coprod.models import (
    HOLDING,
    Activity,
    ActivityStatus,
    Booking,
    BookingStatus,
    Category,
    Course,
    Invitation,
    Involvement,
    Kind,
    PaymentPreference,
    Project,
    Representative,
    Team,
    TimeOption,
    User,
)
from coprod.services import audit, rate_cards, rollups
from coprod.services.access import is_lead, require_lead
from coprod.services.actor import Actor
from coprod.templating import money
from coprod.validation import Checker, ValidationFailed, record_id


def parse_local(value: str) -> dt.datetime | None:
    """A date and time as people in England mean it (e.g. from a datetime-local input) in UTC."""
    try:
        naive = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=LONDON)
    return naive.astimezone(dt.UTC)


def read_moment(c: Checker, name: str, label: str, *, required: bool = True) -> dt.datetime | None:
    """From an ISO string (JSON) or the page's date input plus a time box."""
    raw = c.raw(name)
    if not raw and c.raw(f"{name}[day]"):
        day = c.date(name, label)
        time = c.raw(f"{name}[time]")
        if day is None:
            return None
        if not time:
            c.fail(name, f"Enter the time of {label}, like 10:30")
            return None
        raw = f"{day.isoformat()}T{time}"
    if not raw:
        if required:
            c.fail(name, f"Enter {label}")
        return None
    moment = parse_local(raw)
    if moment is None:
        c.fail(name, f"Enter {label} as a real date and a time like 10:30")
    return moment


MODE_FIELDS = (
    "in_person",
    "venue",
    "address",
    "step_free",
    "transport_offered",
    "video",
    "video_link",
    "phone",
    "dial_in",
    "dial_in_pin",
)


async def read_activity(
    actor: Actor, data: Mapping[str, Any], *, partial: bool, current: Activity | None = None
) -> dict[str, Any]:
    present = (
        set(data)
        if partial
        else {
            "title",
            "description",
            "project_id",
            "team_id",
            "category",
            "kind",
            "duration_minutes",
            "preparation_minutes",
            "capacity",
            "course_id",
            "audience",
            *MODE_FIELDS,
        }
    )
    c = Checker(data)
    out: dict[str, Any] = {}
    if "title" in present:
        out["title"] = c.text("title", "a title")
    if "description" in present:
        out["description"] = (
            c.text("description", "a description", required=False, max_length=4000) or None
        )
    if "kind" in present:
        out["kind"] = c.choice("kind", "what kind of activity it is", [k.value for k in Kind])
    if "category" in present:
        raw = c.raw("category")
        out["category"] = raw or None
        if raw and raw not in {cat.value for cat in Category}:
            c.fail("category", "Select which co-production activity this is")
    if "duration_minutes" in present:
        out["duration_minutes"] = c.integer(
            "duration_minutes", "how long it lasts, in minutes", minimum=15, maximum=720
        )
    if "preparation_minutes" in present:
        out["preparation_minutes"] = (
            c.integer("preparation_minutes", "preparation time, in minutes", minimum=0, maximum=480)
            if c.raw("preparation_minutes")
            else 0
        )
    if "capacity" in present:
        out["capacity"] = c.integer("capacity", "the number of places", minimum=1, maximum=500)
    for flag in ("in_person", "step_free", "transport_offered", "video", "phone"):
        if flag in present:
            out[flag] = c.boolean(flag)
    for name, label, length in (
        ("venue", "the venue", 200),
        ("address", "the address", 1000),
        ("video_link", "the video link", 500),
        ("dial_in", "the dial-in number", 40),
        ("dial_in_pin", "the PIN", 20),
    ):
        if name in present:
            out[name] = c.text(name, label, required=False, max_length=length) or None
    for name, model in (("project_id", Project), ("team_id", Team)):
        if name in present:
            raw = c.raw(name)
            out[name] = None
            if raw:
                chosen = record_id(raw)
                found = (
                    chosen is not None
                    and await model.filter(
                        id=chosen, organisation_id=actor.organisation_id
                    ).exists()
                )
                if found:
                    out[name] = chosen
                else:
                    c.fail(
                        name,
                        "Select a project from the list"
                        if name == "project_id"
                        else "Select a team from the list",
                    )
    if "course_id" in present:
        raw = c.raw("course_id")
        chosen = record_id(raw) if raw else None
        out["course_id"] = chosen
        if raw and not (
            chosen is not None
            and await Course.filter(id=chosen, organisation_id=actor.organisation_id).exists()
        ):
            c.fail("course_id", "Select a course from the list")
    if "audience" in present:
        out["audience"] = (
            c.text("audience", "who the training is for", required=False, max_length=200) or None
        )
    merged = {
        **(
            {f: getattr(current, f) for f in ("kind", "category", "course_id", *MODE_FIELDS)}
            if current
            else {}
        ),
        **out,
    }
    kind = merged.get("kind")
    if merged.get("course_id") and kind != Kind.TRAINING_RECEIVED:
        c.fail("course_id", "Choose a course only for training that representatives receive")
    if out.get("audience") and kind != Kind.TRAINING_DELIVERY:
        # Only training delivered to staff has an audience to report.
        out["audience"] = None
    if (
        kind in {k.value for k in Kind}
        and Kind(kind).needs_category
        and not merged.get("category")
        and "category" not in {e.field for e in c.errors}
    ):
        c.fail("category", "Select which co-production activity this is")
    if not any(merged.get(m) for m in ("in_person", "video", "phone")):
        c.fail(
            "in_person",
            "Select at least one way to take part. "
            "A phone option helps people who cannot travel or use video",
        )
    if merged.get("in_person") and not merged.get("address"):
        c.fail("address", "Enter the address of the venue")
    if merged.get("video") and not merged.get("video_link"):
        c.fail("video_link", "Enter the video link")
    if merged.get("video_link") and not str(merged["video_link"]).startswith("https://"):
        c.fail("video_link", "Enter the video link starting with https://")
    if merged.get("phone") and not merged.get("dial_in"):
        c.fail("dial_in", "Enter the dial-in phone number")
    c.done()
    return out


async def create_activity(actor: Actor, data: Mapping[str, Any]) -> Activity:
    """A fixed-time activity when `starts_at` is given; otherwise time options follow."""
    require_lead(actor)
    values = await read_activity(actor, data, partial=False)
    c = Checker(data)
    starts_at = read_moment(c, "starts_at", "the date and time it starts", required=False)
    c.done()
    if starts_at is not None and starts_at <= dt.datetime.now(dt.UTC):
        raise ValidationFailed.one("starts_at", "The start must be in the future")
    async with in_transaction():
        activity = await Activity.create(
            organisation_id=actor.organisation_id,
            lead=actor.user,
            starts_at=starts_at,
            status=ActivityStatus.SCHEDULED if starts_at else ActivityStatus.PLANNING,
            **values,
        )
        await audit.record(actor, "activity.create", activity, after=audit.snapshot(activity))
    return activity


async def plan(actor: Actor, data: Mapping[str, Any]) -> Activity:
    """A new activity with either its fixed time (`timing` "fixed") or the times to offer,
    saved together or not at all."""
    fixed = data.get("timing") == "fixed"
    async with in_transaction():
        activity = await create_activity(
            actor, data if fixed else {k: v for k, v in data.items() if k != "starts_at"}
        )
        if not fixed:
            await add_options(actor, activity, data)
    return activity


async def activity_for(actor: Actor, activity_id: int) -> Activity:
    if not is_lead(actor) or actor.organisation_id is None:
        raise NotFound
    activity = await db.get_or_none(Activity, id=activity_id, organisation_id=actor.organisation_id)
    if activity is None:
        raise NotFound
    return activity


def people_to_add(actor: Actor, activity: Activity, find: str = "") -> QuerySet[Representative]:
    """Who a lead may still invite to an activity that is finding its time, or book onto one
    that is scheduled, ordered by name: a query, so that a page shows one page of a trust's
    hundreds of people, narrowed by `find` (part of a name)."""
    require_lead(actor)
    query = Representative.filter(organisation_id=actor.organisation_id, archived_at__isnull=True)
    if find:
        query = query.filter(full_name__icontains=find)
    taken = (
        Invitation.filter(activity_id=activity.id)
        if activity.status == ActivityStatus.PLANNING
        else Booking.filter(activity_id=activity.id, status__in=HOLDING)
    )
    query = query.exclude(id__in=Subquery(taken.values("representative_id")))
    return query.annotate(name_key=Lower("full_name")).order_by("name_key", "id")


# What an involvement row takes from its activity when attendance is recorded.
FOLLOWED = ("team_id", "project_id", "category", "kind")


async def _involvement_follows(activity: Activity) -> None:
    """Attendance already recorded follows a lead's correction of the activity's team, project,
    category or kind: its involvement rows, and so the reports' roll-ups."""
    attended = Booking.filter(activity_id=activity.id, status=BookingStatus.ATTENDED)
    # Locked in id order, as costing a claim locks them, which also moves their roll-ups.
    rows = (
        await Involvement.filter(booking_id__in=Subquery(attended.values("id")))
        .select_for_update()
        .order_by("id")
    )
    if not rows:
        return
    now = {
        "team_id": activity.team_id,
        "project_id": activity.project_id,
        # Enums, or the form's strings they were just set from: the same text either way.
        "category": str(activity.category) if activity.category else None,
        "kind": str(activity.kind),
    }
    before = [rollups.values_of(row) for row in rows]
    await Involvement.filter(id__in=[row.id for row in rows]).update(**now)
    await rollups.involvement_changed(before, [{**row, **now} for row in before])


async def update_activity(actor: Actor, activity: Activity, data: Mapping[str, Any]) -> Activity:
    """Change the details. Moving the time goes through `bookings.reschedule`."""
    require_lead(actor)
    values = await read_activity(actor, data, partial=True, current=activity)
    before = audit.snapshot(activity)
    async with in_transaction():
        corrected = any(k in values and values[k] != getattr(activity, k) for k in FOLLOWED)
        # Access arrangements and wellbeing checks are rolled up by the activity's team.
        moved = "team_id" in values and values["team_id"] != activity.team_id
        if corrected:  # a move too
            await db.lock(Activity.filter(id=activity.id))
        if moved:
            booked = [b["id"] for b in await Booking.filter(activity_id=activity.id).values("id")]
            access = await rollups.access_of(booked)
        for key, value in values.items():
            setattr(activity, key, value)
        await activity.save()
        if moved:
            await rollups.access_changed(access, await rollups.access_of(booked))
        if corrected:
            await _involvement_follows(activity)
        after = audit.snapshot(activity)
        changed = {k for k in after if after[k] != before.get(k)}
        await audit.record(
            actor,
            "activity.update",
            activity,
            before={k: before.get(k) for k in changed},
            after={k: after[k] for k in changed},
        )
    return activity


async def add_options(
    actor: Actor, activity: Activity, data: Mapping[str, Any]
) -> list[TimeOption]:
    """Options come as `options` (a list of ISO date-times) or as option_1 .. option_6 boxes."""
    require_lead(actor)
    if activity.status != ActivityStatus.PLANNING:
        raise Conflict("This activity already has a date and time", "options")
    raw = data.get("options")
    values = raw if isinstance(raw, list) else [data.get(f"option_{i}") for i in range(1, 7)]
    c = Checker({})
    moments: list[dt.datetime] = []
    now = dt.datetime.now(dt.UTC)
    for index, value in enumerate(values, start=1):
        if not value:
            continue
        name = "options" if isinstance(raw, list) else f"option_{index}"
        moment = parse_local(str(value))
        if moment is None:
            c.fail(name, "Enter each option as a real date and a time like 10:30")
        elif moment <= now:
            c.fail(name, "Each option must be in the future")
        else:
            moments.append(moment)
    existing = await TimeOption.filter(activity=activity).count()
    if existing + len(set(moments)) < 2 and not c.errors:
        c.fail(
            "options" if isinstance(raw, list) else "option_1",
            "Offer at least two times, so people can choose",
        )
    c.done()
    async with in_transaction():
        created = []
        for moment in sorted(set(moments)):
            option, made = await TimeOption.get_or_create(activity=activity, starts_at=moment)
            if made:
                created.append(option)
        await audit.record(
            actor,
            "activity.options",
            activity,
            after={"options": [o.starts_at.isoformat() for o in created]},
        )
    return created


def location_for(activity: Activity, mode: str) -> str:
    if mode == "in_person":
        return ", ".join(p for p in (activity.venue, activity.address) if p)
    if mode == "phone":
        pin = f", PIN {activity.dial_in_pin}" if activity.dial_in_pin else ""
        return f"Phone {activity.dial_in}{pin}"
    return activity.video_link or ""


def how_to_join(activity: Activity, mode: str) -> str:
    if mode == "in_person":
        extra = []
        if activity.step_free:
            extra.append("There is step-free access.")
        if activity.transport_offered:
            extra.append("Transport or a pick-up can be arranged: ask your involvement lead.")
        return f"In person at {location_for(activity, mode)}. " + " ".join(extra)
    if mode == "phone":
        return f"By phone: call {activity.dial_in}" + (
            f" and enter PIN {activity.dial_in_pin}." if activity.dial_in_pin else "."
        )
    return f"By video: {activity.video_link}"


async def lead_contact(activity: Activity, rep: Representative) -> str:
    """Whom to ask, by phone where we have the number: the activity's organiser, or else the
    person's own involvement lead."""
    lead_id = activity.lead_id or rep.lead_id
    lead = await User.get_or_none(id=lead_id) if lead_id else None
    if lead is None:
        return "If you have any questions, contact the involvement team."
    if lead.phone:
        return (
            f"If you have any questions, phone your involvement lead, {lead.full_name}, "
            f"on {lead.phone}."
        )
    return (
        f"If you have any questions, contact your involvement lead, {lead.full_name}, at "
        f"{lead.email}."
    )


async def what_is_paid(activity: Activity, rep: Representative, starts_at: dt.datetime) -> str:
    """The fee for the activity's paid time at the rates in force that day, or expenses only
    for someone who declined payment. Time elsewhere the same day can raise a half day to a
    day; the claim works that out."""
    if rep.payment_preference == PaymentPreference.DECLINE:
        return (
            "Expenses only: you chose not to be paid for your time. Your travel and other "
            "expenses are paid back."
        )
    day = scheduling.london_date(starts_at)
    minutes = activity.duration_minutes + activity.preparation_minutes
    try:
        rates = pay.rates_on(day, await rate_cards.rate_card(activity.organisation_id))
    except ValueError:
        return "Your travel and other expenses are paid back."
    fee = pay.fee_for_day(day, minutes, rates)
    if fee.band == pay.Band.NONE:
        return "Your travel and other expenses are paid back."
    what = "a half day" if fee.band == pay.Band.HALF_DAY else "a day"
    return f"{money(fee.pence)} for {what}, and your travel and other expenses are paid back."
