"""API operations for people's interest in getting involved: the pipeline, a lead writing
interest down for someone who phoned or wrote in, and each step after (chat, welcome session,
ready, close), with release and delete for interest held as possible spam.

Saying you are interested is not offered here: the public form at /join/{org_slug}/interest is
the one way in for the public. It carries a CSRF token tied to the browser and a signed time
stamp, which is how spam is noticed; a public JSON operation would be an easy way round both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request

from coprod.models import Interest, Role
from coprod.services import contact, interest_steps, interests
from coprod.services.actor import Actor
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, Id, NoBody, Page, Paging, Reply, text
from coprod.web.api.wellbeing import EqualityInput

TAG = "interest"
LEADS = (Role.INVOLVEMENT_LEAD,)

Status = Literal["new", "chatted", "welcome_booked", "ready", "closed"]
LeadSource = Literal["phone", "email", "letter", "in_person"]
Channel = Literal["email", "phone", "text", "post"]
PersonType = Literal["patient", "carer", "both"]
FormatName = Literal[
    "braille", "audio", "easy_read", "large_print", "translated", "interpreter", "bsl"
]
CloseReasonName = Literal[
    "not_right_time",
    "no_suitable_role",
    "support_elsewhere",
    "chose_not_to",
    "could_not_contact",
    "other",
]


class InterestReply(Reply):
    id: int
    status: Status
    held_as_spam: bool
    held_reason: str | None
    source: Literal["online", "phone", "email", "letter", "in_person"]
    opportunity_id: int | None
    outreach_id: int | None
    entered_by_id: int | None = Field(description="The lead who wrote it down; null online")
    full_name: str
    email: str | None
    phone: str | None
    mobile: str | None
    postal_address: str | None
    contact_channels: list[Channel] = Field(description="The ways to get in touch, in order")
    best_time: str | None
    representative_type: PersonType | None
    message: str | None
    notes: str | None
    formats: list[FormatName]
    translated_language: str | None
    interpreter_language: str | None
    needs_transport: bool
    other_needs: str | None
    consent_contact_on: dt.date | None
    consent_equality_on: dt.date | None
    chatted_at: DateTime | None
    welcome_at: DateTime | None
    welcome_mode: Literal["in_person", "video", "phone"] | None
    ready_at: DateTime | None
    representative_id: int | None
    closed_at: DateTime | None
    close_reason: CloseReasonName | None
    close_note: str | None
    created_at: DateTime


class StepReply(Reply):
    interest: InterestReply
    told_by: Literal["email", "text", "letter"] | None = Field(
        None, description="How the person was told of this step, when a message was queued"
    )
    phone_them: str | None = Field(
        None,
        description='When nothing could be sent: why, after their name (for example "asked '
        'to be phoned"). Phone them to tell them',
    )


def _reply(i: Interest) -> InterestReply:
    return InterestReply(
        id=i.id,
        status=i.status.value,
        held_as_spam=i.held_as_spam,
        held_reason=i.held_reason,
        source=i.source.value,
        opportunity_id=i.opportunity_id,
        outreach_id=i.outreach_id,
        entered_by_id=i.entered_by_id,  # type: ignore[attr-defined]
        full_name=i.full_name,
        email=i.email,
        phone=i.phone,
        mobile=i.mobile,
        postal_address=i.postal_address,
        contact_channels=list(i.contact_channels or []),
        best_time=i.best_time,
        representative_type=i.representative_type.value if i.representative_type else None,
        message=i.message,
        notes=i.notes,
        formats=list(i.formats or []),
        translated_language=i.translated_language,
        interpreter_language=i.interpreter_language,
        needs_transport=i.needs_transport,
        other_needs=i.other_needs,
        consent_contact_on=i.consent_contact_on,
        consent_equality_on=i.consent_equality_on,
        chatted_at=i.chatted_at,
        welcome_at=i.welcome_at,
        welcome_mode=i.welcome_mode,  # type: ignore[arg-type]
        ready_at=i.ready_at,
        representative_id=i.representative_id,
        closed_at=i.closed_at,
        close_reason=i.close_reason.value if i.close_reason else None,
        close_note=i.close_note,
        created_at=i.created_at,
    )


def _step(i: Interest, told: contact.Sent | None = None) -> StepReply:
    message = told.message if told else None
    return StepReply(
        interest=_reply(i),
        told_by=message.kind if message else None,  # type: ignore[arg-type]
        phone_them=told.not_sent_because if told else None,
    )


class InterestQuery(Paging):
    status: Status | None = Field(None, description="Only interest at this step")
    held: bool = Field(False, description="List what is held as possible spam instead")


@api.operation(
    "GET",
    "/interests",
    summary="Interest in getting involved, newest first: by step, or what is held as possible spam",
    tag=TAG,
    roles=LEADS,
    query=InterestQuery,
    reply=Page[InterestReply],
)
async def list_interests(
    request: Request, actor: Actor, query: InterestQuery
) -> Page[InterestReply]:
    found = Interest.filter(organisation_id=actor.organisation_id, held_as_spam=query.held)
    if query.status is not None:
        found = found.filter(status=query.status)
    rows, cursor = await keyset_page(found, query, ("-created_at", "-id"))
    return Page(items=[_reply(i) for i in rows], next_cursor=cursor)


class ContactDetails(Body):
    full_name: str = text(200, title="their name")
    contact_channels: list[Channel] = Field(
        max_length=4, title="ways to get in touch", description="In the order they prefer"
    )
    email: str | None = text(254, required=False, default=None, title="an email address")
    phone: str | None = text(40, required=False, default=None, title="a phone number")
    mobile: str | None = text(40, required=False, default=None, title="a mobile number")
    postal_address: str | None = text(500, required=False, default=None, title="a postal address")
    best_time: str | None = text(200, required=False, default=None, title="the best time to phone")
    representative_type: PersonType | None = Field(
        None, title="whether they are a patient, a carer or both"
    )
    message: str | None = text(2000, required=False, default=None, title="a message")


class NewInterest(ContactDetails):
    source: LeadSource = Field(title="how they got in touch")
    opportunity_id: Id | None = Field(None, title="a role from the list")


@api.operation(
    "POST",
    "/interests",
    summary="Write down interest for someone who phoned, emailed, wrote or came in; they are "
    "thanked by the way they chose",
    tag=TAG,
    roles=LEADS,
    body=NewInterest,
    reply=InterestReply,
    status=201,
)
async def create_interest(request: Request, actor: Actor, body: NewInterest) -> InterestReply:
    return _reply(await interests.record(actor, body.data()))


@api.operation(
    "GET",
    "/interests/{id:int}",
    summary="One person's interest, with every step so far",
    tag=TAG,
    roles=LEADS,
    reply=InterestReply,
)
async def get_interest(request: Request, actor: Actor, id: int) -> InterestReply:
    return _reply(await interests.interest_for(actor, id))


@api.operation(
    "PUT",
    "/interests/{id:int}/details",
    summary="Correct who they are and how to reach them, until they are a representative",
    tag=TAG,
    roles=LEADS,
    body=ContactDetails,
    reply=InterestReply,
)
async def change_interest_details(
    request: Request, actor: Actor, id: int, body: ContactDetails
) -> InterestReply:
    found = await interests.interest_for(actor, id)
    return _reply(await interests.change_details(actor, found, body.data()))


class Chat(Body):
    representative_type: PersonType = Field(title="whether they are a patient, a carer or both")
    notes: str | None = text(5000, required=False, default=None, title="notes")
    formats: list[FormatName] = Field([], max_length=7, title="the formats they need")
    translated_language: str | None = text(
        100, required=False, default=None, title="the language for translated papers"
    )
    interpreter_language: str | None = text(
        100, required=False, default=None, title="the interpreter's language"
    )
    needs_transport: bool = False
    other_needs: str | None = text(2000, required=False, default=None, title="other needs")
    consent_contact: bool = Field(False, description="They agreed today to be contacted")
    consent_equality: bool = Field(False, description="They agreed today to equality monitoring")
    outreach_id: Id | None = Field(None, title="where they heard about us from the list")
    equality: EqualityInput | None = Field(  # type: ignore[valid-type]
        None, description="Equality answers they gave, which need consent to equality monitoring"
    )


@api.operation(
    "POST",
    "/interests/{id:int}/chat",
    summary="Record the chat with them (new interest only): needs, consent, where they heard "
    "about us and any equality answers",
    tag=TAG,
    roles=LEADS,
    body=Chat,
    reply=StepReply,
)
async def record_interest_chat(request: Request, actor: Actor, id: int, body: Chat) -> StepReply:
    interest = await interests.interest_for(actor, id)
    data: dict[str, Any] = body.data()
    data.update(data.pop("equality", None) or {})
    return _step(await interest_steps.chat(actor, interest, data))


class Welcome(Body):
    welcome_at: dt.datetime = Field(
        title="the date and time of the welcome session",
        description="In the future; without an offset it is UK time",
    )
    welcome_mode: Literal["in_person", "video", "phone"] = Field(
        title="how the welcome session happens"
    )


@api.operation(
    "POST",
    "/interests/{id:int}/welcome",
    summary="Book their welcome session (after the chat); they are told by the way they chose",
    tag=TAG,
    roles=LEADS,
    body=Welcome,
    reply=StepReply,
)
async def book_welcome_session(request: Request, actor: Actor, id: int, body: Welcome) -> StepReply:
    interest = await interests.interest_for(actor, id)
    told = await interest_steps.welcome(actor, interest, body.data())
    return _step(await interests.interest_for(actor, id), told)


class Ready(Body):
    role_title: str | None = text(
        100,
        required=False,
        default=None,
        title="a role title",
        description="Their contract's role; the opportunity's title if left out",
    )
    starts_on: dt.date | None = Field(None, title="the start date", description="Today if left out")
    ends_on: dt.date | None = Field(
        None, title="the end date", description="The usual length if left out"
    )


@api.operation(
    "POST",
    "/interests/{id:int}/ready",
    summary="Make them a representative (after the welcome session), with their consent, "
    "equality answers and a contract; someone already on the books with the same email or "
    "mobile is linked to instead",
    tag=TAG,
    roles=LEADS,
    body=Ready,
    reply=StepReply,
)
async def make_interest_ready(request: Request, actor: Actor, id: int, body: Ready) -> StepReply:
    interest = await interests.interest_for(actor, id)
    await interest_steps.ready(actor, interest, body.data())
    return _step(await interests.interest_for(actor, id))


class Close(Body):
    close_reason: CloseReasonName = Field(title="a reason", description="Kept for reporting")
    close_note: str | None = text(2000, required=False, default=None, title="a note")


@api.operation(
    "POST",
    "/interests/{id:int}/close",
    summary="Close it kindly (at any open step); they are thanked by the way they chose",
    tag=TAG,
    roles=LEADS,
    body=Close,
    reply=StepReply,
)
async def close_interest(request: Request, actor: Actor, id: int, body: Close) -> StepReply:
    interest = await interests.interest_for(actor, id)
    closed = await interest_steps.close(actor, interest, body.data())
    return _step(closed.interest, closed.told)


@api.operation(
    "POST",
    "/interests/{id:int}/release",
    summary="Release interest held as possible spam: it becomes new interest and is thanked",
    tag=TAG,
    roles=LEADS,
    body=NoBody,
    reply=InterestReply,
)
async def release_interest(request: Request, actor: Actor, id: int, body: NoBody) -> InterestReply:
    interest = await interests.interest_for(actor, id)
    return _reply(await interests.release(actor, interest))


class Deleted(Reply):
    id: int


@api.operation(
    "DELETE",
    "/interests/{id:int}",
    summary="Delete interest held as possible spam (real interest is closed instead)",
    tag=TAG,
    roles=LEADS,
    reply=Deleted,
)
async def delete_interest(request: Request, actor: Actor, id: int) -> Deleted:
    await interests.delete(actor, await interests.interest_for(actor, id))
    return Deleted(id=id)


class EqualitySaved(Reply):
    answered: int = Field(description="How many questions were answered (never which answers)")


@api.operation(
    "PUT",
    "/interests/{id:int}/equality",
    summary="Record equality answers they gave you, replacing any before; needs their consent "
    "to equality monitoring (recorded at the chat)",
    tag=TAG,
    roles=LEADS,
    body=EqualityInput,
    reply=EqualitySaved,
)
async def save_interest_equality(
    request: Request, actor: Actor, id: int, body: Body
) -> EqualitySaved:
    interest = await interests.interest_for(actor, id)
    data = body.data()
    await interests.record_equality(actor, interest, data)
    return EqualitySaved(answered=sum(1 for v in data.values() if v))
