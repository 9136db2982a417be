"""Moving interest on: the lead's chat with the person, their welcome session, "ready" (which
makes them a representative with a contract from what was already gathered), and closing it
kindly. Each step follows the one before (domain.recruitment.move_refusal), checked with the
interest locked, so two leads acting at once cannot both take the same step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.domain import recruitment as rules
from coprod.domain.equality import QUESTIONS
from coprod.domain.phone_numbers import normalise_mobile
from coprod.errors import Conflict
from coprod.models import (
    CloseReason,
    ConsentPurpose,
    Interest,
    InterestEquality,
    InterestStatus,
    Mode,
    Organisation,
    Outreach,
    Representative,
)
from coprod.services import audit, contact, contracts, interests, representatives, wellbeing
from coprod.services.access import chosen, require_lead
from coprod.services.activities import read_moment
from coprod.services.actor import Actor
from coprod.services.interests import dedupe_key, lock
from coprod.templating import london
from coprod.validation import Checker, FieldError, ValidationFailed

# What the lead learns in the chat that the representative's profile keeps, checked by the
# profile's own rules.
NEEDS_FIELDS = frozenset(
    {
        "representative_type",
        "formats",
        "translated_language",
        "interpreter_language",
        "needs_transport",
        "other_needs",
    }
)
CONTACT_FIELDS = ("full_name", "email", "phone", "mobile", "postal_address", "contact_channels")
# How the welcome session happens, in the words of the message that tells them.
WELCOME_HOW = {
    Mode.IN_PERSON.value: "In person. We will tell you where, and how to get there.",
    Mode.VIDEO.value: "By video call. We will send you the link, and help you try it first.",
    Mode.PHONE.value: "By phone. We will ring you on the number you gave us.",
}


def _refuse(interest: Interest, action: str) -> None:
    reason = rules.move_refusal(interest.status.value, action, held=interest.held_as_spam)
    if reason is not None:
        raise Conflict(reason)


def refusal(interest: Interest, action: str) -> str | None:
    """Why this step cannot be taken now, for a page to say before the lead tries."""
    return rules.move_refusal(interest.status.value, action, held=interest.held_as_spam)


# ---------------------------------------------------------------------------- chat


async def chat(actor: Actor, interest: Interest, data: Mapping[str, Any]) -> Interest:
    """The lead's first chat with the person: their needs, their consent, where they heard
    about us, and any equality answers they chose to give."""
    require_lead(actor)
    c = Checker(data)
    notes = c.text("notes", "notes", required=False, max_length=5000) or None
    consent_contact = c.boolean("consent_contact")
    consent_equality = c.boolean("consent_equality")
    outreach = await chosen(
        c,
        "outreach_id",
        Outreach,
        interest.organisation_id,
        "Select where they heard about us from the list",
        required=False,
    )
    errors = list(c.errors)
    try:
        needs = await representatives.read_profile(
            interest.organisation_id,
            data,
            fields=NEEDS_FIELDS,
            partial=False,
            current={f: getattr(interest, f) for f in CONTACT_FIELDS},
        )
    except ValidationFailed as exc:
        needs = {}
        errors += exc.errors
    try:
        answers = wellbeing.read_equality(data)
    except ValidationFailed as exc:
        answers = {}
        errors += exc.errors
    gave_answers = any(answers.values())
    if gave_answers and not (consent_equality or interest.consent_equality_on):
        errors.append(
            FieldError(
                QUESTIONS[0].key,
                "Tick that they agree to equality monitoring, or leave these answers out",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    today = clock.today()
    async with in_transaction():
        locked = await lock(interest)
        _refuse(locked, "chat")
        before = audit.snapshot(locked, exclude={"sender_hash", "equality_token_hash"})
        locked.update_from_dict({**needs, "notes": notes})
        locked.outreach = outreach
        if consent_contact:
            locked.consent_contact_on = today
        if consent_equality and locked.consent_equality_on is None:
            locked.consent_equality_on = today
        locked.status = InterestStatus.CHATTED
        locked.chatted_at = dt.datetime.now(dt.UTC)
        await locked.save()
        after = audit.snapshot(locked, exclude={"sender_hash", "equality_token_hash"})
        await audit.record(
            actor,
            "interest.chat",
            locked,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
            on_behalf_of=locked.full_name,
        )
        if gave_answers:
            await interests.save_equality_given(actor, locked, answers)
    return locked


# ---------------------------------------------------------------------------- welcome session


async def _organisation_name(interest: Interest) -> str:
    return (await Organisation.get(id=interest.organisation_id)).name


async def welcome(actor: Actor, interest: Interest, data: Mapping[str, Any]) -> contact.Sent:
    """Book their welcome session and tell them, by the way they chose (or the lead phones)."""
    require_lead(actor)
    c = Checker(data)
    when = read_moment(c, "welcome_at", "the date and time of the welcome session")
    mode = c.choice("welcome_mode", "how the welcome session happens", list(WELCOME_HOW))
    if when is not None and when < dt.datetime.now(dt.UTC):
        c.fail("welcome_at", "The welcome session must be in the future")
    c.done()
    assert when is not None
    async with in_transaction():
        locked = await lock(interest)
        _refuse(locked, "welcome")
        locked.welcome_at = when
        locked.welcome_mode = mode
        locked.welcome_booked_at = dt.datetime.now(dt.UTC)
        locked.status = InterestStatus.WELCOME_BOOKED
        await locked.save(
            update_fields=["welcome_at", "welcome_mode", "welcome_booked_at", "status"]
        )
        await audit.record(
            actor,
            "interest.welcome",
            locked,
            after={"welcome_at": when.isoformat(), "welcome_mode": mode},
            on_behalf_of=locked.full_name,
        )
        return await contact.notify_interest(
            locked,
            kind="welcome_session",
            context={
                "name": locked.full_name,
                "organisation": await _organisation_name(locked),
                "when": london(when),
                "how": WELCOME_HOW[mode],
            },
            dedupe_key=dedupe_key(locked, "welcome"),
        )


# ---------------------------------------------------------------------------- ready


async def existing_representative(interest: Interest) -> Representative | None:
    """Someone already on the organisation's books with the same email or mobile: "ready"
    links to them rather than making a second record."""
    same = [Q(email=interest.email)] if interest.email else []
    if mobile := normalise_mobile(interest.mobile):
        same.append(Q(mobile_normalised=mobile))
    if not same:
        return None
    return (
        await Representative.filter(
            Q(*same, join_type="OR"),
            organisation_id=interest.organisation_id,
            archived_at__isnull=True,
        )
        .order_by("id")
        .first()
    )


def contract_defaults(interest: Interest) -> dict[str, str]:
    """The contract's terms before the lead changes any: the role they were interested in,
    starting today (and ending as contracts.read_terms sets by default)."""
    return {"role_title": interest.opportunity.title[:100] if interest.opportunity else ""}


def _profile(actor: Actor, interest: Interest) -> dict[str, Any]:
    return {
        "full_name": interest.full_name,
        "representative_type": (
            interest.representative_type.value if interest.representative_type else ""
        ),
        "email": interest.email or "",
        "phone": interest.phone or "",
        "mobile": interest.mobile or "",
        "postal_address": interest.postal_address or "",
        "contact_channels": list(interest.contact_channels or []),
        "formats": list(interest.formats or []),
        "translated_language": interest.translated_language or "",
        "interpreter_language": interest.interpreter_language or "",
        "needs_transport": interest.needs_transport,
        "other_needs": interest.other_needs or "",
        "lead_id": str(actor.user.id) if actor.user else "",
    }


async def _carry_consent(
    actor: Actor, rep: Representative, purpose: ConsentPurpose, given_on: dt.date | None
) -> None:
    if given_on is None:
        return
    current = await wellbeing.current_consent(rep, purpose)
    if current is None or current.given_on < given_on:
        await wellbeing.give_consent(
            actor, rep, {"purpose": purpose.value, "given_on": given_on.isoformat()}
        )


async def ready(actor: Actor, interest: Interest, data: Mapping[str, Any]) -> Interest:
    """Make them a representative, from everything gathered on the way, with their consent,
    their equality answers and a contract, all at once or not at all. Someone already on the
    books (same email or mobile) is linked to rather than made twice."""
    require_lead(actor)
    given = {k: v for k, v in data.items() if v not in ("", None)}
    # Every problem with the terms is found before anything is written.
    role_title, starts_on, ends_on = contracts.read_terms(
        {**contract_defaults(interest), **given}, default_start=clock.today()
    )
    terms = {
        "role_title": role_title,
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat(),
    }
    async with in_transaction():
        locked = await lock(interest)
        _refuse(locked, "ready")
        rep = await existing_representative(locked)
        made = rep is None
        if rep is None:
            rep = await representatives.create(actor, _profile(actor, locked))
        await _carry_consent(actor, rep, ConsentPurpose.CONTACT, locked.consent_contact_on)
        await _carry_consent(actor, rep, ConsentPurpose.EQUALITY, locked.consent_equality_on)
        answers = await InterestEquality.get_or_none(interest_id=locked.id)
        if answers is not None and await wellbeing.has_consent(rep, ConsentPurpose.EQUALITY):
            await wellbeing.save_equality(
                actor, rep, {q.key: getattr(answers, q.key) or "" for q in QUESTIONS}
            )
        await contracts.create(actor, rep, terms)
        locked.representative = rep
        locked.status = InterestStatus.READY
        locked.ready_at = dt.datetime.now(dt.UTC)
        await locked.save(update_fields=["representative_id", "status", "ready_at"])
        await audit.record(
            actor,
            "interest.ready",
            locked,
            after={"representative_id": rep.id, "new_record": made},
            on_behalf_of=locked.full_name,
        )
    return locked


# ---------------------------------------------------------------------------- closing


@dataclass(frozen=True)
class Closed:
    interest: Interest
    told: contact.Sent


async def close(actor: Actor, interest: Interest, data: Mapping[str, Any]) -> Closed:
    """Close it kindly: the reason is kept for reporting, and the person is thanked by the way
    they chose (or their lead phones them)."""
    require_lead(actor)
    c = Checker(data)
    reason = c.choice("close_reason", "a reason", [r.value for r in CloseReason])
    note = c.text("close_note", "a note", required=False, max_length=2000) or None
    c.done()
    async with in_transaction():
        locked = await lock(interest)
        _refuse(locked, "close")
        locked.status = InterestStatus.CLOSED
        locked.closed_at = dt.datetime.now(dt.UTC)
        locked.update_from_dict({"close_reason": CloseReason(reason), "close_note": note})
        await locked.save(update_fields=["status", "closed_at", "close_reason", "close_note"])
        await audit.record(
            actor,
            "interest.close",
            locked,
            after={"close_reason": reason, "close_note": note},
            on_behalf_of=locked.full_name,
        )
        told = await contact.notify_interest(
            locked,
            kind="interest_closed",
            context={"name": locked.full_name, "organisation": await _organisation_name(locked)},
            dedupe_key=dedupe_key(locked, "closed"),
        )
    return Closed(locked, told)
