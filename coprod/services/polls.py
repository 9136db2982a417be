"""Finding a time: inviting people to answer for each time on offer, their answers, and the
grid a lead chooses from. The times are planned with the activity (`activities.add_options`);
choosing one (`finalise`) books the people chosen through `bookings.book`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.transactions import in_transaction

from coprod import clock
from coprod.config import get_settings
from coprod.domain import scheduling
from coprod.domain.contracts import Term, is_in_force
from coprod.domain.notifications import Channel
from coprod.domain.scheduling import LONDON, Answer, Refusal, Tally
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import (
    Activity,
    ActivityStatus,
    Booking,
    Contract,
    Invitation,
    OptionAnswer,
    Representative,
    TimeOption,
)
from coprod.security import hash_secret, new_secret
from coprod.services import audit, bookings, contact, wellbeing
from coprod.services.access import is_lead, require_lead
from coprod.services.activities import how_to_join, lead_contact, what_is_paid
from coprod.services.actor import Actor
from coprod.templating import london
from coprod.validation import Checker, ValidationFailed

# How a time on offer reads in an invitation, and in the acknowledgement of a texted answer.
OPTION_TIME = "%A %-d %B %Y at %-I:%M%p"


@dataclass
class Invited:
    invitation: Invitation
    link: str  # to answer without signing in


async def invitation_email(
    activity: Activity, rep: Representative, options: Sequence[TimeOption], link: str
) -> dict[str, Any]:
    """What the invitation says: the times, where and how to join each way on offer, what is
    paid, and whom to phone."""
    return {
        "name": rep.full_name,
        "title": activity.title,
        "description": activity.description or "",
        "options": [london(o.starts_at, OPTION_TIME) for o in options],
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
    require_lead(actor)
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
    today = clock.today()
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
            sent = await contact.notify(
                rep,
                kind="invitation",
                context=await invitation_email(activity, rep, options, link),
                organisation_id=activity.organisation_id,
            )
            if sent.message is not None and sent.message.kind == Channel.TEXT:
                # A reply's numbers mean what this text said, whatever times are added later.
                invitation.texted_option_ids = [o.id for o in options]
                await invitation.save(update_fields=["texted_option_ids"])
            await audit.record(
                actor,
                "invitation.create",
                invitation,
                after={"representative_id": rep.id, "activity_id": activity.id},
            )
            invited.append(Invited(invitation, link))
    return invited


async def invitation_by_token(secret: str) -> Invitation:
    invitation = await Invitation.get_or_none(token_hash=hash_secret(secret)).prefetch_related(
        "activity", "representative"
    )
    if invitation is None or invitation.activity.status == ActivityStatus.CANCELLED:
        raise NotFound
    return invitation


async def record_answers(
    actor: Actor | None, invitation: Invitation, data: Mapping[str, Any], *, via: str = "link"
) -> Invitation:
    """Answers for each option (`answer_<option id>` or `answers: {id: answer}`) and a mode.

    `actor` is None when the person answers themselves, through their own link or, `via`
    "text", by replying to a text invitation; or a lead answering for someone, e.g. after a
    phone call. A reply by text answers only the times the text listed, and says nothing of
    how they would join: the one way on offer is theirs, otherwise the lead checks with them.
    """
    activity = await invitation.activity
    rep = await invitation.representative
    if actor is not None and (not is_lead(actor) or rep.organisation_id != actor.organisation_id):
        raise NotFound
    if activity.poll_deadline and dt.datetime.now(dt.UTC) > activity.poll_deadline:
        raise Conflict("The time to answer has passed. Please contact your involvement lead")
    by_text = via == "text"
    options = await TimeOption.filter(activity=activity)
    if by_text:
        texted = invitation.texted_option_ids or []
        options = [o for o in options if o.id in texted]
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
    if by_text:
        mode = next(iter(activity.modes)) if len(activity.modes) == 1 else (invitation.mode or "")
    elif (
        any(v in (Answer.YES, Answer.IF_NEED_BE) for v in answers.values())
        and mode not in activity.modes
    ):
        c.fail("mode", "Select how you would like to take part")
    comment = (
        invitation.comment or ""
        if by_text
        else c.text("comment", "a comment", required=False, max_length=1000)
    )
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
        who = actor or Actor(user=None, organisation_id=activity.organisation_id, via=via)
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
    require_lead(actor)
    options = list(await TimeOption.filter(activity=activity))
    invitations = await Invitation.filter(activity=activity).prefetch_related(
        "representative", "answers"
    )
    window = get_settings().recovery_window_days
    rows = []
    all_answers: list[tuple[int, str]] = []
    invited = [invitation.representative for invitation in invitations]
    terms_of: dict[int, list[Term]] = {rep.id: [] for rep in invited}
    if invited:
        for c in await Contract.filter(representative_id__in=list(terms_of)):
            terms_of[c.representative_id].append(Term(c.starts_on, c.ends_on, c.ended_on))
    episodes_of = await wellbeing.episode_dates_for(invited)
    for invitation in invitations:
        rep = invitation.representative
        answers = {a.option_id: a.answer for a in invitation.answers}
        all_answers += list(answers.items())
        terms = terms_of[rep.id]
        episodes = episodes_of[rep.id]
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


# --------------------------------------------------------------------------- choosing the time

# How a sentence says the way someone joins: "booked to join by phone".
JOIN_BY = {"in_person": "in person", "video": "by video call", "phone": "by phone"}


@dataclass
class Outcome:
    representative: Representative
    booking: Booking | None
    refused: list[Refusal]
    note: str | None = None  # e.g. the way to join, when they had not chosen one


@dataclass
class Choice:
    """One invited person against the time chosen: what they answered and whether they would
    be booked unless the lead says otherwise."""

    invitation: Invitation
    representative: Representative
    answer: str | None
    bookable: bool  # False when they answered no: nothing the lead sends books them
    ticked: bool  # booked if the lead makes no other pick


async def _option_for(activity: Activity, raw: str) -> TimeOption:
    option = (
        await TimeOption.get_or_none(id=int(raw), activity=activity)
        if raw.isascii() and raw.isdigit() and len(raw) < 10
        else None
    )
    if option is None:
        raise ValidationFailed.one("option_id", "Select the time you have chosen")
    return option


async def choices(
    actor: Actor, activity: Activity, raw_option: str
) -> tuple[TimeOption, list[Choice]]:
    """Everyone invited, with their answer for the option, for the lead to confirm who to book."""
    if not is_lead(actor):
        raise Forbidden
    if activity.organisation_id != actor.organisation_id:
        raise NotFound
    option = await _option_for(activity, raw_option)
    invitations = await Invitation.filter(activity=activity).prefetch_related(
        "representative", "answers"
    )
    out = []
    for invitation in sorted(invitations, key=lambda i: i.representative.full_name):
        answer = next((a.answer for a in invitation.answers if a.option_id == option.id), None)
        out.append(
            Choice(
                invitation,
                invitation.representative,
                answer,
                bookable=answer != scheduling.Answer.NO,
                ticked=scheduling.finalise_refusal(answer, None) is None,
            )
        )
    return option, out


async def finalise(actor: Actor, activity: Activity, data: Mapping[str, Any]) -> list[Outcome]:
    """Pick the time, then book the people chosen by the modes they asked for.

    `representative_ids` is the lead's explicit pick; without it, those who answered yes or if
    need be to the time are booked. Nobody who answered no to it is booked, whatever is sent.
    Everyone invited gets an outcome: booked, or not and why."""
    c = Checker(data)
    raw_option = c.raw("option_id")
    c.done()
    option, everyone = await choices(actor, activity, raw_option)
    picked: set[int] | None = None
    raw_people = data.get("representative_ids")
    if raw_people is not None:
        people = raw_people if isinstance(raw_people, list) else [raw_people]
        picked = {
            int(str(p))
            for p in people
            if str(p).isascii() and str(p).isdigit() and len(str(p)) < 10
        }
    decided = [
        (
            choice,
            scheduling.finalise_refusal(
                choice.answer, None if picked is None else choice.representative.id in picked
            ),
        )
        for choice in everyone
    ]
    if not any(refusal is None for _, refusal in decided):
        raise ValidationFailed.one(
            "representative_ids", "Select who will take part: nobody who can come is selected"
        )
    async with in_transaction():
        await Activity.filter(id=activity.id).select_for_update().first()
        await activity.refresh_from_db()
        # Checked under the lock, so two leads choosing at once cannot both book.
        if activity.status != ActivityStatus.PLANNING:
            raise Conflict("A time has already been chosen for this activity", "option_id")
        activity.starts_at = option.starts_at
        activity.status = ActivityStatus.SCHEDULED
        await activity.save(update_fields=["starts_at", "status"])
        await audit.record(
            actor, "activity.finalise", activity, after={"starts_at": option.starts_at.isoformat()}
        )
    outcomes = []
    for choice, refusal in decided:
        rep = choice.representative
        if refusal is not None:
            outcomes.append(Outcome(rep, None, [refusal]))
            continue
        mode = scheduling.booking_mode(
            choice.invitation.mode if choice.answer else None,
            rep.preferred_modes or [],
            activity.modes,
        )
        note = (
            None
            if mode == choice.invitation.mode
            else f"They had not said how they would join, so they are booked to join "
            f"{JOIN_BY[mode]}: check this with them"
        )
        try:
            outcomes.append(Outcome(rep, await bookings.book(actor, activity, rep, mode), [], note))
        except bookings.BookingRefused as refused:
            outcomes.append(Outcome(rep, None, refused.refusals))
    return outcomes
