"""API operations for representatives' contracts and the catch-ups held under them.

Every rule lives in coprod.services.contracts; handlers translate between JSON and it.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from coprod.domain.contracts import CatchUpState, ContractStatus
from coprod.models import CatchUp, Contract, Role
from coprod.services import access, contracts
from coprod.services.actor import Actor
from coprod.services.decisions import DecisionsNeeded
from coprod.web.api.core import DECISIONS_FIELD, Decision, decisions_needed
from coprod.web.api.paging import keyset_page, list_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, Count, DateTime, Page, Paging, Reply, text

TAG = "representatives"


class ContractReply(Reply):
    id: int
    representative_id: int
    role_title: str
    starts_on: dt.date
    ends_on: dt.date = Field(description="The last day of its term")
    ended_on: dt.date | None = Field(description="The last day, when it was ended early")
    end_reason: str | None
    predecessor_id: int | None = Field(description="The contract this one renewed")
    status: ContractStatus
    catch_ups_held: Count = Field(
        description="Catch-ups recorded, plus catch-up bookings attended, within the contract"
    )
    next_catch_up_on: dt.date | None = Field(
        description="When the next catch-up is due; null when no more fall within the contract"
    )
    catch_up_state: CatchUpState


async def _contract(contract: Contract) -> ContractReply:
    due, state = await contracts.next_catch_up(contract)
    return ContractReply(
        id=contract.id,
        representative_id=contract.representative_id,
        role_title=contract.role_title,
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        ended_on=contract.ended_on,
        end_reason=contract.end_reason,
        predecessor_id=contract.predecessor_id,
        status=contracts.contract_status(contract),
        catch_ups_held=await contracts.catch_ups_held(contract),
        next_catch_up_on=due,
        catch_up_state=state,
    )


class ContractInput(Body):
    role_title: str = text(100, title="a role title")
    starts_on: dt.date = Field(title="the start date")
    ends_on: dt.date | None = Field(
        None, title="the end date", description="Leave out for the default term"
    )


class RenewInput(Body):
    role_title: str | None = text(
        100, required=False, default=None, title="a role title", description="Default the same"
    )
    ends_on: dt.date | None = Field(
        None, title="the end date", description="Leave out for the default term"
    )


class EndInput(Body):
    ended_on: dt.date | None = Field(
        None, title="the last day of the contract", description="Default today"
    )
    reason: str = text(2000, title="the reason it is ending early")
    decisions: list[Decision] | None = DECISIONS_FIELD


@api.operation(
    "GET",
    "/representatives/{id:int}/contracts",
    summary="A representative's contracts, latest start first",
    tag=TAG,
    query=Paging,
    reply=Page[ContractReply],
)
async def list_contracts(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[ContractReply]:
    rep = await access.representative_for(actor, id)
    found, cursor = await keyset_page(
        Contract.filter(representative_id=rep.id), query, ("-starts_on", "-id")
    )
    return Page(items=[await _contract(c) for c in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/representatives/{id:int}/contracts",
    summary="Give a representative a contract; without an end date it runs the default term",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    body=ContractInput,
    reply=ContractReply,
    status=201,
)
async def create_contract(
    request: Request, actor: Actor, id: int, body: ContractInput
) -> ContractReply:
    rep = await access.representative_for(actor, id)
    return await _contract(await contracts.create(actor, rep, body.data()))


@api.operation(
    "GET",
    "/contracts/{id:int}",
    summary="One contract (leads, or the representative it belongs to)",
    tag=TAG,
    reply=ContractReply,
)
async def get_contract(request: Request, actor: Actor, id: int) -> ContractReply:
    return await _contract(await access.contract_for(actor, id))


@api.operation(
    "POST",
    "/contracts/{id:int}/renew",
    summary="Renew a contract: the successor starts the day after this one's last day",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    body=RenewInput,
    reply=ContractReply,
    status=201,
)
async def renew_contract(
    request: Request, actor: Actor, id: int, body: RenewInput
) -> ContractReply:
    contract = await access.contract_for(actor, id)
    return await _contract(await contracts.renew(actor, contract, body.data()))


@api.operation(
    "POST",
    "/contracts/{id:int}/end",
    summary="End a contract early, giving the last day (default today) and the reason. If the "
    "person is booked after the last day, the reply is 409 listing those bookings in "
    "`conflicts` until `decisions` says, for each, to cancel or keep it",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    body=EndInput,
    reply=ContractReply,
)
async def end_contract(
    request: Request, actor: Actor, id: int, body: EndInput
) -> ContractReply | Response:
    contract = await access.contract_for(actor, id)
    try:
        return await _contract(await contracts.end_early(actor, contract, body.data()))
    except DecisionsNeeded as exc:
        return decisions_needed(exc)


# ---------------------------------------------------------------------------- catch-ups


class CatchUpReply(Reply):
    id: int
    contract_id: int
    held_on: dt.date
    note: str | None
    created_at: DateTime


class CatchUpInput(Body):
    held_on: dt.date = Field(title="the date of the catch-up")
    note: str | None = text(2000, required=False, default=None, title="a note")


class DueCatchUpReply(Reply):
    contract_id: int
    representative_id: int
    full_name: str
    role_title: str
    due_on: dt.date
    state: CatchUpState


def _catch_up(c: CatchUp) -> CatchUpReply:
    return CatchUpReply(
        id=c.id, contract_id=c.contract_id, held_on=c.held_on, note=c.note, created_at=c.created_at
    )


@api.operation(
    "GET",
    "/contracts/{id:int}/catch-ups",
    summary="Catch-ups recorded under a contract, latest first",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    query=Paging,
    reply=Page[CatchUpReply],
)
async def list_catch_ups(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[CatchUpReply]:
    contract = await access.contract_for(actor, id)
    found, cursor = await keyset_page(
        CatchUp.filter(contract_id=contract.id), query, ("-held_on", "-id")
    )
    return Page(items=[_catch_up(c) for c in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/contracts/{id:int}/catch-ups",
    summary="Record a catch-up that has taken place within the contract's dates",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    body=CatchUpInput,
    reply=CatchUpReply,
    status=201,
)
async def record_catch_up(
    request: Request, actor: Actor, id: int, body: CatchUpInput
) -> CatchUpReply:
    contract = await access.contract_for(actor, id)
    return _catch_up(await contracts.record_catch_up(actor, contract, body.data()))


@api.operation(
    "GET",
    "/catch-ups",
    summary="Everyone whose next catch-up is overdue or due within 30 days, soonest first",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    query=Paging,
    reply=Page[DueCatchUpReply],
)
async def list_catch_ups_due(
    request: Request, actor: Actor, query: Paging
) -> Page[DueCatchUpReply]:
    shown, cursor = list_page(await contracts.catch_ups_due(actor), query)
    return Page(
        items=[
            DueCatchUpReply(
                contract_id=row.contract.id,
                representative_id=row.representative.id,
                full_name=row.representative.full_name,
                role_title=row.contract.role_title,
                due_on=row.due,
                state=row.state,
            )
            for row in shown
        ],
        next_cursor=cursor,
    )
