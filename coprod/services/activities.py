"""Projects and activities, and finding a time: options, invitations, answers, finalising."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.transactions import in_transaction

from coprod.config import get_settings
from coprod.domain import pay, scheduling
from coprod.domain.contracts import Term, is_in_force
from coprod.domain.scheduling import LONDON, Answer, Tally
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import (
    Activity,
    ActivityStatus,
    Category,
    Contract,
    Invitation,
    Kind,
    OptionAnswer,
    PaymentPreference,
    Project,
    Representative,
    RespectAcknowledgement,
    Team,
    TimeOption,
    User,
)
from coprod.security import hash_secret, new_secret
from coprod.services import audit, contact, rate_cards, wellbeing
from coprod.services.access import is_lead
from coprod.services.actor import Actor
from coprod.services.representatives import on_behalf
from coprod.templating import london, money
from coprod.validation import Checker, ValidationFailed, record_id


def _require_lead(actor: Actor) -> None:
    if not is_lead(actor):
        raise Forbidden


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


# --------------------------------------------------------------------------- projects


async def create_project(actor: Actor, data: Mapping[str, Any]) -> Project:
    _require_lead(actor)
    c = Checker(data)
    name = c.text("name", "the project's name")
    description = c.text("description", "a description", required=False, max_length=4000)
    agreement = c.text(
        "respect_agreement", "the respect agreement", required=False, max_length=8000
    )
    required = c.boolean("respect_agreement_required")
    if required and not agreement:
        c.fail("respect_agreement", "Enter the respect agreement, or do not require one")
    c.done()
    if await Project.filter(organisation_id=actor.organisation_id, name=name).exists():
        raise ValidationFailed.one("name", "There is already a project with this name")
    async with in_transaction():
        project = await Project.create(
            organisation_id=actor.organisation_id,
            name=name,
            description=description or None,
            respect_agreement=agreement or None,
            respect_agreement_required=required,
        )
        await audit.record(actor, "project.create", project, after=audit.snapshot(project))
    return project


async def acknowledge(actor: Actor, project: Project, rep: Representative | None) -> None:
    """Record that a representative (or, with rep None, the acting member of staff) agreed."""
    async with in_transaction():
        if rep is None:
            _, created = await RespectAcknowledgement.get_or_create(
                project=project, user=actor.user
            )
        else:
            _, created = await RespectAcknowledgement.get_or_create(
                project=project, representative=rep
            )
        if created:
            await audit.record(
                actor,
                "respect_agreement.acknowledge",
                project,
                after={"representative_id": rep.id if rep else None},
                on_behalf_of=on_behalf(actor, rep) if rep else None,
            )


async def has_acknowledged(project: Project | None, rep: Representative) -> bool:
    if project is None or not project.respect_agreement_required:
        return True
    return await RespectAcknowledgement.filter(project=project, representative=rep).exists()


# --------------------------------------------------------------------------- activities

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
    merged = {
        **({f: getattr(current, f) for f in ("kind", "category", *MODE_FIELDS)} if current else {}),
        **out,
    }
    kind = merged.get("kind")
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
    _require_lead(actor)
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
    activity = await Activity.get_or_none(id=activity_id, organisation_id=actor.organisation_id)
    if activity is None or not is_lead(actor):
        raise NotFound
    return activity


async def update_activity(actor: Actor, activity: Activity, data: Mapping[str, Any]) -> Activity:
    """Change the details. Moving the time goes through `bookings.reschedule`."""
    _require_lead(actor)
    values = await read_activity(actor, data, partial=True, current=activity)
    before = audit.snapshot(activity)
    async with in_transaction():
        for key, value in values.items():
            setattr(activity, key, value)
        await activity.save()
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
    _require_lead(actor)
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


@dataclass
class Invited:
    invitation: Invitation
    link: str | None  # to answer without signing in; None when they have no email


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


async def invitation_email(
    activity: Activity, rep: Representative, options: Sequence[TimeOption], link: str
) -> dict[str, Any]:
    """What the invitation says: the times, where and how to join each way on offer, what is
    paid, and whom to phone."""
    return {
        "name": rep.full_name,
        "title": activity.title,
        "description": activity.description or "",
        "options": [london(o.starts_at, "%A %-d %B %Y at %-I:%M%p") for o in options],
        "url": link,
        "deadline": london(activity.poll_deadline) if activity.poll_deadline else None,
        "modes": sorted(activity.modes),
        "ways": [how_to_join(activity, m) for m in sorted(activity.modes)],
        "paid": await what_is_paid(activity, rep, options[0].starts_at) if options else None,
        "contact": await lead_contact(activity, rep),
    }


async def invite(
    actor: Actor, activity: Activity, representative_ids: Sequence[int]
) -> list[Invited]:
    _require_lead(actor)
    if activity.status == ActivityStatus.CANCELLED:
        raise Conflict("This activity has been cancelled")
    options = await TimeOption.filter(activity=activity)
    if activity.status == ActivityStatus.PLANNING and len(options) < 2:
        raise ValidationFailed.one(
            "representative_ids", "Add at least two time options before inviting people"
        )
    reps = await Representative.filter(
        id__in=list(representative_ids),
        organisation_id=actor.organisation_id,
        archived_at__isnull=True,
    )
    if not reps:
        raise ValidationFailed.one("representative_ids", "Select at least one person to invite")
    today = dt.date.today()
    on_break = [r.full_name for r in reps if r.on_break(today)]
    if on_break:
        raise ValidationFailed.one(
            "representative_ids",
            f"{', '.join(on_break)} {'is' if len(on_break) == 1 else 'are'} taking a break. "
            "Invite them when it ends",
        )
    settings = get_settings()
    invited: list[Invited] = []
    async with in_transaction():
        for rep in reps:
            if await Invitation.filter(activity=activity, representative=rep).exists():
                continue
            secret = new_secret()
            invitation = await Invitation.create(
                activity=activity, representative=rep, token_hash=hash_secret(secret)
            )
            link = f"{settings.base_url}/answer/{secret}"
            if rep.email:
                await contact.email_representative(
                    rep,
                    template="invitation",
                    context=await invitation_email(activity, rep, options, link),
                    organisation_id=activity.organisation_id,
                )
            await audit.record(
                actor,
                "invitation.create",
                invitation,
                after={"representative_id": rep.id, "activity_id": activity.id},
            )
            invited.append(Invited(invitation, link if rep.email else None))
    return invited


async def invitation_by_token(secret: str) -> Invitation:
    invitation = await Invitation.get_or_none(token_hash=hash_secret(secret)).prefetch_related(
        "activity", "representative"
    )
    if invitation is None or invitation.activity.status == ActivityStatus.CANCELLED:
        raise NotFound
    return invitation


async def record_answers(
    actor: Actor | None, invitation: Invitation, data: Mapping[str, Any]
) -> Invitation:
    """Answers for each option (`answer_<option id>` or `answers: {id: answer}`) and a mode.

    `actor` is None when the person answers through their own link, or a lead answering for
    someone, e.g. after a phone call.
    """
    activity = await invitation.activity
    rep = await invitation.representative
    if actor is not None and (not is_lead(actor) or rep.organisation_id != actor.organisation_id):
        raise NotFound
    if activity.poll_deadline and dt.datetime.now(dt.UTC) > activity.poll_deadline:
        raise Conflict("The time to answer has passed. Please contact your involvement lead")
    options = await TimeOption.filter(activity=activity)
    raw_answers = data.get("answers")
    given: dict[Any, Any] = raw_answers if isinstance(raw_answers, dict) else {}
    c = Checker(data)
    answers: dict[int, str] = {}
    for option in options:
        value = str(
            given.get(str(option.id), given.get(option.id, ""))
            if given
            else c.raw(f"answer_{option.id}")
        )
        if value not in {a.value for a in Answer}:
            c.fail(f"answer_{option.id}", f"Say if you can come on {london(option.starts_at)}")
        answers[option.id] = value
    mode = c.raw("mode")
    if (
        any(v in (Answer.YES, Answer.IF_NEED_BE) for v in answers.values())
        and mode not in activity.modes
    ):
        c.fail("mode", "Select how you would like to take part")
    comment = c.text("comment", "a comment", required=False, max_length=1000)
    c.done()
    async with in_transaction():
        for option_id, value in answers.items():
            row, _ = await OptionAnswer.get_or_create(
                invitation=invitation, option_id=option_id, defaults={"answer": value}
            )
            if row.answer != value:
                row.answer = value
                await row.save(update_fields=["answer"])
        # Tortoise types nullable text fields as plain str.
        invitation.mode = mode or None
        invitation.comment = comment or None  # type: ignore[assignment]
        invitation.answered_at = dt.datetime.now(dt.UTC)
        await invitation.save(update_fields=["mode", "comment", "answered_at"])
        who = actor or Actor(user=None, organisation_id=activity.organisation_id, via="link")
        await audit.record(
            who,
            "invitation.answer",
            invitation,
            after={"answers": {str(k): v for k, v in answers.items()}, "mode": mode or None},
            organisation_id=activity.organisation_id,
            on_behalf_of=rep.full_name if actor is not None else None,
        )
    return invitation


# --------------------------------------------------------------------------- the grid


@dataclass
class Cell:
    answer: str | None
    cannot_do: bool  # their standing "can't do" times include this slot
    on_break: bool
    no_contract: bool
    wellbeing_flag: bool  # shown to leads only


@dataclass
class GridRow:
    invitation: Invitation
    representative: Representative
    cells: dict[int, Cell] = field(default_factory=dict)


def part_of_day(moment: dt.datetime) -> str:
    hour = moment.astimezone(LONDON).hour
    return "morning" if hour < 12 else "afternoon" if hour < 17 else "evening"


def slot_of(moment: dt.datetime) -> str:
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[moment.astimezone(LONDON).weekday()]
    return f"{day}:{part_of_day(moment)}"


async def grid(
    actor: Actor, activity: Activity
) -> tuple[list[TimeOption], list[GridRow], dict[int, Tally]]:
    """Everyone invited against every option, with what a lead needs to see to choose."""
    _require_lead(actor)
    options = list(await TimeOption.filter(activity=activity))
    invitations = await Invitation.filter(activity=activity).prefetch_related(
        "representative", "answers"
    )
    window = get_settings().recovery_window_days
    rows = []
    all_answers: list[tuple[int, str]] = []
    for invitation in invitations:
        rep = invitation.representative
        answers = {a.option_id: a.answer for a in invitation.answers}
        all_answers += list(answers.items())
        terms = [
            Term(c.starts_on, c.ends_on, c.ended_on)
            for c in await Contract.filter(representative=rep)
        ]
        episodes = await wellbeing.episode_dates(rep)
        row = GridRow(invitation, rep)
        for option in options:
            day = scheduling.london_date(option.starts_at)
            row.cells[option.id] = Cell(
                answer=answers.get(option.id),
                cannot_do=slot_of(option.starts_at) in (rep.unavailable or []),
                on_break=rep.break_until is not None and day <= rep.break_until,
                no_contract=not any(is_in_force(t, day) for t in terms),
                wellbeing_flag=scheduling.needs_wellbeing_check(day, episodes, window),
            )
        rows.append(row)
    if any(any(c.wellbeing_flag for c in r.cells.values()) for r in rows):
        await audit.record(actor, "health.view", activity, after={"purpose": "invitation grid"})
    return options, rows, scheduling.tally(all_answers)
