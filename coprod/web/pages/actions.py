"""A team's new feedback and its themes, "You said, we did" actions, and the public board.

The staff pages let any member of staff through `signed_in`: the service decides, so a feedback
champion who is not an involvement lead reaches their own team's pages, other staff get a 403
and another organisation's team a 404 (`access.team_feedback_for`).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.errors import NotFound
from coprod.models import (
    STAFF_ROLES,
    Activity,
    ActivityFeedback,
    Organisation,
    Project,
    SurveyResponse,
    Team,
)
from coprod.models.feedback import ActionStatus, FeedbackAction
from coprod.services import access, actions
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed, record_id
from coprod.web.guards import form_values, signed_in
from coprod.web.pages.paged import paged
from coprod.web.render import page, redirect

STATUS_OPTIONS = [s.value for s in ActionStatus]
STATUS_LABELS = {s.value: label for s, label in actions.STATUS_LABELS.items()}


def _action_form(form: FormData) -> dict[str, Any]:
    """The action form's fields, with every list of links (empty when nothing is ticked)."""
    data = {k: v for k, v in form_values(form).items() if k not in actions.LINKS}
    for field in actions.LINKS:
        data[field] = [str(v) for v in form.getlist(field)]
    return data


async def _choices(actor: Actor, team_id: int, chosen: dict[str, Any]) -> dict[str, Any]:
    """What an action may link to: the organisation's activities of this team or of none,
    projects, and (those already chosen, or named in the address) feedback. Lists are capped
    so the form costs the same however much there is."""
    org = actor.organisation_id
    chosen_activities = [i for i in (record_id(v) for v in chosen.get("activity_ids", [])) if i]
    recent = Activity.filter(organisation_id=org).order_by("-starts_at", "-id").limit(50)
    activities = {
        a.id: a
        for a in [
            *await Activity.filter(organisation_id=org, id__in=chosen_activities),
            *await recent.filter(team_id=team_id),
            *await recent.filter(team_id__isnull=True),
        ]
    }.values()
    projects = await Project.filter(organisation_id=actor.organisation_id).limit(100)
    response_ids = [i for i in (record_id(v) for v in chosen.get("response_ids", [])) if i]
    feedback_ids = [i for i in (record_id(v) for v in chosen.get("feedback_ids", [])) if i]
    responses = await SurveyResponse.filter(
        id__in=response_ids, organisation_id=actor.organisation_id, team_id=team_id
    ).prefetch_related("answers__question")
    feedback = await ActivityFeedback.filter(
        id__in=feedback_ids, organisation_id=actor.organisation_id
    ).prefetch_related("activity")
    return {
        "staff": await actions.staff(actor),
        "activity_options": sorted(activities, key=lambda a: a.title),
        "project_options": projects,
        "response_options": [(r, actions.answers_of(r)) for r in responses],
        "feedback_options": feedback,
        "status_options": STATUS_OPTIONS,
        "status_labels": STATUS_LABELS,
    }


async def _board_path(team: Team) -> str:
    organisation = await Organisation.get(id=team.organisation_id)
    return f"/you-said-we-did/{organisation.slug}/{team.id}"


def _said(responses: list[SurveyResponse]) -> str:
    """What the chosen responses said in their own words, to start "You said" from."""
    words = [
        a.text.strip()
        for r in responses
        for a in r.answers  # type: ignore[attr-defined]
        if a.text and a.text.strip()
    ]
    return "\n".join(words)[: actions.WORDS_MAX]


@signed_in(*STAFF_ROLES)
async def new_feedback(request: Request, actor: Actor) -> Response:
    team = await access.team_feedback_for(actor, request.path_params["id"])
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        raw = await request.form()
        form = form_values(raw)
        chosen = [str(v) for v in raw.getlist("response_ids")]
        try:
            if form.get("do") == "tag":
                response = await actions.response_for(
                    actor, record_id(form.get("response_id")) or 0
                )
                await actions.tag(
                    actor,
                    response,
                    {"theme_ids": raw.getlist("theme_ids"), "new_theme": form.get("new_theme")},
                )
                return redirect(f"/teams/{team.id}/feedback/new?tagged=1")
            if not chosen:
                raise ValidationFailed.one("response_ids", "Select at least one piece of feedback")
            responses = [await actions.response_for(actor, record_id(i) or 0) for i in chosen]
            if form.get("do") == "act":
                ids = "&".join(f"response_ids={r.id}" for r in responses)
                return redirect(f"/teams/{team.id}/actions/new?{ids}")
            await actions.mark_read(actor, responses)
            return redirect(f"/teams/{team.id}/feedback/new?read={len(responses)}")
        except ValidationFailed as exc:
            errors = exc
    found = await paged(request, actions.new_feedback(team))
    return page(
        request,
        "actions/new.html",
        {
            "team": team,
            "paged": found,
            "responses": [(r, actions.answers_of(r)) for r in found.rows],
            "themes": await (await actions.themes(actor)),
            "form": form,
            "tagged": "tagged" in request.query_params,
            "read": request.query_params.get("read"),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(*STAFF_ROLES)
async def team_actions(request: Request, actor: Actor) -> Response:
    team = await access.team_feedback_for(actor, request.path_params["id"])
    status = request.query_params.get("status", "")
    found = await paged(request, actions.team_actions(team, status))
    return page(
        request,
        "actions/actions.html",
        {
            "team": team,
            "board_path": await _board_path(team),
            "paged": found,
            "status": status if status in STATUS_OPTIONS else "",
            "status_options": STATUS_OPTIONS,
            "status_labels": STATUS_LABELS,
        },
    )


@signed_in(*STAFF_ROLES)
async def new_action(request: Request, actor: Actor) -> Response:
    team = await access.team_feedback_for(actor, request.path_params["id"])
    errors = None
    if request.method == "POST":
        form = _action_form(await request.form())
        try:
            action = await actions.create_action(actor, team.id, form)
            return redirect(f"/actions/{action.id}?saved=1")
        except ValidationFailed as exc:
            errors = exc
    else:
        chosen = [v for v in request.query_params.getlist("response_ids") if record_id(v)][:50]
        assert actor.user is not None
        form = {
            "response_ids": chosen,
            "owner_id": str(actor.user.id),
            "status": ActionStatus.PLANNED.value,
            "on_board": "yes",
        }
    choices = await _choices(actor, team.id, form)
    if request.method == "GET" and choices["response_options"]:
        form["you_said"] = _said([r for r, _ in choices["response_options"]])
    return page(
        request,
        "actions/action_form.html",
        {"team": team, "action": None, "form": form, **choices},
        status_code=422 if errors else 200,
        errors=errors,
    )


def _form_of(action: FeedbackAction, links: actions.Links) -> dict[str, Any]:
    return {
        "you_said": action.you_said,
        "we_did": action.we_did,
        "owner_id": str(action.owner_id or ""),
        "status": action.status.value,
        "not_possible_reason": action.not_possible_reason or "",
        "on_board": "yes" if action.on_board else "no",
        **{field: [str(i) for i in getattr(links, field)] for field in actions.LINKS},
    }


@signed_in(*STAFF_ROLES)
async def action_detail(request: Request, actor: Actor) -> Response:
    action = await actions.action_for(actor, request.path_params["id"])
    team = await access.team_feedback_for(actor, action.team_id)
    errors = None
    if request.method == "POST":
        form = _action_form(await request.form())
        try:
            await actions.update_action(actor, action, form)
            return redirect(f"/actions/{action.id}?saved=1")
        except ValidationFailed as exc:
            errors = exc
    else:
        form = _form_of(action, await actions.links_of(action))
    return page(
        request,
        "actions/action_form.html",
        {
            "team": team,
            "action": action,
            "form": form,
            "saved": "saved" in request.query_params,
            **await _choices(actor, team.id, form),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


async def _board(request: Request, template: str) -> Response:
    slug = request.path_params["org_slug"]
    if not isinstance(slug, str) or len(slug) > 80:
        raise NotFound
    organisation, team, found = await actions.board(slug, request.path_params["team_id"])
    return page(
        request,
        template,
        {
            "organisation": organisation,
            "team": team,
            "groups": actions.by_status(found),
            "status_labels": STATUS_LABELS,
        },
    )


async def public_board(request: Request) -> Response:
    return await _board(request, "actions/board.html")


async def poster(request: Request) -> Response:
    return await _board(request, "actions/poster.html")


routes = [
    Route("/teams/{id:int}/feedback/new", new_feedback, methods=["GET", "POST"]),
    Route("/teams/{id:int}/actions", team_actions, methods=["GET"]),
    Route("/teams/{id:int}/actions/new", new_action, methods=["GET", "POST"]),
    Route("/actions/{id:int}", action_detail, methods=["GET", "POST"]),
    Route("/you-said-we-did/{org_slug}/{team_id:int}", public_board, methods=["GET"]),
    Route("/you-said-we-did/{org_slug}/{team_id:int}/poster", poster, methods=["GET"]),
]
