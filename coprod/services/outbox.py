"""Writing outgoing email to the outbox. Delivery is the worker's job (coprod.worker)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from coprod.models import OutboxMessage, OutboxStatus
from coprod.services import audit
from coprod.services.actor import Actor
from coprod.templating import environment


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content_b64: str
    method: str | None = None  # the iTIP method of a text/calendar part


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, plain text and HTML from templates/emails/<template>.{subject,txt,html}."""
    env = environment()
    subject = env.get_template(f"emails/{template}.subject.txt").render(context).strip()
    text = env.get_template(f"emails/{template}.txt").render(context)
    html = env.get_template(f"emails/{template}.html").render({**context, "subject": subject})
    return subject, text, html


def attachment_row(a: Attachment) -> dict[str, Any]:
    return {
        "filename": a.filename,
        "content_type": a.content_type,
        "content": a.content_b64,
        "method": a.method,
    }


async def write(*, dedupe_key: str | None = None, **values: Any) -> OutboxMessage | None:
    """Write one message to the outbox. Call inside the caller's transaction so it goes only
    if the change does.

    With a dedupe key it is written once only, however often or concurrently this is called:
    the unique key decides, and a second caller gets None. That insert runs in a savepoint so
    its failure does not spoil the caller's transaction."""
    values.setdefault("message_id", f"<{uuid.uuid4()}@coprod>")
    values.setdefault("next_attempt_at", dt.datetime.now(dt.UTC))
    if dedupe_key is None:
        return await OutboxMessage.create(**values)
    try:
        async with in_transaction():
            return await OutboxMessage.create(dedupe_key=dedupe_key, **values)
    except IntegrityError:
        return None


async def enqueue_email(
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    organisation_id: int | None = None,
    dedupe_key: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> OutboxMessage | None:
    """Queue an email to a member of staff, whose work address is the way to reach them.
    `template` is the notification kind. Representatives are reached through contact.notify."""
    subject, text, html = render_email(template, context)
    return await write(
        organisation_id=organisation_id,
        notification=template,
        to_address=to,
        subject=subject,
        text_body=text,
        html_body=html,
        attachments=[attachment_row(a) for a in attachments],
        dedupe_key=dedupe_key,
    )


async def retry(actor: Actor, message: OutboxMessage) -> None:
    """An org admin sends a failed message again, from a clean slate of attempts."""
    before = {"status": message.status.value, "attempts": message.attempts}
    async with in_transaction():
        message.status = OutboxStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = dt.datetime.now(dt.UTC)
        message.locked_until = None
        message.locked_by = None
        await message.save()
        await audit.record(
            actor,
            "outbox.retry",
            message,
            before=before,
            after={"status": message.status.value, "attempts": 0},
        )
