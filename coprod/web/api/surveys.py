"""API operations for feedback surveys: building them, opening and closing, paper answers,
responses, results and each team's count towards its targets.

Leads build and open surveys. A team's feedback champion reads its surveys, responses, results
and targets, and adds paper answers. Contact details people chose to leave are sent only when
asked for (`contact=true`), and each such read is audited.

Answering is not offered here: the public form at /s/{token} is the one way in, as it carries a
CSRF token tied to the browser and shows nothing of a survey that is not open. A public JSON
operation would be an easier way to flood a team's targets with made-up answers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request

from coprod.domain import surveys as rules
from coprod.domain.reporting import SUPPRESS_BELOW
from coprod.models import Role
from coprod.models.feedback import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from coprod.services import access, surveys
from coprod.services.actor import Actor
from coprod.web.api.paging import keyset_page
from coprod.web.api.periods import PeriodQuery
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, Count, DateTime, Id, NoBody, Page, Paging, Reply, text

SURVEYS = "surveys"
LEADS = (Role.INVOLVEMENT_LEAD,)

AudienceName = Literal["patients", "carers", "representatives"]
StageName = Literal["start", "end", "ask"]
KindName = Literal["choice", "rating", "text"]
TemplateKey = Literal["patients_start", "patients_end", "carers", "representatives"]


# ---------------------------------------------------------------------------- surveys


class NewSurvey(Body):
    team_id: Id | None = Field(None, title="the team", description="Required: the team it is for")
    template: TemplateKey | None = Field(
        None, title="the template", description="Start from a template; leave out for blank"
    )
    audience: AudienceName | None = Field(
        None, title="who the survey is for", description="Required unless a template is given"
    )
    stage: StageName | None = Field(
        None,
        title="when people are asked",
        description="start or end of their time with the team, or ask: the form asks them. "
        "Required unless a template is given",
    )
    title: str | None = text(
        rules.MAX_TITLE,
        required=False,
        default=None,
        title="a title",
        description="Required unless a template is given",
    )
    introduction: str | None = text(
        rules.MAX_INTRODUCTION, required=False, default=None, title="an introduction"
    )


class SurveyChange(Body):
    title: str | None = text(rules.MAX_TITLE, default=None, title="a title")
    introduction: str | None = text(
        rules.MAX_INTRODUCTION, required=False, default=None, title="an introduction"
    )


class QuestionReply(Reply):
    id: int
    position: int
    kind: KindName
    prompt: str
    choices: list[str] | None


class SurveyReply(Reply):
    id: int
    team_id: int
    title: str
    introduction: str | None
    audience: AudienceName
    stage: StageName
    status: Literal["draft", "open", "closed"]
    template: str | None
    url: str = Field(description="The public web link (works only while it is open)")
    opened_at: DateTime | None
    closed_at: DateTime | None
    created_at: DateTime
    questions: list[QuestionReply] | None = Field(
        None, description="With a single survey; left out of lists"
    )


def _question(q: SurveyQuestion) -> QuestionReply:
    return QuestionReply(
        id=q.id,
        position=q.position,
        kind=q.kind.value,
        prompt=q.prompt,
        choices=q.choices,
    )


def _survey(s: Survey, questions: list[SurveyQuestion] | None = None) -> SurveyReply:
    return SurveyReply(
        id=s.id,
        team_id=s.team_id,
        title=s.title,
        introduction=s.introduction,
        audience=s.audience.value,
        stage=s.stage.value,
        status=s.status.value,
        template=s.template_key,
        url=surveys.public_url(s),
        opened_at=s.opened_at,
        closed_at=s.closed_at,
        created_at=s.created_at,
        questions=[_question(q) for q in questions] if questions is not None else None,
    )


async def _full(s: Survey) -> SurveyReply:
    return _survey(s, await surveys.questions_of(s))


@api.operation(
    "GET",
    "/surveys",
    summary="The surveys of the teams whose feedback you handle, by title",
    tag=SURVEYS,
    query=Paging,
    reply=Page[SurveyReply],
)
async def list_surveys(request: Request, actor: Actor, query: Paging) -> Page[SurveyReply]:
    teams = await surveys.teams_for(actor)
    found, cursor = await keyset_page(
        Survey.filter(
            organisation_id=actor.organisation_id, team_id__in=[t.id for t in teams] or [0]
        ),
        query,
        ("title", "id"),
    )
    return Page(items=[_survey(s) for s in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/surveys",
    summary="Start a draft survey for a team, blank or from a template",
    tag=SURVEYS,
    roles=LEADS,
    body=NewSurvey,
    reply=SurveyReply,
    status=201,
)
async def create_survey(request: Request, actor: Actor, body: NewSurvey) -> SurveyReply:
    return await _full(await surveys.create_survey(actor, body.data()))


@api.operation(
    "GET",
    "/surveys/{id:int}",
    summary="One survey, with its questions in order",
    tag=SURVEYS,
    reply=SurveyReply,
)
async def get_survey(request: Request, actor: Actor, id: int) -> SurveyReply:
    return await _full(await surveys.survey_for(actor, id))


@api.operation(
    "PATCH",
    "/surveys/{id:int}",
    summary="Correct a survey's title or introduction (at any time)",
    tag=SURVEYS,
    roles=LEADS,
    body=SurveyChange,
    reply=SurveyReply,
)
async def update_survey(request: Request, actor: Actor, id: int, body: SurveyChange) -> SurveyReply:
    survey = await surveys.survey_for(actor, id)
    return await _full(await surveys.update_survey(actor, survey, body.data()))


@api.operation(
    "POST",
    "/surveys/{id:int}/open",
    summary="Open the survey: its link and QR code take answers (the questions are then fixed)",
    tag=SURVEYS,
    roles=LEADS,
    body=NoBody,
    reply=SurveyReply,
)
async def open_survey(request: Request, actor: Actor, id: int, body: NoBody) -> SurveyReply:
    survey = await surveys.survey_for(actor, id)
    return await _full(await surveys.open_survey(actor, survey))


@api.operation(
    "POST",
    "/surveys/{id:int}/close",
    summary="Close the survey: its link says it is not open (paper answers may still be added)",
    tag=SURVEYS,
    roles=LEADS,
    body=NoBody,
    reply=SurveyReply,
)
async def close_survey(request: Request, actor: Actor, id: int, body: NoBody) -> SurveyReply:
    survey = await surveys.survey_for(actor, id)
    return await _full(await surveys.close_survey(actor, survey))


# ---------------------------------------------------------------------------- questions


class NewQuestion(Body):
    kind: KindName = Field(title="the kind of question")
    prompt: str = text(rules.MAX_PROMPT, title="the question")
    choices: list[str] | None = Field(
        None,
        max_length=50,
        title="the choices",
        description=f"For a choice question: {rules.MIN_CHOICES} to {rules.MAX_CHOICES} "
        "different choices",
    )


class QuestionChange(Body):
    kind: KindName | None = Field(None, title="the kind of question")
    prompt: str | None = text(rules.MAX_PROMPT, required=False, default=None, title="the question")
    choices: list[str] | None = Field(None, max_length=50, title="the choices")


@api.operation(
    "POST",
    "/surveys/{id:int}/questions",
    summary=f"Add a question at the end (a draft survey only; at most {rules.MAX_QUESTIONS})",
    tag=SURVEYS,
    roles=LEADS,
    body=NewQuestion,
    reply=QuestionReply,
    status=201,
)
async def add_question(request: Request, actor: Actor, id: int, body: NewQuestion) -> QuestionReply:
    survey = await surveys.survey_for(actor, id)
    return _question(await surveys.add_question(actor, survey, body.data()))


@api.operation(
    "PATCH",
    "/surveys/{id:int}/questions/{question_id:int}",
    summary="Change a question (a draft survey only: once open, questions are fixed so every "
    "answer means the same thing)",
    tag=SURVEYS,
    roles=LEADS,
    body=QuestionChange,
    reply=QuestionReply,
)
async def change_question(
    request: Request, actor: Actor, id: int, question_id: int, body: QuestionChange
) -> QuestionReply:
    survey = await surveys.survey_for(actor, id)
    question = await surveys.question_for(actor, survey, question_id)
    return _question(await surveys.change_question(actor, question, body.data()))


@api.operation(
    "DELETE",
    "/surveys/{id:int}/questions/{question_id:int}",
    summary="Remove a question (a draft survey only)",
    tag=SURVEYS,
    roles=LEADS,
    reply=SurveyReply,
)
async def remove_question(request: Request, actor: Actor, id: int, question_id: int) -> SurveyReply:
    survey = await surveys.survey_for(actor, id)
    await surveys.remove_question(actor, await surveys.question_for(actor, survey, question_id))
    return await _full(survey)


class QuestionOrder(Body):
    order: list[Id] = Field(
        title="the order", max_length=50, description="Every question's id, once, in order"
    )


@api.operation(
    "PUT",
    "/surveys/{id:int}/question-order",
    summary="Put the questions in a new order (a draft survey only)",
    tag=SURVEYS,
    roles=LEADS,
    body=QuestionOrder,
    reply=SurveyReply,
)
async def reorder(request: Request, actor: Actor, id: int, body: QuestionOrder) -> SurveyReply:
    survey = await surveys.survey_for(actor, id)
    await surveys.reorder(actor, survey, body.data())
    return await _full(survey)


# ---------------------------------------------------------------------------- responses


class AnswerReply(Reply):
    question_id: int
    choice: str | None
    rating: int | None
    text: str | None


class ContactReply(Reply):
    name: str
    how: str


class ResponseReply(Reply):
    id: int
    survey_id: int
    source: Literal["web", "paper"]
    stage: Literal["start", "end"] | None
    received_on: dt.date = Field(description="The day it was given (a paper form's date)")
    received_at: DateTime = Field(description="When it reached Coprod")
    entered_by_id: int | None = Field(description="Who typed in a paper answer")
    left_contact_details: bool
    contact: ContactReply | None = Field(description="Only with contact=true (audited)")
    answers: list[AnswerReply]


class ResponsesQuery(Paging):
    contact: bool = Field(
        False, description="Include contact details people chose to leave (the read is audited)"
    )


@api.operation(
    "GET",
    "/surveys/{id:int}/responses",
    summary="A survey's responses, newest first, each marked web or paper",
    tag=SURVEYS,
    query=ResponsesQuery,
    reply=Page[ResponseReply],
)
async def list_responses(
    request: Request, actor: Actor, id: int, query: ResponsesQuery
) -> Page[ResponseReply]:
    survey = await surveys.survey_for(actor, id)
    found, cursor = await keyset_page(
        SurveyResponse.filter(survey_id=survey.id), query, ("-received_at", "-id")
    )
    details = await surveys.responses_of(actor, survey, found, with_contact=query.contact)
    answers: dict[int, list[AnswerReply]] = {r.id: [] for r in found}
    for a in await SurveyAnswer.filter(response_id__in=[r.id for r in found] or [0]).order_by(
        "question_id"
    ):
        answers[a.response_id].append(
            AnswerReply(question_id=a.question_id, choice=a.choice, rating=a.rating, text=a.text)
        )
    return Page(
        items=[
            ResponseReply(
                id=r.id,
                survey_id=r.survey_id,
                source=r.source.value,
                stage=r.stage.value if r.stage else None,
                received_on=r.received_on,
                received_at=r.received_at,
                entered_by_id=r.entered_by_id,
                left_contact_details=r.contact_encrypted is not None,
                contact=ContactReply(**details[r.id]) if r.id in details else None,
                answers=answers[r.id],
            )
            for r in found
        ],
        next_cursor=cursor,
    )


class GivenAnswer(Body):
    question_id: Id = Field(title="the question")
    answer: str | int = Field(
        title="the answer",
        description="A choice's words, a score from 1 to 5, or the person's own words",
    )


class PaperResponse(Body):
    received_on: dt.date = Field(title="the date on the paper form")
    stage: Literal["start", "end"] | None = Field(
        None, title="the stage", description="When the survey asks: start or end, if they said"
    )
    answers: list[GivenAnswer] = Field(
        default_factory=list,
        max_length=50,
        title="the answers",
        description="Errors name each answer's field as q{question_id}, as the page does",
    )
    contact_name: str | None = text(
        rules.MAX_CONTACT, required=False, default=None, title="your name"
    )
    contact_how: str | None = text(
        rules.MAX_CONTACT, required=False, default=None, title="how to reach you"
    )


def _as_form(body: PaperResponse) -> dict[str, Any]:
    data: dict[str, Any] = body.data()
    answers = data.pop("answers", [])
    return data | {rules.answer_field(a["question_id"]): str(a["answer"]) for a in answers}


@api.operation(
    "POST",
    "/surveys/{id:int}/paper-responses",
    summary="Type in an answer given on paper (marked as paper, with who typed it in)",
    tag=SURVEYS,
    body=PaperResponse,
    reply=ResponseReply,
    status=201,
)
async def add_paper_response(
    request: Request, actor: Actor, id: int, body: PaperResponse
) -> ResponseReply:
    survey = await surveys.survey_for(actor, id)
    response = await surveys.add_paper_answer(actor, survey, _as_form(body))
    given = await SurveyAnswer.filter(response_id=response.id).order_by("question_id")
    return ResponseReply(
        id=response.id,
        survey_id=survey.id,
        source="paper",
        stage=response.stage.value if response.stage else None,
        received_on=response.received_on,
        received_at=response.received_at,
        entered_by_id=response.entered_by_id,
        left_contact_details=response.contact_encrypted is not None,
        contact=None,
        answers=[
            AnswerReply(question_id=a.question_id, choice=a.choice, rating=a.rating, text=a.text)
            for a in given
        ],
    )


# ---------------------------------------------------------------------------- results


class ResultRow(Reply):
    label: str
    count: Count | None = Field(description=f"Null when hidden: fewer than {SUPPRESS_BELOW}")


class TextAnswer(Reply):
    text: str
    source: Literal["web", "paper"]


class QuestionResultReply(Reply):
    question_id: int
    prompt: str
    kind: KindName
    answered: Count | None = Field(description="Null when hidden")
    rows: list[ResultRow]
    average: float | None = Field(description="Only when none of the scores' counts is hidden")
    texts: list[TextAnswer]


class ResultsReply(Reply):
    survey_id: int
    responses: Count
    shown: bool = Field(
        description=f"Figures per question appear once {SUPPRESS_BELOW} or more have answered"
    )
    sources: list[ResultRow]
    stages: list[ResultRow]
    questions: list[QuestionResultReply]


@api.operation(
    "GET",
    "/surveys/{id:int}/results",
    summary="A survey's results, with small counts hidden so no one can be picked out",
    tag=SURVEYS,
    reply=ResultsReply,
)
async def results(request: Request, actor: Actor, id: int) -> ResultsReply:
    survey = await surveys.survey_for(actor, id)
    found = await surveys.results(actor, survey)
    return ResultsReply(
        survey_id=survey.id,
        responses=found.responses,
        shown=found.shown,
        sources=[ResultRow(label=r.label, count=r.count) for r in found.sources],
        stages=[ResultRow(label=r.label, count=r.count) for r in found.stages],
        questions=[
            QuestionResultReply(
                question_id=q.question.id,
                prompt=q.question.prompt,
                kind=q.question.kind,  # type: ignore[arg-type]
                answered=q.answered,
                rows=[ResultRow(label=r.label, count=r.count) for r in q.rows],
                average=q.average,
                texts=[TextAnswer(text=t, source=s) for t, s in q.texts],  # type: ignore[arg-type]
            )
            for q in found.questions
        ],
    )


# ---------------------------------------------------------------------------- targets


class PeriodReply(Reply):
    start: dt.date
    end: dt.date
    label: str


class ProgressReply(Reply):
    total: Count
    target: Count
    met: bool
    start: Count = Field(description="Answers from the start of people's time with the team")
    end: Count = Field(description="Answers from the end")
    not_said: Count = Field(description="Answers where the person did not say")


class TargetsReply(Reply):
    team_id: int
    period: PeriodReply
    patients: ProgressReply
    carers: ProgressReply


def _progress(p: rules.Progress) -> ProgressReply:
    return ProgressReply(
        total=p.total, target=p.target, met=p.met, start=p.start, end=p.end, not_said=p.not_said
    )


@api.operation(
    "GET",
    "/teams/{id:int}/feedback-targets",
    summary=f"A team's answers in a review period towards {rules.TARGET} patients and "
    f"{rules.TARGET} carers, split by the start and end of their time with the team",
    tag=SURVEYS,
    query=PeriodQuery,
    reply=TargetsReply,
)
async def team_targets(request: Request, actor: Actor, id: int, query: PeriodQuery) -> TargetsReply:
    await access.team_feedback_for(actor, id)  # an unknown team is 404 whatever the period
    period = query.resolved_period()
    found = await surveys.team_targets(actor, id, period)
    return TargetsReply(
        team_id=id,
        period=PeriodReply(start=period.start, end=period.end, label=period.label),
        patients=_progress(found.patients),
        carers=_progress(found.carers),
    )
