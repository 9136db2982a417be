"""Who may see which representative's record, and which records of an organisation someone may
pick. Anything else is a 404 (or, for a pick, a field error), never a hint."""

from __future__ import annotations

from typing import TypeVar

from tortoise.models import Model

from coprod import db
from coprod.errors import Forbidden, NotFound
from coprod.models import Contract, Representative, Role, Team
from coprod.services.actor import Actor
from coprod.validation import Checker, record_id


def is_lead(actor: Actor) -> bool:
    return actor.has(Role.INVOLVEMENT_LEAD)


def require_lead(actor: Actor) -> None:
    if not is_lead(actor):
        raise Forbidden


def is_self(actor: Actor, rep: Representative) -> bool:
    return actor.user is not None and rep.user_id == actor.user.id


async def representative_for(
    actor: Actor, rep_id: int, *, include_archived: bool = True
) -> Representative:
    """A representative the actor may see: leads see their organisation's, a person sees only
    their own record."""
    if actor.organisation_id is None:
        raise NotFound
    rep = await db.get_or_none(Representative, id=rep_id, organisation_id=actor.organisation_id)
    if rep is None or not (is_lead(actor) or is_self(actor, rep)):
        raise NotFound
    if rep.archived_at is not None and not include_archived:
        raise NotFound
    return rep


async def own_representative(actor: Actor) -> Representative:
    if actor.user is None:
        raise NotFound
    rep = await Representative.get_or_none(
        user_id=actor.user.id, organisation_id=actor.organisation_id, archived_at=None
    )
    if rep is None:
        raise NotFound
    return rep


async def contract_for(actor: Actor, contract_id: int) -> Contract:
    contract = await Contract.get_or_none(id=contract_id, organisation_id=actor.organisation_id)
    if contract is None:
        raise NotFound
    rep = await contract.representative
    if not (is_lead(actor) or is_self(actor, rep)):
        raise NotFound
    return contract


async def team_feedback_for(actor: Actor, team_id: int) -> Team:
    """A team whose feedback the actor may read and act on: involvement leads for every team in
    their organisation, and each team's feedback champion for that team. Another organisation's
    team is not found; someone else's team is forbidden."""
    team = await Team.get_or_none(id=team_id, organisation_id=actor.organisation_id)
    if team is None:
        raise NotFound
    if not may_handle_feedback(actor, team):
        raise Forbidden
    return team


def may_handle_feedback(actor: Actor, team: Team) -> bool:
    return is_lead(actor) or (actor.user is not None and team.feedback_champion_id == actor.user.id)


_Record = TypeVar("_Record", bound=Model)


async def chosen(
    c: Checker,
    field: str,
    model: type[_Record],
    organisation_id: int | None,
    message: str,
    *,
    required: bool = True,
) -> _Record | None:
    """The organisation's record picked in `field` (an id from a list on the page), or None
    with `message` against the field when it is not one of theirs. Left empty, it is None,
    with the message only if `required`."""
    raw = c.raw(field)
    if not raw and not required:
        return None
    found_id = record_id(raw)
    found = (
        await model.get_or_none(id=found_id, organisation_id=organisation_id)
        if found_id is not None
        else None
    )
    if found is None:
        c.fail(field, message)
    return found
