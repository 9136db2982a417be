"""Answering for each time on offer: by the invitation email's link, or by a lead for someone."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.domain.scheduling import Answer
from coprod.errors import Conflict, NotFound
from coprod.models import Invitation, Role, TimeOption
from coprod.services import activities, earnings, polls
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.guards import form_values, public_form, signed_in
from coprod.web.pages.activities import MODE_LABELS
from coprod.web.render import as_page_errors, page, redirect


@signed_in(Role.INVOLVEMENT_LEAD)
async def answer_for(request: Request, actor: Actor) -> Response:
    """A lead fills in the answers someone gave by phone."""
    activity = await activities.activity_for(actor, request.path_params["id"])
    invitation = await Invitation.get_or_none(
        id=request.path_params["invitation_id"], activity=activity
    )
    if invitation is None:
        raise NotFound
    return await _answer_page(request, actor, invitation, f"/activities/{activity.id}")


async def _answer_page(
    request: Request, actor: Actor | None, invitation: Invitation, done: str
) -> Response:
    activity = await invitation.activity
    rep = await invitation.representative
    options = await TimeOption.filter(activity=activity)
    current = {a.option_id: a.answer for a in await invitation.answers.all()}
    form: dict[str, Any] = {f"answer_{k}": v for k, v in current.items()} | {
        "mode": invitation.mode or "",
        "comment": invitation.comment or "",
    }
    errors = None
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await polls.record_answers(actor, invitation, form)
            return redirect(done if actor else f"{request.url.path}?thanks=1")
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
    warnings = await earnings.activity_warnings(activity, [rep], to_person=actor is None)
    warning = warnings.get(rep.id)
    return page(
        request,
        "activities/answer.html",
        {
            "activity": activity,
            "rep": rep,
            "options": options,
            "form": form,
            "answers": list(Answer),
            "modes": sorted(activity.modes),
            "mode_labels": MODE_LABELS,
            "for_someone": actor is not None,
            "warning": warning,
            "thanks": request.query_params.get("thanks"),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


@public_form
async def answer_by_link(request: Request) -> Response:
    """The invitation email's link: answer without signing in (the link is the key)."""
    invitation = await polls.invitation_by_token(request.path_params["token"])
    return await _answer_page(request, None, invitation, "")


routes = [
    Route("/activities/{id:int}/answers/{invitation_id:int}", answer_for, methods=["GET", "POST"]),
    Route("/answer/{token}", answer_by_link, methods=["GET", "POST"]),
]
