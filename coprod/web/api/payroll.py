"""API operations for payroll set-up: pay element codes, team cost centres, and the claims an
export would leave out. The rules live in coprod.services.payroll; the exports themselves are
in coprod.web.api.payouts."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request

from coprod.domain.pay import PAY_ELEMENTS
from coprod.models import Role
from coprod.services import payroll
from coprod.services.actor import Actor
from coprod.web.api.claims import FINANCE, PAYMENTS
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, Page, Paging, Reply, text

CODE = "Up to 20 letters, numbers and hyphens"


class PayElementReply(Reply):
    key: str = Field(description="`fee`, or an expense type such as `mileage`")
    description: str
    taxable: bool = Field(description="Fees are taxable pay; expenses are paid back tax free")
    code: str = Field(description="The code in the payroll file")
    default_code: str = Field(description="The code used until finance sets one")


class PaySettingsReply(Reply):
    elements: list[PayElementReply]
    default_cost_centre: str | None = Field(
        description="For money earned outside a team with its own cost centre"
    )


class PaySettingsInput(Body):
    fee: str = text(20, title="the code for involvement fee", description=CODE)
    mileage: str = text(20, title="the code for mileage", description=CODE)
    public_transport: str = text(20, title="the code for bus, train or tram", description=CODE)
    taxi: str = text(20, title="the code for taxi (agreed beforehand)", description=CODE)
    parking: str = text(20, title="the code for parking", description=CODE)
    care_cover: str = text(
        20, title="the code for replacement carer or childcare", description=CODE
    )
    subsistence: str = text(20, title="the code for food and drink", description=CODE)
    default_cost_centre: str | None = text(
        20, required=False, default=None, title="the default cost centre", description=CODE
    )


def _settings(settings: payroll.PaySettings) -> PaySettingsReply:
    return PaySettingsReply(
        elements=[
            PayElementReply(
                key=e.key,
                description=e.description,
                taxable=e.taxable,
                code=settings.codes[e.key],
                default_code=e.default_code,
            )
            for e in PAY_ELEMENTS
        ],
        default_cost_centre=settings.default_cost_centre,
    )


@api.operation(
    "GET",
    "/payroll/pay-elements",
    summary="The code of each pay element in the payroll file, and the default cost centre",
    tag=PAYMENTS,
    roles=FINANCE,
    reply=PaySettingsReply,
)
async def get_pay_elements(request: Request, actor: Actor) -> PaySettingsReply:
    return _settings(await payroll.pay_settings(actor.organisation_id))


@api.operation(
    "PUT",
    "/payroll/pay-elements",
    summary="Set the code of every pay element in the payroll file, and the default cost centre",
    tag=PAYMENTS,
    roles=FINANCE,
    body=PaySettingsInput,
    reply=PaySettingsReply,
)
async def set_pay_elements(
    request: Request, actor: Actor, body: PaySettingsInput
) -> PaySettingsReply:
    return _settings(await payroll.set_pay_settings(actor, body.data()))


class NotReadyReply(Reply):
    claim_id: int
    representative_id: int
    reason: str = Field(description="What to add before the claim can be exported")


@api.operation(
    "GET",
    "/payroll/not-ready",
    summary="Approved payroll claims that exports leave out until a payroll number or National "
    "Insurance number is added",
    tag=PAYMENTS,
    roles=FINANCE,
    query=Paging,
    reply=Page[NotReadyReply],
)
async def list_not_ready(request: Request, actor: Actor, query: Paging) -> Page[NotReadyReply]:
    rows, cursor = await keyset_page(
        payroll.not_ready(actor.organisation_id), query, ("-period_start", "-id")
    )
    return Page(
        items=[
            NotReadyReply(
                claim_id=c.id,
                representative_id=c.representative_id,
                reason=payroll.not_ready_reason(c.representative) or "",
            )
            for c in rows
        ],
        next_cursor=cursor,
    )


class CostCentreInput(Body):
    cost_centre: str | None = text(
        20, required=False, default=None, title="the cost centre", description=CODE
    )


class CostCentreReply(Reply):
    id: int
    name: str
    cost_centre: str | None


@api.operation(
    "PUT",
    "/teams/{id:int}/cost-centre",
    summary="Set the cost centre payroll charges for money earned for a team (null for none)",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    body=CostCentreInput,
    reply=CostCentreReply,
)
async def set_cost_centre(
    request: Request, actor: Actor, id: int, body: CostCentreInput
) -> CostCentreReply:
    team = await payroll.set_cost_centre(actor, await payroll.team_for(actor, id), body.data())
    return CostCentreReply(id=team.id, name=team.name, cost_centre=team.cost_centre)
