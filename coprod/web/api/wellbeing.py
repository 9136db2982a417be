"""API operations for special-category data: acute episodes (health data) and equality
monitoring answers.

They call the same services as the pages (coprod.services.wellbeing), so they write the same
audit events: reading the list of someone's episodes is one `health.view` of their record,
reading one episode is a `health.view` of it, and every change is audited without its content.
Replies to changes give only the episode's id: its content is read back with GET, which is
audited. No other reply carries health data or equality answers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, create_model
from starlette.requests import Request

from coprod.domain.equality import QUESTIONS
from coprod.errors import NotFound
from coprod.models import ConsentPurpose, EqualityResponse, Representative, Role
from coprod.services import access, wellbeing
from coprod.services.actor import Actor
from coprod.web.api.paging import list_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, Page, Paging, Reply, text

TAG = "wellbeing"
# As the pages allow: leads for their organisation's people, and each person for themself.
ROLES = (Role.INVOLVEMENT_LEAD, Role.REPRESENTATIVE)
EPISODES = "/representatives/{id:int}/acute-episodes"
EPISODE = EPISODES + "/{episode_id:int}"


async def _representative(actor: Actor, id: int) -> Representative:
    """The record, found as the pages find it: a lead's (`/representatives/{id}`) in their
    organisation, archived too; a representative's own (`/my/profile`), only while it is not
    archived. Anyone else's is not found."""
    if access.is_lead(actor):
        return await access.representative_for(actor, id)
    rep = await access.own_representative(actor)
    if rep.id != id:
        raise NotFound
    return rep


# ---------------------------------------------------------------------------- acute episodes

# The labels the service's Checker uses, so the API and the page say the same thing.
STARTED_ON = "the date it started"
ENDED_ON = "the date it ended"
CRISIS_TEAM = "whether they were under the crisis team"
NOTE = "a note"
ONGOING = "Leave out, or null, while it is still going on"


class AcuteEpisodeInput(Body):
    started_on: dt.date = Field(title=STARTED_ON, description="Today or in the past")
    ended_on: dt.date | None = Field(None, title=ENDED_ON, description=ONGOING)
    under_crisis_team: bool = Field(title=CRISIS_TEAM)
    note: str | None = text(2000, required=False, default=None, title=NOTE)


class AcuteEpisodeChanges(Body):
    """Only the fields sent change."""

    started_on: dt.date | None = Field(None, title=STARTED_ON)
    ended_on: dt.date | None = Field(None, title=ENDED_ON, description="Null while it goes on")
    under_crisis_team: bool | None = Field(None, title=CRISIS_TEAM)
    note: str | None = text(2000, required=False, default=None, title=NOTE)


class AcuteEpisodeReply(Reply):
    id: int
    started_on: dt.date
    ended_on: dt.date | None = Field(description="Null while it is still going on")
    ongoing: bool
    under_crisis_team: bool
    note: str = Field(description="Empty when there is none")


class AcuteEpisodeId(Reply):
    id: int = Field(description="The episode's id. Read it with GET, which is audited")


def _episode_input(body: Body) -> dict[str, Any]:
    """The body as the service reads the page's form, where the crisis team is "yes" or "no"."""
    data = body.data()
    if isinstance(data.get("under_crisis_team"), bool):
        data["under_crisis_team"] = "yes" if data["under_crisis_team"] else "no"
    return data


def _episode(e: wellbeing.Episode) -> AcuteEpisodeReply:
    return AcuteEpisodeReply(
        id=e.id,
        started_on=e.started_on,
        ended_on=e.ended_on,
        ongoing=e.ongoing,
        under_crisis_team=e.under_crisis_team,
        note=e.note,
    )


@api.operation(
    "GET",
    EPISODES,
    summary="Someone's acute episodes, latest start first. Each request is recorded in the "
    "audit log as a view of their health data",
    tag=TAG,
    roles=ROLES,
    query=Paging,
    reply=Page[AcuteEpisodeReply],
)
async def list_acute_episodes(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[AcuteEpisodeReply]:
    rep = await _representative(actor, id)
    items, cursor = list_page(await wellbeing.episodes(actor, rep), query)
    return Page(items=[_episode(e) for e in items], next_cursor=cursor)


@api.operation(
    "POST",
    EPISODES,
    summary="Record an acute episode; needs their consent to hold health information. "
    "Upcoming bookings it touches then wait for a wellbeing conversation",
    tag=TAG,
    roles=ROLES,
    body=AcuteEpisodeInput,
    reply=AcuteEpisodeId,
    status=201,
)
async def record_acute_episode(
    request: Request, actor: Actor, id: int, body: AcuteEpisodeInput
) -> AcuteEpisodeId:
    rep = await _representative(actor, id)
    row = await wellbeing.record_episode(actor, rep, _episode_input(body))
    return AcuteEpisodeId(id=row.id)


@api.operation(
    "GET",
    EPISODE,
    summary="One acute episode. Recorded in the audit log as a view of it",
    tag=TAG,
    roles=ROLES,
    reply=AcuteEpisodeReply,
)
async def get_acute_episode(
    request: Request, actor: Actor, id: int, episode_id: int
) -> AcuteEpisodeReply:
    rep = await _representative(actor, id)
    return _episode(await wellbeing.view_episode(actor, rep, episode_id))


@api.operation(
    "PATCH",
    EPISODE,
    summary="Change an acute episode",
    tag=TAG,
    roles=ROLES,
    body=AcuteEpisodeChanges,
    reply=AcuteEpisodeId,
)
async def update_acute_episode(
    request: Request, actor: Actor, id: int, episode_id: int, body: AcuteEpisodeChanges
) -> AcuteEpisodeId:
    rep = await _representative(actor, id)
    row = await wellbeing.update_episode(actor, rep, episode_id, _episode_input(body), partial=True)
    return AcuteEpisodeId(id=row.id)


@api.operation(
    "DELETE",
    EPISODE,
    summary="Delete an acute episode",
    tag=TAG,
    roles=ROLES,
    reply=AcuteEpisodeId,
)
async def delete_acute_episode(
    request: Request, actor: Actor, id: int, episode_id: int
) -> AcuteEpisodeId:
    rep = await _representative(actor, id)
    await wellbeing.delete_episode(actor, rep, episode_id)
    return AcuteEpisodeId(id=episode_id)


# ---------------------------------------------------------------------------- equality monitoring

# The page's message for an answer that is not one of the choices is "Select one of the
# answers, or 'Prefer not to say'": this title makes the API's "Select {title}" say the same.
ANSWER_TITLE = "one of the answers, or 'Prefer not to say'"


def _answer(question: Any) -> tuple[Any, Any]:
    values = tuple(value for value, _ in question.options)
    return (
        Literal[values] | None,
        Field(None, title=ANSWER_TITLE, description=f"{question.text} Null if not answered"),
    )


# One field per question, so the schema lists each question's choices.
EqualityInput: type[Body] = create_model(  # type: ignore[call-overload]
    "EqualityInput",
    __base__=Body,
    __doc__="Every answer: a question left out or null is not answered (PUT replaces them all)",
    **{q.key: _answer(q) for q in QUESTIONS},
)
EqualityAnswers: type[Reply] = create_model(  # type: ignore[call-overload]
    "EqualityAnswers", __base__=Reply, **{q.key: _answer(q) for q in QUESTIONS}
)


class EqualityReply(Reply):
    consented: bool = Field(description="Whether their consent for equality monitoring is in force")
    answers: EqualityAnswers | None = Field(  # type: ignore[valid-type]
        description="Only for the person themself. Involvement leads may record answers for "
        "someone (by phone, say) but never read them back, so this is null for them"
    )


async def _equality(
    actor: Actor, rep: Representative, saved: EqualityResponse | None = None
) -> EqualityReply:
    answers = None
    if access.is_self(actor, rep):
        found = saved if saved is not None else await wellbeing.own_equality(actor, rep)
        answers = EqualityAnswers(**{q.key: getattr(found, q.key, None) for q in QUESTIONS})
    return EqualityReply(
        consented=await wellbeing.has_consent(rep, ConsentPurpose.EQUALITY), answers=answers
    )


@api.operation(
    "GET",
    "/representatives/{id:int}/equality",
    summary="Equality monitoring: whether they consented and, for the person themself, their "
    "answers",
    tag=TAG,
    roles=ROLES,
    reply=EqualityReply,
)
async def get_equality(request: Request, actor: Actor, id: int) -> EqualityReply:
    return await _equality(actor, await _representative(actor, id))


@api.operation(
    "PUT",
    "/representatives/{id:int}/equality",
    summary="Save equality monitoring answers, replacing any before; needs their consent for "
    "equality monitoring. Every answer is voluntary",
    tag=TAG,
    roles=ROLES,
    body=EqualityInput,
    reply=EqualityReply,
)
async def save_equality(request: Request, actor: Actor, id: int, body: Body) -> EqualityReply:
    rep = await _representative(actor, id)
    saved = await wellbeing.save_equality(actor, rep, body.data())
    return await _equality(actor, rep, saved)
