"""API operations for a claim's expenses and their receipts. The rules (what needs a receipt,
caps, which files are receipts, who may see them) live in coprod.services.claims."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from decimal import Decimal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from coprod.domain.pay import ExpenseType
from coprod.models import Expense
from coprod.services import claims
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.api.claims import CLAIMANTS, CLAIMS, READERS, ExpenseReply, expense_reply
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, Page, Paging, text
from coprod.web.render import private_file

# Base64 makes 4 characters of every 3 bytes; the service refuses receipts over its limit with
# a plain message, so this only keeps absurd input out of memory.
MAX_RECEIPT_CHARS = 8 * 1024 * 1024


class ReceiptUpload(Body):
    filename: str | None = text(200, required=False, default=None)
    content_base64: str = Field(
        max_length=MAX_RECEIPT_CHARS,
        title="the receipt",
        description="A PDF, JPEG or PNG, up to 5 MB, base64-encoded",
    )


class ExpenseInput(Body):
    kind: ExpenseType = Field(title="the type of expense")
    day: dt.date = Field(title="the date of the expense")
    miles: Decimal | None = Field(
        None, title="the miles", description="For mileage: miles to one decimal place"
    )
    amount_pence: int | None = Field(
        None,
        title="the amount in pence",
        description="For everything but mileage (which is worked out from the miles)",
    )
    description: str | None = text(500, required=False, default=None, title="what it was for")
    agreed_beforehand: bool = Field(
        False, description="Taxis are paid only if agreed with the lead beforehand"
    )
    receipt: ReceiptUpload | None = Field(None, description="Bus, train and taxi fares need one")


def _upload_of(receipt: ReceiptUpload | None) -> claims.Upload | None:
    if receipt is None:
        return None
    try:
        data = base64.b64decode("".join(receipt.content_base64.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.one("receipt", "The receipt must be base64-encoded") from None
    return claims.Upload(receipt.filename or "receipt", data)


@api.operation(
    "GET",
    "/claims/{id:int}/expenses",
    summary="The expenses on a claim, by day",
    tag=CLAIMS,
    roles=READERS,
    query=Paging,
    reply=Page[ExpenseReply],
)
async def list_expenses(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[ExpenseReply]:
    claim = await claims.claim_for(actor, id)
    found, cursor = await keyset_page(Expense.filter(claim=claim), query, ("day", "id"))
    return Page(items=[expense_reply(e) for e in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/claims/{id:int}/expenses",
    summary="Add an expense to a draft or rejected claim; bus, train and taxi fares need a "
    "receipt (PDF, JPEG or PNG, sent base64)",
    tag=CLAIMS,
    roles=CLAIMANTS,
    body=ExpenseInput,
    reply=ExpenseReply,
    status=201,
)
async def add_expense(request: Request, actor: Actor, id: int, body: ExpenseInput) -> ExpenseReply:
    claim = await claims.claim_for(actor, id)
    data = {k: v for k, v in body.data().items() if k != "receipt"}
    return expense_reply(await claims.add_expense(actor, claim, data, _upload_of(body.receipt)))


@api.operation(
    "GET",
    "/expenses/{id:int}/receipt",
    summary="An expense's receipt, to the people who may see its claim",
    description="The file as it was sent: a PDF, JPEG or PNG, which the Content-Type header names.",
    tag=CLAIMS,
    roles=READERS,
    content_type="application/octet-stream",
)
async def get_receipt(request: Request, actor: Actor, id: int) -> Response:
    return private_file(*await claims.receipt_for(actor, id))
