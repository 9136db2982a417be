"""Feedback surveys: building one for a team (blank or from a template), opening and closing it,
answering it by its public link or typing in a paper answer, its results, and each team's
count towards its targets.

Leads build and open surveys. A team's feedback champion may see its surveys, results and
targets, and type in paper answers.

Questions change only while a survey is a draft. Once it has opened, people may have answered
(or be holding a printed copy), so a changed question would mix answers to two different
questions under one heading: the lead starts a new survey instead. The title and introduction
may still be corrected, as they do not change what an answer means.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from coprod import clock, crypto
from coprod.config import get_settings
from coprod.domain import surveys as rules
from coprod.domain.reporting import Period
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import Team
from coprod.models.feedback import (
    Audience,
    JourneyStage,
    QuestionKind,
    ResponseSource,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    SurveyStage,
    SurveyStatus,
)
from coprod.services import audit
from coprod.services.access import (
    chosen,
    is_lead,
    may_handle_feedback,
    require_lead,
    team_feedback_for,
)
from coprod.services.actor import Actor
from coprod.validation import Checker, ValidationFailed, record_id

NOT_OPEN = "This survey is not open"


def public_url(survey: Survey) -> str:
    """The web link on posters and paper forms (and in the QR code)."""
    return f"{get_settings().base_url}/s/{survey.link_token}"


# ---------------------------------------------------------------------------- reading


async def teams_for(actor: Actor) -> list[Team]:
    """The teams whose feedback the actor handles: every team for a lead, otherwise those they
    are the feedback champion of (none: forbidden)."""
    found = Team.filter(organisation_id=actor.organisation_id).order_by("name")
    if not is_lead(actor):
        if actor.user is None:
            raise Forbidden
        found = found.filter(feedback_champion_id=actor.user.id)
    teams = list(await found)
    if not teams and not is_lead(actor):
        raise Forbidden
    return teams


async def survey_for(actor: Actor, survey_id: int) -> Survey:
    """A survey the actor may see: another organisation's is not found."""
    survey = await Survey.get_or_none(
        id=survey_id, organisation_id=actor.organisation_id
    ).prefetch_related("team")
    if survey is None:
        raise NotFound
    if not may_handle_feedback(actor, survey.team):
        raise Forbidden
    return survey


async def questions_of(survey: Survey) -> list[SurveyQuestion]:
    return list(await SurveyQuestion.filter(survey_id=survey.id).order_by("position"))


def as_rule(q: SurveyQuestion) -> rules.Question:
    return rules.Question(q.id, q.kind.value, q.prompt, tuple(q.choices or ()))


async def survey_by_token(token: str) -> Survey:
    """The survey behind a public link, whatever its state (the page says "not open")."""
    if not token or len(token) > 40:
        raise NotFound
    survey = await Survey.get_or_none(link_token=token).prefetch_related("team", "organisation")
    if survey is None:
        raise NotFound
    return survey


# ---------------------------------------------------------------------------- building


async def _team_of(actor: Actor, c: Checker) -> Team | None:
    return await chosen(
        c, "team_id", Team, actor.organisation_id, "Select a team in your organisation"
    )


async def create_survey(actor: Actor, data: Mapping[str, Any]) -> Survey:
    """A new draft survey for a team, blank or from a template; a template fills in the title,
    introduction and questions, and its audience and stage unless others are chosen."""
    require_lead(actor)
    c = Checker(data)
    team = await _team_of(actor, c)
    key = c.raw("template")
    template = rules.TEMPLATES.get(key) if key else None
    if key and template is None:
        c.fail("template", "Select a template from the list, or start with a blank survey")
    audience = c.raw("audience") or (template.audience if template else "")
    if audience not in rules.AUDIENCES:
        c.fail("audience", "Select who the survey is for")
    stage = c.raw("stage") or (template.stage if template else "")
    if stage not in rules.STAGES:
        c.fail("stage", "Select when people are asked")
    title = c.text("title", "a title", required=template is None, max_length=rules.MAX_TITLE)
    title = title or (template.title if template else "")
    introduction = c.text(
        "introduction", "an introduction", required=False, max_length=rules.MAX_INTRODUCTION
    )
    introduction = introduction or (template.introduction if template else "")
    c.done()
    assert team is not None
    if await Survey.filter(team=team, title=title).exists():
        raise ValidationFailed.one("title", "This team already has a survey with this title")
    async with in_transaction():
        survey = await Survey.create(
            organisation_id=actor.organisation_id,
            team=team,
            title=title,
            introduction=introduction or None,
            audience=Audience(audience),
            stage=SurveyStage(stage),
            link_token=secrets.token_urlsafe(18),
            template_key=template.key if template else None,
            created_by=actor.user,
        )
        if template:
            for position, spec in enumerate(template.questions, start=1):
                await SurveyQuestion.create(
                    survey=survey,
                    position=position,
                    kind=QuestionKind(spec.kind),
                    prompt=spec.prompt,
                    choices=list(spec.choices) or None,
                )
        await audit.record(
            actor, "survey.create", survey, after=audit.snapshot(survey, exclude={"link_token"})
        )
    return survey


async def update_survey(actor: Actor, survey: Survey, data: Mapping[str, Any]) -> Survey:
    """Correct the title or introduction (fields left out stay as they are)."""
    require_lead(actor)
    c = Checker(data)
    title = survey.title
    if "title" in data:
        title = c.text("title", "a title", max_length=rules.MAX_TITLE)
    introduction: str | None = survey.introduction
    if "introduction" in data:
        introduction = (
            c.text(
                "introduction", "an introduction", required=False, max_length=rules.MAX_INTRODUCTION
            )
            or None
        )
    c.done()
    if (
        title != survey.title
        and await Survey.filter(team_id=survey.team_id, title=title).exclude(id=survey.id).exists()
    ):
        raise ValidationFailed.one("title", "This team already has a survey with this title")
    async with in_transaction():
        before = {"title": survey.title, "introduction": survey.introduction}
        survey.title = title
        survey.introduction = introduction  # type: ignore[assignment]
        await survey.save(update_fields=["title", "introduction"])
        await audit.record(
            actor,
            "survey.update",
            survey,
            before=before,
            after={"title": title, "introduction": introduction},
        )
    return survey


def _draft_only(survey: Survey) -> None:
    if survey.status != SurveyStatus.DRAFT:
        raise Conflict(rules.FIXED_AFTER_OPENING)


async def add_question(actor: Actor, survey: Survey, data: Mapping[str, Any]) -> SurveyQuestion:
    require_lead(actor)
    spec = rules.check_question(data)
    async with in_transaction():
        locked = await Survey.select_for_update().get(id=survey.id)
        _draft_only(locked)
        count = await SurveyQuestion.filter(survey_id=survey.id).count()
        if not rules.room_for_question(count):
            raise Conflict(f"A survey can have at most {rules.MAX_QUESTIONS} questions")
        question = await SurveyQuestion.create(
            survey_id=survey.id,
            position=count + 1,
            kind=QuestionKind(spec.kind),
            prompt=spec.prompt,
            choices=list(spec.choices) or None,
        )
        await audit.record(actor, "survey.question.add", question, after=audit.snapshot(question))
    return question


async def question_for(actor: Actor, survey: Survey, question_id: int) -> SurveyQuestion:
    question = await SurveyQuestion.get_or_none(id=question_id, survey_id=survey.id)
    if question is None:
        raise NotFound
    return question


async def change_question(
    actor: Actor, question: SurveyQuestion, data: Mapping[str, Any]
) -> SurveyQuestion:
    require_lead(actor)
    # Fields left out stay as they are (the API's PATCH); a page sends them all.
    current = {"kind": question.kind.value, "prompt": question.prompt, "choices": question.choices}
    spec = rules.check_question(current | {k: v for k, v in data.items() if v is not None})
    async with in_transaction():
        _draft_only(await Survey.select_for_update().get(id=question.survey_id))
        before = audit.snapshot(question)
        question.kind = QuestionKind(spec.kind)
        question.prompt = spec.prompt
        question.choices = list(spec.choices) or None
        await question.save(update_fields=["kind", "prompt", "choices"])
        await audit.record(
            actor, "survey.question.change", question, before=before, after=audit.snapshot(question)
        )
    return question


async def remove_question(actor: Actor, question: SurveyQuestion) -> None:
    require_lead(actor)
    async with in_transaction():
        _draft_only(await Survey.select_for_update().get(id=question.survey_id))
        before = audit.snapshot(question)
        await question.delete()
        rest = list(await SurveyQuestion.filter(survey_id=question.survey_id).order_by("position"))
        await _renumber(rest)
        await audit.record(actor, "survey.question.remove", question, before=before)


async def _renumber(questions: Sequence[SurveyQuestion]) -> None:
    """Positions 1, 2, 3… in this order. Positions are unique, so each question first steps
    aside to a negative one."""
    for q in questions:
        await SurveyQuestion.filter(id=q.id).update(position=-q.id)
    for position, q in enumerate(questions, start=1):
        await SurveyQuestion.filter(id=q.id).update(position=position)
        q.position = position


async def reorder(actor: Actor, survey: Survey, data: Mapping[str, Any]) -> list[SurveyQuestion]:
    """Put the questions in the order given: `order`, every question's id once."""
    require_lead(actor)
    raw = data.get("order")
    wanted = [record_id(v) for v in raw] if isinstance(raw, list) else []
    async with in_transaction():
        _draft_only(await Survey.select_for_update().get(id=survey.id))
        questions = await questions_of(survey)
        if None in wanted or not rules.reordered([q.id for q in questions], wanted):  # type: ignore[arg-type]
            raise ValidationFailed.one("order", "List each of the survey's questions once")
        by_id = {q.id: q for q in questions}
        before = [q.id for q in questions]
        ordered = [by_id[i] for i in wanted if i is not None]
        await _renumber(ordered)
        await audit.record(
            actor, "survey.reorder", survey, before={"order": before}, after={"order": wanted}
        )
    return ordered


async def open_survey(actor: Actor, survey: Survey) -> Survey:
    require_lead(actor)
    async with in_transaction():
        locked = await Survey.select_for_update().get(id=survey.id)
        if locked.status == SurveyStatus.OPEN:
            return locked
        if not await SurveyQuestion.filter(survey_id=survey.id).exists():
            raise Conflict("Add at least one question before opening the survey")
        before = locked.status.value
        locked.status = SurveyStatus.OPEN
        locked.opened_at = dt.datetime.now(dt.UTC)
        locked.closed_at = None
        await locked.save(update_fields=["status", "opened_at", "closed_at"])
        await audit.record(
            actor, "survey.open", locked, before={"status": before}, after={"status": "open"}
        )
    return locked


async def close_survey(actor: Actor, survey: Survey) -> Survey:
    require_lead(actor)
    async with in_transaction():
        locked = await Survey.select_for_update().get(id=survey.id)
        if locked.status != SurveyStatus.OPEN:
            raise Conflict("Only an open survey can be closed")
        locked.status = SurveyStatus.CLOSED
        locked.closed_at = dt.datetime.now(dt.UTC)
        await locked.save(update_fields=["status", "closed_at"])
        await audit.record(
            actor, "survey.close", locked, before={"status": "open"}, after={"status": "closed"}
        )
    return locked


# ---------------------------------------------------------------------------- answering


async def _save_response(
    survey: Survey,
    answers: rules.Answers,
    *,
    source: ResponseSource,
    received_on: dt.date,
    entered_by_id: int | None,
) -> SurveyResponse:
    response = await SurveyResponse.create(
        organisation_id=survey.organisation_id,
        survey_id=survey.id,
        team_id=survey.team_id,
        audience=survey.audience,
        stage=JourneyStage(answers.stage) if answers.stage else None,
        source=source,
        entered_by_id=entered_by_id,
        received_at=dt.datetime.now(dt.UTC),
        received_on=received_on,
        contact_encrypted=crypto.encrypt_json(answers.contact) if answers.contact else None,
    )
    await SurveyAnswer.bulk_create(
        [
            SurveyAnswer(
                response_id=response.id,
                question_id=a.question_id,
                choice=a.choice,
                rating=a.rating,
                text=a.text,
            )
            for a in answers.answers
        ]
    )
    return response


def _response_audit(response: SurveyResponse) -> dict[str, Any]:
    # Only what the response is; its words and contact details stay out of the log.
    return {
        "survey_id": response.survey_id,
        "source": response.source.value,
        "stage": response.stage.value if response.stage else None,
        "received_on": response.received_on.isoformat(),
        "left_contact_details": response.contact_encrypted is not None,
    }


async def answer(token: str, data: Mapping[str, Any]) -> SurveyResponse:
    """Someone answering by the public link or QR code, without signing in. Only an open
    survey takes answers; anything else is "not open", whatever state it is in."""
    survey = await survey_by_token(token)
    if survey.status != SurveyStatus.OPEN:
        raise Conflict(NOT_OPEN)
    questions = [as_rule(q) for q in await questions_of(survey)]
    answers = rules.check_answers(questions, data, survey_stage=survey.stage.value)
    async with in_transaction():
        locked = await Survey.select_for_update().get(id=survey.id)
        if locked.status != SurveyStatus.OPEN:
            raise Conflict(NOT_OPEN)
        response = await _save_response(
            survey,
            answers,
            source=ResponseSource.WEB,
            received_on=clock.today(),
            entered_by_id=None,
        )
        await audit.record(
            Actor.system(via="web", organisation_id=survey.organisation_id),
            "survey.answer",
            response,
            after=_response_audit(response),
            organisation_id=survey.organisation_id,
        )
    return response


async def add_paper_answer(actor: Actor, survey: Survey, data: Mapping[str, Any]) -> SurveyResponse:
    """Staff typing in a paper form: marked as paper, with who typed it and the date written
    on it (what the review periods count by)."""
    team_feedback_for_checked(actor, survey)
    if survey.status == SurveyStatus.DRAFT:
        raise Conflict("Open the survey before typing in paper answers")
    questions = [as_rule(q) for q in await questions_of(survey)]
    c = Checker(data)
    received_on = c.date("received_on", "the date on the paper form")
    if received_on is not None and rules.too_late(received_on, clock.today()):
        c.fail("received_on", "The date on the paper form must be today or in the past")
    try:
        answers = rules.check_answers(questions, data, survey_stage=survey.stage.value)
    except ValidationFailed as exc:
        c.errors += [e for e in exc.errors if e.field not in {x.field for x in c.errors}]
    c.done()
    assert received_on is not None
    async with in_transaction():
        response = await _save_response(
            survey,
            answers,
            source=ResponseSource.PAPER,
            received_on=received_on,
            entered_by_id=actor.user.id if actor.user else None,
        )
        await audit.record(actor, "survey.paper_answer", response, after=_response_audit(response))
    return response


def team_feedback_for_checked(actor: Actor, survey: Survey) -> None:
    if survey.organisation_id != actor.organisation_id:
        raise NotFound
    if not may_handle_feedback(actor, survey.team):
        raise Forbidden


async def responses_of(
    actor: Actor, survey: Survey, responses: Sequence[SurveyResponse], *, with_contact: bool
) -> dict[int, dict[str, str]]:
    """Contact details for a page of responses, only when asked for; one audit event for the
    look, naming every response shown with details."""
    team_feedback_for_checked(actor, survey)
    if not with_contact:
        return {}
    found = {
        r.id: {k: str(v) for k, v in crypto.decrypt_json(r.contact_encrypted).items()}
        for r in responses
        if r.contact_encrypted
    }
    if found:
        async with in_transaction():
            await audit.record(
                actor,
                "survey.contact_details.view",
                survey,
                after={"response_ids": sorted(found)},
            )
    return found


# ---------------------------------------------------------------------------- results


async def results(actor: Actor, survey: Survey) -> rules.Results:
    team_feedback_for_checked(actor, survey)
    questions = [as_rule(q) for q in await questions_of(survey)]
    responses = await SurveyResponse.filter(survey_id=survey.id).values_list("source", "stage")
    given = await SurveyAnswer.filter(response__survey_id=survey.id).values_list(
        "question_id", "choice", "rating", "text", "response__source"
    )
    return rules.summarise(
        questions,
        [(_value(s), _value(st) if st else None) for s, st in responses],
        [
            rules.GivenAnswer(qid, choice, rating, text, _value(source))
            for qid, choice, rating, text, source in given
        ],
    )


def _value(v: Any) -> str:
    return str(v.value if hasattr(v, "value") else v)


# ---------------------------------------------------------------------------- targets


async def targets_by_team(
    actor: Actor, period: Period, team_ids: Sequence[int]
) -> dict[int, rules.Targets]:
    """Each team's count towards its targets in the period, in one query."""
    rows = (
        await SurveyResponse.filter(
            organisation_id=actor.organisation_id,
            team_id__in=list(team_ids) or [0],
            received_on__gte=period.start,
            received_on__lte=period.end,
        )
        .annotate(n=Count("id"))
        .group_by("team_id", "audience", "stage")
        .values_list("team_id", "audience", "stage", "n")
    )
    found: dict[int, list[tuple[str, str | None, int]]] = {t: [] for t in team_ids}
    for team_id, audience, stage, n in rows:
        found.setdefault(team_id, []).append(
            (_value(audience), _value(stage) if stage else None, n)
        )
    return {t: rules.targets(found[t]) for t in team_ids}


async def team_targets(actor: Actor, team_id: int, period: Period) -> rules.Targets:
    team = await team_feedback_for(actor, team_id)
    return (await targets_by_team(actor, period, [team.id]))[team.id]
