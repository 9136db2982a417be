"""The one way an email about involvement reaches a representative.

Invitations, bookings and their changes, reminders, contract expiry and remittances all go
through `email_representative`, which sends only while the person's consent to be contacted is
in force and they have an email address. Otherwise nothing is queued and the plain-English
reason comes back, so the lead can phone them instead (see reminders.call_list). Messages people
ask for themselves, such as sign-in links, do not come this way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coprod.domain import consent as rules
from coprod.models import ConsentPurpose, OutboxMessage, Representative
from coprod.services import outbox, wellbeing
from coprod.templating import long_date


def describe(reason: rules.NotInForce) -> str:
    if reason.withdrawn_on is not None:
        return f"withdrew consent to be contacted on {long_date(reason.withdrawn_on)}"
    if reason.review_was_due is not None:
        return f"consent to be contacted was due for review on {long_date(reason.review_was_due)}"
    return "has not agreed to be contacted"


async def why_not_contactable(rep: Representative) -> str | None:
    """Why we may not email this person about involvement today, or None if we may."""
    reason = await wellbeing.consent_reason(rep, ConsentPurpose.CONTACT)
    if reason is not None:
        return describe(reason)
    if not rep.email:
        return "has no email address"
    return None


@dataclass(frozen=True)
class Sent:
    message: OutboxMessage | None  # None when not sent, or already sent (a dedupe key)
    not_sent_because: str | None = None


async def email_representative(
    rep: Representative,
    *,
    template: str,
    context: dict[str, Any],
    organisation_id: int | None,
    dedupe_key: str | None = None,
    attachments: tuple[outbox.Attachment, ...] = (),
) -> Sent:
    """Queue an email to a representative about involvement, only if we may contact them.
    With a dedupe key it goes once only (outbox.enqueue_email_once)."""
    reason = await why_not_contactable(rep)
    if reason is not None or rep.email is None:
        return Sent(None, reason)
    kwargs: dict[str, Any] = {
        "to": rep.email,
        "template": template,
        "context": context,
        "organisation_id": organisation_id,
        "attachments": attachments,
    }
    if dedupe_key is not None:
        return Sent(await outbox.enqueue_email_once(dedupe_key=dedupe_key, **kwargs))
    return Sent(await outbox.enqueue_email(**kwargs))


@dataclass(frozen=True)
class NotContacted:
    representative: Representative
    reason: str


async def not_contacted(reps: Iterable[Representative]) -> list[NotContacted]:
    """Of these people, who cannot be emailed about involvement, and why (each once).
    One query for everyone's consent, however many people there are."""
    unique = list({rep.id: rep for rep in reps}.values())
    reasons = await wellbeing.consent_reasons(unique, ConsentPurpose.CONTACT)
    found: list[NotContacted] = []
    for rep in unique:
        if (reason := reasons.get(rep.id)) is not None:
            found.append(NotContacted(rep, describe(reason)))
        elif not rep.email:
            found.append(NotContacted(rep, "has no email address"))
    return found
