"""API operations for reconciliation with Stripe: the differences found, resolving one, and
comparing now. The rules live in coprod.services.reconciliation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request

from coprod.models import DifferenceKind, ReconciliationItem, Role
from coprod.services import reconciliation
from coprod.services.actor import Actor
from coprod.web.api.claims import PAYMENTS
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, NoBody, Page, Paging, Reply, text

FINANCE = (Role.FINANCE_OFFICER,)


class ItemReply(Reply):
    id: int
    kind: DifferenceKind
    label: str = Field(description="The kind of difference, in words")
    description: str = Field(description="What differs, in plain English, and what to do")
    transfer_id: str | None = Field(description="Stripe's transfer (tr_...), if there is one")
    claim_id: int | None
    ours_pence: int | None = Field(description="What Coprod recorded paying, in pence")
    stripe_pence: int | None = Field(
        description="What Stripe's transfers hold for it now (after reversals), in pence"
    )
    found_at: DateTime
    resolved_at: DateTime | None
    resolved_by_user_id: int | None = Field(
        description="Who marked it resolved; null with resolved_at set when a later run found "
        "the difference had gone and closed it"
    )
    note: str | None


class ItemsQuery(Paging):
    state: Literal["open", "resolved"] = Field("open", title="open or resolved")


class ResolveInput(Body):
    note: str = text(2000, title="what you did about it")


class RunReply(Reply):
    opened: int = Field(description="New differences found")
    closed: int = Field(description="Open differences closed because they had gone")
    open_items: int = Field(description="Differences open now")


def _item(i: ReconciliationItem) -> ItemReply:
    return ItemReply(
        id=i.id,
        kind=i.kind,
        label=i.kind.label,
        description=i.description,
        transfer_id=i.transfer_id,
        claim_id=i.claim_id,
        ours_pence=i.ours_pence,
        stripe_pence=i.stripe_pence,
        found_at=i.found_at,
        resolved_at=i.resolved_at,
        resolved_by_user_id=i.resolved_by_id,
        note=i.note,
    )


@api.operation(
    "GET",
    "/reconciliation-items",
    summary="Differences between Stripe's transfers and the claims Coprod shows as paid, "
    "newest first: open ones unless state=resolved",
    tag=PAYMENTS,
    roles=FINANCE,
    query=ItemsQuery,
    reply=Page[ItemReply],
)
async def list_reconciliation_items(
    request: Request, actor: Actor, query: ItemsQuery
) -> Page[ItemReply]:
    found = ReconciliationItem.filter(organisation_id=actor.organisation_id)
    if query.state == "open":
        found = reconciliation.open_for(actor)
    else:
        found = found.filter(resolved_at__isnull=False)
    rows, cursor = await keyset_page(found, query, ("-found_at", "-id"))
    return Page(items=[_item(i) for i in rows], next_cursor=cursor)


@api.operation(
    "GET",
    "/reconciliation-items/{id:int}",
    summary="One difference between Stripe and Coprod, with how it was resolved",
    tag=PAYMENTS,
    roles=FINANCE,
    reply=ItemReply,
)
async def get_reconciliation_item(request: Request, actor: Actor, id: int) -> ItemReply:
    return _item(await reconciliation.item_for(actor, id))


@api.operation(
    "POST",
    "/reconciliation-items/{id:int}/resolve",
    summary="Mark a difference resolved, saying what was done about it (recorded in the audit "
    "log); resolving one already resolved changes nothing",
    tag=PAYMENTS,
    roles=FINANCE,
    body=ResolveInput,
    reply=ItemReply,
)
async def resolve_reconciliation_item(
    request: Request, actor: Actor, id: int, body: ResolveInput
) -> ItemReply:
    item = await reconciliation.item_for(actor, id)
    return _item(await reconciliation.resolve(actor, item, body.data()))


@api.operation(
    "POST",
    "/reconciliation-runs",
    summary="Compare Stripe's transfers with the organisation's claims now, as the daily job "
    "does; asks Stripe while you wait",
    description="409 when Stripe cannot be reached.",
    tag=PAYMENTS,
    roles=FINANCE,
    body=NoBody,
    reply=RunReply,
)
async def run_reconciliation(request: Request, actor: Actor, body: NoBody) -> RunReply:
    outcome = await reconciliation.run_now(actor)
    return RunReply(opened=outcome.opened, closed=outcome.closed, open_items=outcome.open_items)
