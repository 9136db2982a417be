"""GOV.UK Notify's callbacks to us: texts people send, and what became of the messages we sent.
Notify sends the bearer token set for the service with each one (NOTIFY_CALLBACK_TOKEN); with
no token configured, none is accepted."""

from __future__ import annotations

import datetime as dt
import json

from pydantic import ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from coprod.config import get_settings
from coprod.security import signatures_match
from coprod.services import messages, text_replies
from coprod.services.actor import Actor
from coprod.web.api.registry import api, error
from coprod.web.api.schema import Body, Reply

NOTIFY = "notify"


def from_notify(request: Request) -> bool:
    """Whether the request carries our callback token, compared in constant time."""
    expected = get_settings().notify_callback_token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and signatures_match(given, expected)


class InboundText(Body):
    # Fields Notify adds later must not make it refuse a text it sends.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    id: str = Field(min_length=1, max_length=64, description="Notify's id for the text")
    source_number: str = Field(
        min_length=1, max_length=40, description="Who sent it, as 447700900123"
    )
    destination_number: str = Field("", max_length=40, description="Our number it was sent to")
    message: str = Field(max_length=5000, description="What they wrote")
    date_received: dt.datetime = Field(description="When Notify received it (UTC)")


class TextReceived(Reply):
    received: str = Field(
        description="What became of it: answered, unclear, shared_number, nothing_open, "
        "unknown_number, or already received"
    )


@api.operation(
    "POST",
    "/notify/texts",
    summary="GOV.UK Notify's callback for a text someone sent us. A reply to a poll "
    "invitation is recorded as their answer; anything else goes to the lead's call list. "
    "Each text is acted on once however often it arrives",
    description="Authenticated with Notify's bearer token for this service "
    "(NOTIFY_CALLBACK_TOKEN), not a session or API token.",
    tag=NOTIFY,
    public=True,
    guard=from_notify,
    body=InboundText,
    reply=TextReceived,
)
async def inbound_text(request: Request, actor: Actor | None, body: InboundText) -> TextReceived:
    received_at = body.date_received
    if received_at.tzinfo is None:  # Notify writes UTC
        received_at = received_at.replace(tzinfo=dt.UTC)
    outcome = await text_replies.receive(
        text_replies.Inbound(
            notify_id=body.id,
            source_number=body.source_number,
            message=body.message,
            received_at=received_at,
        )
    )
    return TextReceived(received=outcome)


class CallbackReceived(Reply):
    received: str = Field(description="What became of the callback")


@api.operation(
    "POST",
    "/notify/delivery",
    summary="GOV.UK Notify's delivery-status callback (and its returned-letter callback): "
    "updates the message's status. A status that is final is never moved back by a replayed or "
    "late callback; a message we do not know is ignored",
    description="Authenticated with Notify's bearer token for this service "
    "(NOTIFY_CALLBACK_TOKEN), not a session or API token. The body is read as it comes, since "
    "Notify's two callbacks differ in shape and may gain fields.",
    tag=NOTIFY,
    public=True,
    guard=from_notify,
    reply=CallbackReceived,
)
async def notify_delivery(request: Request, actor: Actor | None) -> Response | CallbackReceived:
    try:
        payload = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError, RecursionError):
        return error(422, "The request body must be valid JSON")
    if not isinstance(payload, dict):
        return error(422, "The request body must be a JSON object")
    return CallbackReceived(received=await messages.record_delivery(payload))
