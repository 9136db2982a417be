"""People's interest in getting involved: saying so on the public form (or a lead writing it
down for someone who phoned or wrote in), the optional equality questions just after, holding
what looks like spam, and the pipeline a lead works from. The steps after (chat, welcome
session, ready, closing) are in services/interest_steps.py.

Interest is never refused: the form's only errors are about being able to get back in touch,
and what looks like spam is kept, held for a lead to release or delete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tortoise.functions import Count
from tortoise.queryset import CountQuery
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.config import get_settings
from coprod.domain import recruitment as rules
from coprod.domain.equality import QUESTIONS
from coprod.domain.opportunities import Stage
from coprod.domain.phone_numbers import normalise_mobile
from coprod.errors import Conflict, NotFound
from coprod.models import (
    ContactChannel,
    Interest,
    InterestEquality,
    InterestSource,
    InterestStatus,
    Opportunity,
    Organisation,
    OutboxMessage,
    RepresentativeType,
)
from coprod.security import hash_secret, new_secret, sign
from coprod.services import audit, contact, opportunities, wellbeing
from coprod.services.access import chosen, require_lead
from coprod.services.actor import Actor
from coprod.services.representatives import CHANNEL_ADDRESS
from coprod.validation import Checker, ValidationFailed, record_id

# Ways a lead hears from someone who did not use the form.
LEAD_SOURCES = tuple(s.value for s in InterestSource if s is not InterestSource.ONLINE)
OPEN_STATUSES = (InterestStatus.NEW, InterestStatus.CHATTED, InterestStatus.WELCOME_BOOKED)


def dedupe_key(interest: Interest, message: str) -> str:
    """Each message about an interest goes once; the key also finds its messages again."""
    return f"interest:{interest.id}:{message}"


# ---------------------------------------------------------------------------- reading


async def public_opportunity(org: Organisation, raw_id: Any) -> Opportunity | None:
    """The open opportunity someone came from, if any. One that has closed or never existed
    is simply left out: the person is still welcome."""
    opportunity_id = record_id(raw_id)
    if opportunity_id is None:
        return None
    found = await Opportunity.get_or_none(id=opportunity_id, organisation_id=org.id)
    return found if found is not None and opportunities.stage_of(found) == Stage.OPEN else None


async def interest_for(actor: Actor, interest_id: int) -> Interest:
    require_lead(actor)
    found = await Interest.get_or_none(
        id=interest_id, organisation_id=actor.organisation_id
    ).prefetch_related("opportunity", "outreach", "entered_by", "representative")
    if found is None:
        raise NotFound
    return found


@dataclass
class Pipeline:
    counts: dict[str, int]
    by_status: dict[str, list[Interest]] = field(default_factory=dict)
    held: list[Interest] = field(default_factory=list)


async def pipeline(actor: Actor) -> Pipeline:
    """Everyone's interest by step, and what is held as possible spam, in three queries
    however many there are."""
    require_lead(actor)
    mine = Interest.filter(organisation_id=actor.organisation_id)
    rows = (
        await mine.filter(held_as_spam=False)
        .annotate(n=Count("id"))
        .group_by("status")
        .values_list("status", "n")
    )
    counts = {s.value: 0 for s in InterestStatus}
    counts.update({str(status): int(n) for status, n in rows})
    found = Pipeline(counts)
    for status in InterestStatus:
        found.by_status[status.value] = []
    for interest in await mine.filter(held_as_spam=False).prefetch_related("opportunity"):
        found.by_status[interest.status.value].append(interest)
    found.held = await mine.filter(held_as_spam=True).prefetch_related("opportunity")
    return found


def waiting_for_a_chat(actor: Actor) -> CountQuery:
    """New interest nobody has talked with yet (spam held aside not counted)."""
    require_lead(actor)
    return Interest.filter(
        organisation_id=actor.organisation_id, status=InterestStatus.NEW, held_as_spam=False
    ).count()


async def messages_about(interest: Interest) -> list[OutboxMessage]:
    return await OutboxMessage.filter(dedupe_key__startswith=f"interest:{interest.id}:").order_by(
        "created_at", "id"
    )


async def equality_of(interest: Interest) -> InterestEquality | None:
    return await InterestEquality.get_or_none(interest_id=interest.id)


# ---------------------------------------------------------------------------- saying so


def read_contact(data: Mapping[str, Any], c: Checker, *, who: str) -> dict[str, Any]:
    """Who they are and how to get back to them, the only things the form must have. `who` is
    "your" on the public form and "their" for a lead."""
    out: dict[str, Any] = {"full_name": c.text("full_name", f"{who} name")}
    out["email"] = c.email("email", required=False) or None
    out["phone"] = c.phone("phone", "a phone number") or None
    out["mobile"] = c.phone("mobile", "a mobile number") or None
    out["postal_address"] = (
        c.text("postal_address", "a postal address", required=False, max_length=500) or None
    )
    out["contact_channels"] = c.many(
        "contact_channels", "ways to get in touch", [ch.value for ch in ContactChannel]
    )
    raw = data.get("contact_channels")
    given = [str(v).strip() for v in raw if str(v).strip()] if isinstance(raw, list) else []
    if len(given) != len(set(given)):
        c.fail("contact_channels", "Choose each way to get in touch once")
    if not out["contact_channels"]:
        c.fail("contact_channels", "Choose at least one way for us to get in touch")
    for channel in out["contact_channels"]:
        if channel not in CHANNEL_ADDRESS:
            continue  # refused above as not on the list
        name, label = CHANNEL_ADDRESS[channel]
        if not out[name]:
            c.fail(name, f"Enter {label}, or choose another way to get in touch")
        elif channel == ContactChannel.TEXT.value and not normalise_mobile(out[name]):
            c.fail(
                name,
                "Enter a mobile number that can receive texts, like 07700 900 982, "
                "or choose another way to get in touch",
            )
    out["best_time"] = (
        c.text("best_time", "the best time to phone", required=False, max_length=200) or None
    )
    kind = c.raw("representative_type")
    if kind and kind not in {t.value for t in RepresentativeType}:
        c.fail("representative_type", "Select one of the answers, or leave it empty")
    types = {t.value: t for t in RepresentativeType}
    out["representative_type"] = types.get(kind)
    out["message"] = c.text("message", "a message", required=False, max_length=2000) or None
    return out


def sender_hash(address: str) -> str:
    """The address a form came from, kept only as an HMAC: enough to count a flood from it."""
    return sign(get_settings().secret_key, "interest-sender", address)


def form_stamp(now: dt.datetime | None = None, *, sent: str | None = None) -> str:
    """The signed time stamp the public form carries, to notice forms sent too fast. A form
    shown again to fix a field keeps the genuine stamp it was `sent` with, so a person quick to
    correct one answer is not taken for a robot."""
    secret = get_settings().secret_key
    if sent and rules.stamp_issued(secret, sent) is not None:
        return sent
    return rules.sign_stamp(secret, now or dt.datetime.now(dt.UTC))


@dataclass(frozen=True)
class Expressed:
    interest: Interest
    # The secret that opens the optional equality questions, shown once on the thanks page.
    equality_token: str


async def express(org: Organisation, data: Mapping[str, Any], *, address: str) -> Expressed:
    """Someone says they are interested on the public form. Only their contact details can be
    wrong; anything that looks like spam is saved, held for a lead, and thanked the same."""
    c = Checker(data)
    values = read_contact(data, c, who="your")
    c.done()
    now = dt.datetime.now(dt.UTC)
    sender = sender_hash(address)
    recent = await Interest.filter(
        sender_hash=sender, created_at__gt=now - rules.FLOOD_WINDOW
    ).count()
    signals = rules.spam_signals(
        honeypot=str(data.get(rules.HONEYPOT_FIELD) or ""),
        issued=rules.stamp_issued(
            get_settings().secret_key, str(data.get(rules.STAMP_FIELD) or "")
        ),
        now=now,
        recent_from_address=recent,
    )
    opportunity = await public_opportunity(org, data.get("opportunity_id"))
    token = new_secret()
    async with in_transaction():
        interest = await Interest.create(
            organisation_id=org.id,
            opportunity=opportunity,
            source=InterestSource.ONLINE,
            sender_hash=sender,
            held_as_spam=bool(signals),
            held_reason=rules.held_reason(signals),
            equality_token_hash=hash_secret(token),
            **values,
        )
        await audit.record(
            Actor.system(via="web", organisation_id=org.id),
            "interest.create",
            interest,
            after={"source": "online", "held_as_spam": bool(signals)},
            organisation_id=org.id,
        )
        if not signals:
            # Held interest is thanked on the page only: a message could be sent in the name
            # of someone whose address a spammer typed in.
            await acknowledge(interest, org)
    return Expressed(interest, token)


async def acknowledge(interest: Interest, org: Organisation) -> contact.Sent:
    opportunity = (
        await Opportunity.get_or_none(id=interest.opportunity_id)
        if interest.opportunity_id
        else None
    )
    return await contact.notify_interest(
        interest,
        kind="interest_received",
        context={
            "name": interest.full_name,
            "organisation": org.name,
            "title": opportunity.title if opportunity else "",
        },
        dedupe_key=dedupe_key(interest, "received"),
    )


async def record(actor: Actor, data: Mapping[str, Any]) -> Interest:
    """A lead writes down interest for someone who phoned, emailed, wrote or came in."""
    require_lead(actor)
    c = Checker(data)
    source = c.choice("source", "how they got in touch", LEAD_SOURCES)
    values = read_contact(data, c, who="their")
    opportunity = await chosen(
        c,
        "opportunity_id",
        Opportunity,
        actor.organisation_id,
        "Select a role from the list",
        required=False,
    )
    c.done()
    org = await Organisation.get(id=actor.organisation_id)
    async with in_transaction():
        interest = await Interest.create(
            organisation_id=org.id,
            opportunity=opportunity,
            source=InterestSource(source),
            entered_by=actor.user,
            **values,
        )
        await audit.record(
            actor,
            "interest.create",
            interest,
            after=audit.snapshot(interest, exclude={"sender_hash", "equality_token_hash"}),
        )
        await acknowledge(interest, org)
    return interest


# ---------------------------------------------------------------------------- equality


async def _save_equality(interest: Interest, answers: dict[str, str | None]) -> None:
    row, _ = await InterestEquality.get_or_create(interest_id=interest.id)
    for key, value in answers.items():
        setattr(row, key, value)
    await row.save()


async def by_equality_token(org: Organisation, token: str) -> Interest:
    """The interest a thanks page's link is for, while it may still be used: once, and for a
    day."""
    interest = await Interest.get_or_none(
        equality_token_hash=hash_secret(token), organisation_id=org.id
    )
    if interest is None or not rules.equality_link_open(
        interest.created_at, dt.datetime.now(dt.UTC)
    ):
        raise NotFound
    return interest


async def answer_equality(org: Organisation, token: str, data: Mapping[str, Any]) -> None:
    """The person's own answers just after saying they are interested. Answering is their
    consent to equality monitoring; the link then stops working."""
    answers = wellbeing.read_equality(data)
    async with in_transaction():
        interest = await by_equality_token(org, token)
        await _save_equality(interest, answers)
        interest.equality_token_hash = None
        interest.consent_equality_on = interest.consent_equality_on or clock.today()
        await interest.save(update_fields=["equality_token_hash", "consent_equality_on"])
        await audit.record(
            Actor.system(via="web", organisation_id=org.id),
            "interest.equality",
            interest,
            after={"answered": sum(v is not None for v in answers.values())},
            organisation_id=org.id,
        )


async def record_equality(actor: Actor, interest: Interest, data: Mapping[str, Any]) -> None:
    """Answers a person gave a lead by phone. Like a representative's, they need the person's
    consent to equality monitoring first, and the audit notes only how many were answered."""
    require_lead(actor)
    answers = wellbeing.read_equality(data)
    if interest.consent_equality_on is None:
        raise ValidationFailed.one(
            QUESTIONS[0].key, "Record their consent to equality monitoring before these answers"
        )
    async with in_transaction():
        await save_equality_given(actor, interest, answers)


async def save_equality_given(
    actor: Actor, interest: Interest, answers: dict[str, str | None]
) -> None:
    """Answers a lead records for someone, in the caller's transaction. The audit says how
    many, never which: leads record these answers but do not read them back."""
    await _save_equality(interest, answers)
    await audit.record(
        actor,
        "interest.equality",
        interest,
        after={"answered": sum(v is not None for v in answers.values())},
        on_behalf_of=interest.full_name,
    )


# ---------------------------------------------------------------------------- held as spam


async def lock(interest: Interest) -> Interest:
    """The interest again, locked until the transaction ends, so two steps at once cannot both
    pass the check of where it is."""
    found = await Interest.filter(id=interest.id).select_for_update().first()
    if found is None:
        raise NotFound
    return found


async def change_details(actor: Actor, interest: Interest, data: Mapping[str, Any]) -> Interest:
    """Correct who they are and how to reach them (a number misheard on the phone, a new
    address), with the same checks as when the interest was written down. Once they are a
    representative, their record is the place to change it."""
    require_lead(actor)
    if interest.status == InterestStatus.READY:
        raise Conflict(NOW_A_REPRESENTATIVE)  # whatever the form says, it is not the place
    c = Checker(data)
    values = read_contact(data, c, who="their")
    c.done()
    async with in_transaction():
        locked = await lock(interest)
        if locked.status == InterestStatus.READY:
            raise Conflict(NOW_A_REPRESENTATIVE)
        before = {k: getattr(locked, k) for k in values}
        for key, value in values.items():
            setattr(locked, key, value)
        await locked.save(update_fields=list(values))
        await audit.record(actor, "interest.update", locked, before=before, after=values)
    return locked


NOW_A_REPRESENTATIVE = (
    "They are a representative now: change their details on their representative record"
)


async def release(actor: Actor, interest: Interest) -> Interest:
    """Held interest that was real after all: it joins the new interest, and is thanked."""
    require_lead(actor)
    async with in_transaction():
        locked = await lock(interest)
        if (reason := rules.held_refusal(locked.held_as_spam)) is not None:
            raise Conflict(reason)
        locked.held_as_spam = False
        await locked.save(update_fields=["held_as_spam"])
        await audit.record(actor, "interest.release", locked, after={"held_as_spam": False})
        await acknowledge(locked, await Organisation.get(id=locked.organisation_id))
    return locked


async def delete(actor: Actor, interest: Interest) -> None:
    """Only held interest can be deleted: real interest is closed, so it counts in reports."""
    require_lead(actor)
    async with in_transaction():
        locked = await lock(interest)
        if (reason := rules.held_refusal(locked.held_as_spam)) is not None:
            raise Conflict(reason)
        await audit.record(
            actor,
            "interest.delete",
            locked,
            before={"held_reason": locked.held_reason, "source": locked.source.value},
        )
        await locked.delete()
