"""API operations for closing the loop on feedback: a team's feedback champion, its new survey
feedback and themes, and "You said, we did" actions.

Any member of staff may call them; the service decides (`access.team_feedback_for`): leads for
every team, a feedback champion for their own team, 403 for other staff, and 404 for another
organisation's records. Contact details left on a survey are never part of these replies.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field
from starlette.requests import Request

from coprod.errors import NotFound
from coprod.models import STAFF_ROLES, Role, SurveyResponse
from coprod.models.feedback import ActionStatus, FeedbackAction, ResponseSource
from coprod.services import access, actions
from coprod.services.actor import Actor
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, Id, Page, Paging, Reply, text

ACTIONS = "actions"
STAFF = tuple(sorted(STAFF_ROLES))
CHOOSERS = (Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN)


# --------------------------------------------------------------------------- champions


class ChampionBody(Body):
    champion_id: Id | None = Field(
        title="the feedback champion",
        description="An active member of staff in your organisation, or null for nobody",
    )


class TeamChampionReply(Reply):
    id: int
    name: str
    feedback_champion_id: int | None


@api.operation(
    "PUT",
    "/teams/{id:int}/feedback-champion",
    summary="Choose a team's feedback champion, or nobody (administrators and involvement leads)",
    tag=ACTIONS,
    roles=CHOOSERS,
    body=ChampionBody,
    reply=TeamChampionReply,
)
async def set_champion(
    request: Request, actor: Actor, id: int, body: ChampionBody
) -> TeamChampionReply:
    team = await actions.set_champion(actor, id, body.data())
    return TeamChampionReply(
        id=team.id, name=team.name, feedback_champion_id=team.feedback_champion_id
    )


# --------------------------------------------------------------------------- themes


class NewTheme(Body):
    name: str = text(100, title="the theme")


class ThemeReply(Reply):
    id: int
    name: str


@api.operation(
    "GET",
    "/feedback-themes",
    summary="Your organisation's feedback themes, by name",
    tag=ACTIONS,
    roles=STAFF,
    query=Paging,
    reply=Page[ThemeReply],
)
async def list_themes(request: Request, actor: Actor, query: Paging) -> Page[ThemeReply]:
    found, cursor = await keyset_page(await actions.themes(actor), query, ("name", "id"))
    return Page(items=[ThemeReply(id=t.id, name=t.name) for t in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/feedback-themes",
    summary="Add a feedback theme (names are unique in an organisation, whatever their case)",
    tag=ACTIONS,
    roles=STAFF,
    body=NewTheme,
    reply=ThemeReply,
    status=201,
)
async def add_theme(request: Request, actor: Actor, body: NewTheme) -> ThemeReply:
    theme = await actions.add_theme(actor, body.data())
    return ThemeReply(id=theme.id, name=theme.name)


# --------------------------------------------------------------------------- new feedback


class AnswerReply(Reply):
    question: str
    answer: str


class ResponseReply(Reply):
    id: int
    survey_id: int
    survey_title: str
    source: ResponseSource = Field(description="paper when typed in by staff from a form")
    received_on: dt.date
    read: bool
    answers: list[AnswerReply]
    themes: list[ThemeReply]


def _response(r: SurveyResponse) -> ResponseReply:
    """`r` with its survey, answers and themes fetched."""
    return ResponseReply(
        id=r.id,
        survey_id=r.survey_id,
        survey_title=r.survey.title,
        source=r.source,
        received_on=r.received_on,
        read=r.reviewed_at is not None,
        answers=[AnswerReply(**a) for a in actions.answers_of(r)],
        themes=sorted(
            (ThemeReply(id=t.theme.id, name=t.theme.name) for t in r.themes),  # type: ignore[attr-defined]
            key=lambda t: t.name,
        ),
    )


@api.operation(
    "GET",
    "/teams/{id:int}/new-feedback",
    summary="The team's survey feedback nobody has read yet, newest first",
    tag=ACTIONS,
    roles=STAFF,
    query=Paging,
    reply=Page[ResponseReply],
)
async def new_feedback(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[ResponseReply]:
    team = await access.team_feedback_for(actor, id)
    found, cursor = await keyset_page(actions.new_feedback(team), query, ("-received_at", "-id"))
    return Page(items=[_response(r) for r in found], next_cursor=cursor)


class ReadBody(Body):
    response_ids: list[Id] = Field(
        min_length=1, max_length=200, title="the feedback", description="Responses to mark read"
    )


class ReadReply(Reply):
    marked: int = Field(description="How many were newly marked read")


@api.operation(
    "POST",
    "/teams/{id:int}/new-feedback/read",
    summary="Mark some of the team's feedback as read",
    tag=ACTIONS,
    roles=STAFF,
    body=ReadBody,
    reply=ReadReply,
)
async def mark_read(request: Request, actor: Actor, id: int, body: ReadBody) -> ReadReply:
    await access.team_feedback_for(actor, id)
    responses = [await actions.response_for(actor, i) for i in dict.fromkeys(body.response_ids)]
    if any(r.team_id != id for r in responses):
        raise NotFound
    return ReadReply(marked=await actions.mark_read(actor, responses))


class ThemesBody(Body):
    theme_ids: list[Id] = Field(
        default_factory=list, max_length=100, title="the themes", description="Existing themes"
    )
    new_theme: str | None = text(
        100, required=False, default=None, title="the theme", description="A new theme to add"
    )


@api.operation(
    "PUT",
    "/teams/{id:int}/new-feedback/{response_id:int}/themes",
    summary="Set a piece of feedback's themes (existing ones, and a new one if named)",
    tag=ACTIONS,
    roles=STAFF,
    body=ThemesBody,
    reply=ResponseReply,
)
async def set_themes(
    request: Request, actor: Actor, id: int, response_id: int, body: ThemesBody
) -> ResponseReply:
    response = await actions.response_for(actor, response_id)
    if response.team_id != id:
        raise NotFound
    await actions.tag(actor, response, body.data())
    found = await SurveyResponse.get(id=response.id).prefetch_related(
        "answers__question", "themes__theme", "survey"
    )
    return _response(found)


# --------------------------------------------------------------------------- actions


class ActionFields(Body):
    you_said: str = text(actions.WORDS_MAX, title="what people said", description="Shown in public")
    we_did: str = text(
        actions.WORDS_MAX, title="what the team is doing", description="Shown in public"
    )
    owner_id: Id = Field(title="who owns this action", description="A member of staff")
    status: ActionStatus = Field(ActionStatus.PLANNED, title="how far the action has got")
    not_possible_reason: str | None = text(
        actions.WORDS_MAX,
        required=False,
        default=None,
        title="why it is not possible",
        description="Needed when the status is not_possible; shown in public",
    )
    on_board: bool = Field(True, description="Shown on the team's public board and poster")
    activity_ids: list[Id] = Field(default_factory=list, max_length=200, title="the activities")
    project_ids: list[Id] = Field(default_factory=list, max_length=200, title="the projects")
    response_ids: list[Id] = Field(
        default_factory=list, max_length=200, title="the survey feedback"
    )
    feedback_ids: list[Id] = Field(
        default_factory=list, max_length=200, title="the activity feedback"
    )


class NewAction(ActionFields):
    team_id: Id = Field(title="the team")


class ActionChange(Body):
    """Only the fields sent change; a list of links sent replaces the action's links."""

    you_said: str | None = text(actions.WORDS_MAX, required=False, default=None)
    we_did: str | None = text(actions.WORDS_MAX, required=False, default=None)
    owner_id: Id | None = Field(None, title="who owns this action")
    status: ActionStatus | None = Field(None, title="how far the action has got")
    not_possible_reason: str | None = text(
        actions.WORDS_MAX, required=False, default=None, title="why it is not possible"
    )
    on_board: bool | None = None
    activity_ids: list[Id] | None = Field(None, max_length=200, title="the activities")
    project_ids: list[Id] | None = Field(None, max_length=200, title="the projects")
    response_ids: list[Id] | None = Field(None, max_length=200, title="the survey feedback")
    feedback_ids: list[Id] | None = Field(None, max_length=200, title="the activity feedback")


class ActionReply(Reply):
    id: int
    team_id: int
    you_said: str
    we_did: str
    owner_id: int | None
    status: ActionStatus
    not_possible_reason: str | None
    on_board: bool
    done_on: dt.date | None
    activity_ids: list[int]
    project_ids: list[int]
    response_ids: list[int]
    feedback_ids: list[int]
    updated_at: DateTime


async def _action(action: FeedbackAction) -> ActionReply:
    links = await actions.links_of(action)
    return ActionReply(
        id=action.id,
        team_id=action.team_id,
        you_said=action.you_said,
        we_did=action.we_did,
        owner_id=action.owner_id,
        status=action.status,
        not_possible_reason=action.not_possible_reason,
        on_board=action.on_board,
        done_on=action.done_on,
        updated_at=action.updated_at,
        **links.__dict__,
    )


class ActionQuery(Paging):
    team_id: Id = Field(description="The team whose actions to list")
    status: ActionStatus | None = Field(None, description="Only actions with this status")


class ActionSummary(Reply):
    id: int
    team_id: int
    you_said: str
    we_did: str
    owner_id: int | None
    status: ActionStatus
    on_board: bool
    done_on: dt.date | None
    updated_at: DateTime


@api.operation(
    "GET",
    "/actions",
    summary='A team\'s "You said, we did" actions, most recently changed first',
    tag=ACTIONS,
    roles=STAFF,
    query=ActionQuery,
    reply=Page[ActionSummary],
)
async def list_actions(request: Request, actor: Actor, query: ActionQuery) -> Page[ActionSummary]:
    team = await access.team_feedback_for(actor, query.team_id)
    found, cursor = await keyset_page(
        actions.team_actions(team, query.status.value if query.status else None),
        query,
        ("-updated_at", "-id"),
    )
    return Page(
        items=[
            ActionSummary(
                id=a.id,
                team_id=a.team_id,
                you_said=a.you_said,
                we_did=a.we_did,
                owner_id=a.owner_id,
                status=a.status,
                on_board=a.on_board,
                done_on=a.done_on,
                updated_at=a.updated_at,
            )
            for a in found
        ],
        next_cursor=cursor,
    )


@api.operation(
    "POST",
    "/actions",
    summary='Add a "You said, we did" action for a team (done tells the people linked)',
    tag=ACTIONS,
    roles=STAFF,
    body=NewAction,
    reply=ActionReply,
    status=201,
)
async def create_action(request: Request, actor: Actor, body: NewAction) -> ActionReply:
    data = body.model_dump(mode="json")
    team_id = data.pop("team_id")
    return await _action(await actions.create_action(actor, team_id, data))


@api.operation(
    "GET",
    "/actions/{id:int}",
    summary='One "You said, we did" action, with its links',
    tag=ACTIONS,
    roles=STAFF,
    reply=ActionReply,
)
async def get_action(request: Request, actor: Actor, id: int) -> ActionReply:
    return await _action(await actions.action_for(actor, id))


@api.operation(
    "PATCH",
    "/actions/{id:int}",
    summary="Change an action: becoming done tells the people linked, once each",
    tag=ACTIONS,
    roles=STAFF,
    body=ActionChange,
    reply=ActionReply,
)
async def change_action(request: Request, actor: Actor, id: int, body: ActionChange) -> ActionReply:
    action = await actions.action_for(actor, id)
    return await _action(await actions.update_action(actor, action, body.data()))
