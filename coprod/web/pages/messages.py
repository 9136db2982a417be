"""Pages for a representative's messages (for their lead), printing one as a letter, saying the
person was phoned about one that did not arrive, and ticking off letters to transcribe."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.domain import delivery
from coprod.domain.notifications import KINDS
from coprod.errors import Conflict
from coprod.models import OutboxMessage, Representative, Role
from coprod.services import access, arrangements, messages
from coprod.services.actor import Actor
from coprod.web.api.messages import pdf_response
from coprod.web.guards import form_values, signed_in
from coprod.web.pages.auth import safe_next
from coprod.web.pages.paged import paged
from coprod.web.render import page, redirect

# How many of the newest messages the person's own page shows; the rest are a link away.
ON_THEIR_PAGE = 5


@dataclass(frozen=True)
class MessageRow:
    message: OutboxMessage
    about: str
    how: str
    standing: delivery.Standing
    can_print: bool


def rows_for(rep: Representative, found: Iterable[OutboxMessage]) -> list[MessageRow]:
    return [
        MessageRow(
            message=m,
            about=KINDS[m.notification].about if m.notification in KINDS else m.subject,
            how=delivery.CHANNEL_WORDS.get(m.kind, m.kind.title()),
            standing=messages.standing(m),
            can_print=messages.can_print(m, rep),
        )
        for m in found
    ]


async def recent(actor: Actor, rep: Representative) -> list[MessageRow]:
    """The newest few, for the person's page (leads only)."""
    return rows_for(rep, await messages.for_representative(actor, rep).limit(ON_THEIR_PAGE))


def _back(form: dict[str, object], fallback: str) -> str:
    back = form.get("back")
    return safe_next(back) if isinstance(back, str) and back else fallback


@signed_in(Role.INVOLVEMENT_LEAD)
async def list_messages(request: Request, actor: Actor) -> Response:
    rep = await access.representative_for(actor, request.path_params["id"])
    found = await paged(request, messages.for_representative(actor, rep))
    return page(
        request,
        "messages/list.html",
        {"rep": rep, "items": found, "rows": rows_for(rep, found.rows)},
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def letter_pdf(request: Request, actor: Actor) -> Response:
    rep = await access.representative_for(actor, request.path_params["id"])
    row = await messages.message_for(actor, rep, request.path_params["message_id"])
    return pdf_response(await messages.print_letter(actor, rep, row), row)


@signed_in(Role.INVOLVEMENT_LEAD)
async def follow_up(request: Request, actor: Actor) -> Response:
    rep = await access.representative_for(actor, request.path_params["id"])
    row = await messages.message_for(actor, rep, request.path_params["message_id"])
    form = form_values(await request.form())
    try:
        await messages.follow_up(actor, row)
    except Conflict:
        pass  # it has not failed (an old page): there is nothing to record
    return redirect(_back(form, f"/representatives/{rep.id}/messages"))


@signed_in(Role.INVOLVEMENT_LEAD)
async def tick_transcription(request: Request, actor: Actor) -> Response:
    form = form_values(await request.form())
    await arrangements.tick_transcription(
        actor, request.path_params["id"], form.get("done") == "yes"
    )
    return redirect(_back(form, "/arrangements/overdue"))


routes = [
    Route("/representatives/{id:int}/messages", list_messages, methods=["GET"]),
    Route(
        "/representatives/{id:int}/messages/{message_id:int}/letter.pdf",
        letter_pdf,
        methods=["GET"],
    ),
    Route(
        "/representatives/{id:int}/messages/{message_id:int}/follow-up",
        follow_up,
        methods=["POST"],
    ),
    Route("/transcriptions/{id:int}/tick", tick_transcription, methods=["POST"]),
]
