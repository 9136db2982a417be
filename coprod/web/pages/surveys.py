"""Feedback surveys: each team's targets, building a survey, its poster, QR code and paper
prints, typing in paper answers, results, and the public answer form at /s/{token}."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.domain import surveys as rules
from coprod.domain.reporting import Period
from coprod.errors import Conflict, NotFound
from coprod.models import STAFF_ROLES, Team
from coprod.models.feedback import Survey, SurveyResponse, SurveyStatus
from coprod.services import surveys
from coprod.services.access import team_feedback_for
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.api.periods import period_from
from coprod.web.guards import form_values, public_form, signed_in
from coprod.web.qr import qr_file, qr_svg
from coprod.web.render import as_page_errors, page, redirect

PRINTS = {"standard": "Standard", "large-print": "Large print", "easy-read": "Easy read"}


def _labels() -> dict[str, Any]:
    return {
        "audiences": rules.AUDIENCE_LABELS,
        "stages": rules.STAGE_LABELS,
        "kinds": rules.KIND_LABELS,
        "ratings": rules.RATING_LABELS,
        "journey": rules.JOURNEY_LABELS,
        "journey_question": rules.JOURNEY_QUESTION,
        "target": rules.TARGET,
    }


def _period(request: Request) -> tuple[Period | None, ValidationFailed | None]:
    try:
        return period_from(request.query_params), None
    except ValidationFailed as exc:
        return None, exc


async def _survey(request: Request, actor: Actor) -> Survey:
    return await surveys.survey_for(actor, request.path_params["id"])


# ---------------------------------------------------------------------------- targets


@signed_in(*STAFF_ROLES)
async def overview(request: Request, actor: Actor) -> Response:
    teams = await surveys.teams_for(actor)
    period, errors = _period(request)
    progress = await surveys.targets_by_team(actor, period, [t.id for t in teams]) if period else {}
    return page(
        request,
        "feedback/overview.html",
        {"teams": teams, "period": period, "progress": progress, "query": request.query_params}
        | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(*STAFF_ROLES)
async def team_feedback(request: Request, actor: Actor) -> Response:
    team = await team_feedback_for(actor, request.path_params["id"])
    period, errors = _period(request)
    progress = (
        (await surveys.targets_by_team(actor, period, [team.id]))[team.id] if period else None
    )
    return page(
        request,
        "feedback/team.html",
        {
            "team": team,
            "period": period,
            "progress": progress,
            "surveys": await Survey.filter(team_id=team.id).order_by("title"),
            "query": request.query_params,
        }
        | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


# ---------------------------------------------------------------------------- building


@signed_in(*STAFF_ROLES)
async def survey_list(request: Request, actor: Actor) -> Response:
    teams = await surveys.teams_for(actor)
    found = await Survey.filter(
        organisation_id=actor.organisation_id, team_id__in=[t.id for t in teams] or [0]
    ).order_by("title", "id")
    return page(
        request,
        "feedback/surveys.html",
        {"surveys": found, "teams": {t.id: t for t in teams}} | _labels(),
    )


@signed_in(*STAFF_ROLES)
async def new_survey(request: Request, actor: Actor) -> Response:
    surveys_teams = await Team.filter(organisation_id=actor.organisation_id).order_by("name")
    form: dict[str, Any] = {"team_id": request.query_params.get("team_id", ""), "template": ""}
    errors = None
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            survey = await surveys.create_survey(actor, form)
            return redirect(f"/surveys/{survey.id}")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "feedback/new.html",
        {"teams": surveys_teams, "form": form, "templates": rules.TEMPLATES} | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


async def _builder(
    request: Request,
    actor: Actor,
    survey: Survey,
    *,
    errors: ValidationFailed | None = None,
    form: dict[str, Any] | None = None,
    question_form: dict[str, Any] | None = None,
) -> Response:
    return page(
        request,
        "feedback/survey.html",
        {
            "survey": survey,
            "questions": await surveys.questions_of(survey),
            "responses": await SurveyResponse.filter(survey_id=survey.id).count(),
            "form": form or {"title": survey.title, "introduction": survey.introduction or ""},
            "question_form": question_form or {"kind": "choice"},
            "url": surveys.public_url(survey),
            "max_questions": rules.MAX_QUESTIONS,
            "done": request.query_params.get("done", ""),
        }
        | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(*STAFF_ROLES)
async def survey_detail(request: Request, actor: Actor) -> Response:
    survey = await _survey(request, actor)
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await surveys.update_survey(actor, survey, form)
            return redirect(f"/surveys/{survey.id}?done=saved")
        except ValidationFailed as exc:
            return await _builder(request, actor, survey, errors=exc, form=form)
    return await _builder(request, actor, survey)


@signed_in(*STAFF_ROLES)
async def add_question(request: Request, actor: Actor) -> Response:
    survey = await _survey(request, actor)
    form = form_values(await request.form())
    try:
        await surveys.add_question(actor, survey, form)
        return redirect(f"/surveys/{survey.id}?done=added#questions")
    except (ValidationFailed, Conflict) as exc:
        return await _builder(
            request, actor, survey, errors=as_page_errors(exc), question_form=form
        )


async def _question(request: Request, actor: Actor) -> tuple[Survey, Any]:
    survey = await _survey(request, actor)
    question = await surveys.question_for(actor, survey, request.path_params["question_id"])
    return survey, question


@signed_in(*STAFF_ROLES)
async def edit_question(request: Request, actor: Actor) -> Response:
    survey, question = await _question(request, actor)
    errors = None
    form: dict[str, Any] = {
        "kind": question.kind.value,
        "prompt": question.prompt,
        "choices": "\n".join(question.choices or []),
    }
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await surveys.change_question(actor, question, form)
            return redirect(f"/surveys/{survey.id}?done=changed#questions")
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
    return page(
        request,
        "feedback/question.html",
        {"survey": survey, "question": question, "form": form} | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(*STAFF_ROLES)
async def remove_question(request: Request, actor: Actor) -> Response:
    survey, question = await _question(request, actor)
    try:
        await surveys.remove_question(actor, question)
    except Conflict as exc:
        return await _builder(request, actor, survey, errors=as_page_errors(exc))
    return redirect(f"/surveys/{survey.id}?done=removed#questions")


@signed_in(*STAFF_ROLES)
async def move_question(request: Request, actor: Actor) -> Response:
    survey, question = await _question(request, actor)
    form = form_values(await request.form())
    order = [q.id for q in await surveys.questions_of(survey)]
    direction = "up" if form.get("direction") == "up" else "down"
    try:
        await surveys.reorder(actor, survey, {"order": rules.moved(order, question.id, direction)})
    except (ValidationFailed, Conflict) as exc:
        return await _builder(request, actor, survey, errors=as_page_errors(exc))
    return redirect(f"/surveys/{survey.id}#questions")


@signed_in(*STAFF_ROLES)
async def open_survey(request: Request, actor: Actor) -> Response:
    survey = await _survey(request, actor)
    try:
        await surveys.open_survey(actor, survey)
    except Conflict as exc:
        return await _builder(request, actor, survey, errors=as_page_errors(exc))
    return redirect(f"/surveys/{survey.id}?done=opened")


@signed_in(*STAFF_ROLES)
async def close_survey(request: Request, actor: Actor) -> Response:
    survey = await _survey(request, actor)
    try:
        await surveys.close_survey(actor, survey)
    except Conflict as exc:
        return await _builder(request, actor, survey, errors=as_page_errors(exc))
    return redirect(f"/surveys/{survey.id}?done=closed")


# ---------------------------------------------------------------------------- results


@signed_in(*STAFF_ROLES)
async def results(request: Request, actor: Actor) -> Response:
    survey = await _survey(request, actor)
    return page(
        request,
        "feedback/results.html",
        {
            "survey": survey,
            "results": await surveys.results(actor, survey),
            "suppress_below": rules.SUPPRESS_BELOW,
        }
        | _labels(),
    )


@signed_in(*STAFF_ROLES)
async def contacts(request: Request, actor: Actor) -> Response:
    survey = await _survey(request, actor)
    left = await SurveyResponse.filter(survey_id=survey.id, contact_encrypted__isnull=False).limit(
        200
    )
    details = await surveys.responses_of(actor, survey, left, with_contact=True)
    return page(
        request,
        "feedback/contacts.html",
        {"survey": survey, "responses": left, "details": details},
    )


@signed_in(*STAFF_ROLES)
async def paper_answer(request: Request, actor: Actor) -> Response:
    survey = await _survey(request, actor)
    questions = await surveys.questions_of(survey)
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await surveys.add_paper_answer(actor, survey, form)
            return redirect(f"/surveys/{survey.id}/paper-answers/new?done=1")
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
    return page(
        request,
        "feedback/paper_answer.html",
        {
            "survey": survey,
            "questions": questions,
            "form": form,
            "done": request.query_params.get("done"),
        }
        | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


# ---------------------------------------------------------------------------- printing


@signed_in(*STAFF_ROLES)
async def qr_code(request: Request, actor: Actor) -> Response:
    survey = await _survey(request, actor)
    return qr_file(surveys.public_url(survey), title="QR code for the survey's web link")


@signed_in(*STAFF_ROLES)
async def poster(request: Request, actor: Actor) -> Response:
    survey = await _survey(request, actor)
    url = surveys.public_url(survey)
    return page(
        request,
        "feedback/poster.html",
        {"survey": survey, "url": url, "qr": qr_svg(url, leads_to="the survey", scale=10)}
        | _labels(),
    )


@signed_in(*STAFF_ROLES)
async def paper(request: Request, actor: Actor) -> Response:
    survey = await _survey(request, actor)
    kind = request.query_params.get("print", "standard")
    if kind not in PRINTS:
        kind = "standard"
    return page(
        request,
        "feedback/paper.html",
        {
            "survey": survey,
            "questions": await surveys.questions_of(survey),
            "print": kind,
            "prints": PRINTS,
            "url": surveys.public_url(survey),
        }
        | _labels(),
    )


# ---------------------------------------------------------------------------- answering


@public_form
async def answer(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        survey = await surveys.survey_by_token(token)
    except NotFound:
        return page(request, "feedback/not_open.html", status_code=404)
    if survey.status != SurveyStatus.OPEN:
        # Nothing about a draft or closed survey: not its title, not its team.
        return page(request, "feedback/not_open.html", status_code=404)
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await surveys.answer(token, form)
            return redirect(f"/s/{token}/thanks")
        except Conflict:
            return page(request, "feedback/not_open.html", status_code=404)
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "feedback/answer.html",
        {"survey": survey, "questions": await surveys.questions_of(survey), "form": form}
        | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


async def thanks(request: Request) -> Response:
    try:
        survey = await surveys.survey_by_token(request.path_params["token"])
    except NotFound:
        return page(request, "feedback/not_open.html", status_code=404)
    if survey.status != SurveyStatus.OPEN:
        return page(request, "feedback/not_open.html", status_code=404)
    return page(
        request,
        "feedback/thanks.html",
        {"board": f"/you-said-we-did/{survey.organisation.slug}/{survey.team_id}"},
    )


routes = [
    Route("/feedback", overview, methods=["GET"]),
    Route("/teams/{id:int}/feedback", team_feedback, methods=["GET"]),
    Route("/surveys", survey_list, methods=["GET"]),
    Route("/surveys/new", new_survey, methods=["GET", "POST"]),
    Route("/surveys/{id:int}", survey_detail, methods=["GET", "POST"]),
    Route("/surveys/{id:int}/questions", add_question, methods=["POST"]),
    Route("/surveys/{id:int}/questions/{question_id:int}", edit_question, methods=["GET", "POST"]),
    Route(
        "/surveys/{id:int}/questions/{question_id:int}/remove", remove_question, methods=["POST"]
    ),
    Route("/surveys/{id:int}/questions/{question_id:int}/move", move_question, methods=["POST"]),
    Route("/surveys/{id:int}/open", open_survey, methods=["POST"]),
    Route("/surveys/{id:int}/close", close_survey, methods=["POST"]),
    Route("/surveys/{id:int}/results", results, methods=["GET"]),
    Route("/surveys/{id:int}/contact-details", contacts, methods=["GET"]),
    Route("/surveys/{id:int}/paper-answers/new", paper_answer, methods=["GET", "POST"]),
    Route("/surveys/{id:int}/qr.svg", qr_code, methods=["GET"]),
    Route("/surveys/{id:int}/poster", poster, methods=["GET"]),
    Route("/surveys/{id:int}/paper", paper, methods=["GET"]),
    Route("/s/{token}", answer, methods=["GET", "POST"]),
    Route("/s/{token}/thanks", thanks, methods=["GET"]),
]
