"""GOV.UK Notify: texts, precompiled letters and (optionally) email, through Notify's own client.

The client is synchronous (requests), so each call runs in a thread with a client of its own (a
client is not safe to share between threads). Every message carries our outbox row's
Message-ID as Notify's `reference`, so after a send whose reply was lost the worker can ask Notify
whether it arrived before sending again.

Outside production with no API key, texts are printed and letters saved as files instead, so
`make run` shows what would have gone.
"""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from coprod.config import Settings

log = logging.getLogger("coprod.notify")

TIMEOUT_SECONDS = 20


class Refused(Exception):
    """Notify said no to this message itself (a bad number, a letter it cannot print): sending
    it again will not help."""


@dataclass(frozen=True)
class Accepted:
    id: str
    status: str  # Notify's first status: "created", or "accepted" for a letter


@dataclass(frozen=True)
class Text:
    phone_number: str
    body: str
    reference: str
    sender_id: str | None = None


@dataclass(frozen=True)
class Email:
    address: str
    subject: str
    body: str
    reference: str
    reply_to_id: str | None = None


@dataclass(frozen=True)
class PdfLetter:
    pdf: bytes
    reference: str


class Sender(Protocol):
    async def send_text(self, message: Text) -> Accepted: ...
    async def send_email(self, message: Email) -> Accepted: ...
    async def send_letter(self, message: PdfLetter) -> Accepted: ...
    async def find(self, reference: str) -> Accepted | None: ...


def _refused_or_raise(exc: HTTPError) -> Exception:
    # 400 is the message's own fault; 403 (a bad key), 429 (over a limit) and 5xx may pass.
    if exc.status_code == 400:
        return Refused(_describe(exc))
    return exc


def _describe(exc: HTTPError) -> str:
    messages = exc.message if isinstance(exc.message, list) else [exc.message]
    return "; ".join(str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in messages)


class Notify:
    """The real service (or anything that speaks its API, such as the tests' stand-in)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _client(self) -> NotificationsAPIClient:
        return NotificationsAPIClient(
            self._settings.notify_api_key,
            base_url=self._settings.notify_api_base,
            timeout=TIMEOUT_SECONDS,
        )

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        def call() -> Any:
            return getattr(self._client(), method)(*args, **kwargs)

        try:
            return await asyncio.to_thread(call)
        except HTTPError as exc:
            raise _refused_or_raise(exc) from exc

    async def send_text(self, message: Text) -> Accepted:
        reply = await self._call(
            "send_sms_notification",
            phone_number=message.phone_number,
            template_id=self._settings.notify_sms_template_id,
            personalisation={"body": message.body},
            reference=message.reference,
            sms_sender_id=message.sender_id,
        )
        return Accepted(reply["id"], "created")

    async def send_email(self, message: Email) -> Accepted:
        reply = await self._call(
            "send_email_notification",
            email_address=message.address,
            template_id=self._settings.notify_email_template_id,
            personalisation={"subject": message.subject, "body": message.body},
            reference=message.reference,
            email_reply_to_id=message.reply_to_id,
        )
        return Accepted(reply["id"], "created")

    async def send_letter(self, message: PdfLetter) -> Accepted:
        reply = await self._call(
            "send_precompiled_letter_notification",
            reference=message.reference,
            pdf_file=io.BytesIO(message.pdf),
            postage=self._settings.notify_letter_postage,
        )
        return Accepted(reply["id"], "accepted")

    async def find(self, reference: str) -> Accepted | None:
        """The notification sent with this reference, if Notify has one."""
        reply = await self._call("get_all_notifications", reference=reference)
        found = reply.get("notifications") or []
        return Accepted(found[0]["id"], found[0]["status"]) if found else None


class Console:
    """For `make run` without Notify: prints texts and saves letters, and says where."""

    def __init__(self, settings: Settings) -> None:
        self._letters = Path(settings.letters_dir)
        self._sent: dict[str, Accepted] = {}

    def _accept(self, reference: str, status: str) -> Accepted:
        accepted = Accepted(str(uuid.uuid4()), status)
        self._sent[reference] = accepted
        return accepted

    async def send_text(self, message: Text) -> Accepted:
        print(
            f"\n=== Text to {message.phone_number} ===\n{message.body}\n=== end ===\n", flush=True
        )
        return self._accept(message.reference, "created")

    async def send_email(self, message: Email) -> Accepted:
        print(f"\n=== Email to {message.address}: {message.subject} ===\n{message.body}\n")
        return self._accept(message.reference, "created")

    async def send_letter(self, message: PdfLetter) -> Accepted:
        self._letters.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() else "-" for c in message.reference).strip("-")
        path = self._letters / f"{name}.pdf"
        path.write_bytes(message.pdf)
        print(f"\n=== Letter to post: {path.resolve()} ===\n", flush=True)
        return self._accept(message.reference, "accepted")

    async def find(self, reference: str) -> Accepted | None:
        return self._sent.get(reference)


def sender(settings: Settings) -> Sender:
    if settings.notify_configured or settings.is_production:
        return Notify(settings)
    return Console(settings)
