"""API operations for messages: a representative's messages as their lead sees them, following
up one that did not arrive, printing one as a letter, and letters to transcribe into Braille or
audio. Notify's delivery callback, which keeps their status, is in notify.py."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from coprod.domain.notifications import KINDS
from coprod.models import OutboxMessage, Role, TranscriptionTask
from coprod.services import access, arrangements, messages
from coprod.services.actor import Actor
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, NoBody, Page, Paging, Reply

MESSAGES = "messages"
LEADS = (Role.INVOLVEMENT_LEAD,)


# ---------------------------------------------------------------------------- a person's messages


class MessageReply(Reply):
    id: int
    created_at: DateTime
    notification: str | None = Field(description="The kind of message, e.g. booking_confirmed")
    about: str = Field(description="What it was about, e.g. 'Booking confirmed'")
    channel: Literal["email", "text", "letter"] = Field(description="How it went")
    to: str = Field(description="The email address, mobile number, or for a letter the name")
    subject: str
    status: Literal["pending", "sending", "sent", "failed"] = Field(
        description="Our side: waiting, being sent, handed over, or could not be sent"
    )
    delivery_status: str | None = Field(description="GOV.UK Notify's latest status, if any")
    delivery_status_at: DateTime | None
    standing: str = Field(description="Where it stands, in plain English")
    failed: bool = Field(description="True if it did not reach them")
    followed_up_at: DateTime | None = Field(description="When the lead said they phoned them")
    letter_url: str | None = Field(
        description="The PDF to print it as a letter (a letter, or an email or text to "
        "someone with a postal address)"
    )


def _about(row: OutboxMessage) -> str:
    kind = KINDS.get(row.notification or "")
    return kind.about if kind else row.subject


def message_reply(row: OutboxMessage, can_print: bool) -> MessageReply:
    standing = messages.standing(row)
    return MessageReply(
        id=row.id,
        created_at=row.created_at,
        notification=row.notification,
        about=_about(row),
        channel=row.kind,  # type: ignore[arg-type]
        to=row.to_address,
        subject=row.subject,
        status=row.status.value,
        delivery_status=row.delivery_status,
        delivery_status_at=row.delivery_status_at,
        standing=standing.words,
        failed=standing.failed,
        followed_up_at=row.followed_up_at,
        letter_url=(
            f"{api.prefix}/representatives/{row.representative_id}/messages/{row.id}/letter.pdf"
            if can_print
            else None
        ),
    )


@api.operation(
    "GET",
    "/representatives/{id:int}/messages",
    summary="Everything sent to a representative, newest first: when, what, how, and whether it "
    "arrived",
    tag=MESSAGES,
    roles=LEADS,
    query=Paging,
    reply=Page[MessageReply],
)
async def list_messages(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[MessageReply]:
    rep = await access.representative_for(actor, id)
    rows, cursor = await keyset_page(
        messages.for_representative(actor, rep), query, ("-created_at", "-id")
    )
    return Page(
        items=[message_reply(r, messages.can_print(r, rep)) for r in rows], next_cursor=cursor
    )


@api.operation(
    "GET",
    "/representatives/{id:int}/messages/{message_id:int}/letter.pdf",
    summary="A message as a letter to print and hand over (A4 PDF): a letter as it was posted, "
    "or an email or text's words as a letter to their postal address. Audited.",
    tag=MESSAGES,
    roles=LEADS,
    content_type="application/pdf",
)
async def get_letter_pdf(request: Request, actor: Actor, id: int, message_id: int) -> Response:
    rep = await access.representative_for(actor, id)
    row = await messages.message_for(actor, rep, message_id)
    return pdf_response(await messages.print_letter(actor, rep, row), row)


def pdf_response(pdf: bytes, row: OutboxMessage) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="letter-{row.id}.pdf"'},
    )


@api.operation(
    "POST",
    "/representatives/{id:int}/messages/{message_id:int}/follow-up",
    summary="Say you have phoned the person about a message that did not reach them: it leaves "
    "the call list. Audited.",
    tag=MESSAGES,
    roles=LEADS,
    body=NoBody,
    reply=MessageReply,
)
async def follow_up_message(
    request: Request, actor: Actor, id: int, message_id: int, body: NoBody
) -> MessageReply:
    rep = await access.representative_for(actor, id)
    row = await messages.follow_up(actor, await messages.message_for(actor, rep, message_id))
    return message_reply(row, messages.can_print(row, rep))


# ---------------------------------------------------------------------------- transcriptions


class TranscriptionReply(Reply):
    id: int
    representative_id: int
    message_id: int = Field(description="The letter to transcribe or record")
    format: Literal["braille", "audio"]
    label: str = Field(description="What has to be done, e.g. 'Braille copy of the letter sent'")
    due_on: dt.date
    done_at: DateTime | None
    letter_url: str = Field(description="The letter's PDF, to transcribe from")


def _transcription(task: TranscriptionTask) -> TranscriptionReply:
    return TranscriptionReply(
        id=task.id,
        representative_id=task.representative_id,
        message_id=task.message_id,
        format=task.format,  # type: ignore[arg-type]
        label=task.label,
        due_on=task.due_on,
        done_at=task.done_at,
        letter_url=f"{api.prefix}/representatives/{task.representative_id}/messages/"
        f"{task.message_id}/letter.pdf",
    )


@api.operation(
    "GET",
    "/transcriptions",
    summary="Letters still to be put into Braille or recorded as audio, soonest due first",
    tag=MESSAGES,
    roles=LEADS,
    query=Paging,
    reply=Page[TranscriptionReply],
)
async def list_transcriptions(
    request: Request, actor: Actor, query: Paging
) -> Page[TranscriptionReply]:
    tasks, cursor = await keyset_page(
        arrangements.transcriptions_query(actor), query, ("due_on", "id")
    )
    return Page(items=[_transcription(t) for t in tasks], next_cursor=cursor)


class TranscriptionTick(Body):
    done: bool = Field(title="whether it is done", description="false to mark it not done")


@api.operation(
    "POST",
    "/transcriptions/{id:int}/tick",
    summary="Mark a letter's Braille copy or audio recording sent, or not. Audited.",
    tag=MESSAGES,
    roles=LEADS,
    body=TranscriptionTick,
    reply=TranscriptionReply,
)
async def tick_transcription(
    request: Request, actor: Actor, id: int, body: TranscriptionTick
) -> TranscriptionReply:
    return _transcription(await arrangements.tick_transcription(actor, id, body.done))
