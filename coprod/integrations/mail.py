"""Turning an outbox row into a MIME message and handing it to the SMTP server."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import aiosmtplib

from coprod.config import Settings
from coprod.models import OutboxMessage


def build_message(row: OutboxMessage, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = row.to_address
    msg["Subject"] = row.subject
    # Fixed per row, so a delivery retried after a lost reply can be spotted as the same mail.
    msg["Message-ID"] = row.message_id
    msg["Date"] = formatdate(localtime=False)
    msg.set_content(row.text_body)
    msg.add_alternative(row.html_body, subtype="html")
    attachments = row.attachments or []
    for item in attachments:
        if _is_invite(item):
            # Outlook and Gmail show Accept/Decline only when the scheduling message is an
            # alternative body of the mail; others (and people saving it) look for the file.
            # As bytes, base64-encoded, so the file arrives byte for byte: RFC 5545 wants CRLF
            # line ends, and a text part would have them rewritten.
            msg.add_alternative(
                base64.b64decode(item["content"]),
                maintype="text",
                subtype="calendar",
                cte="base64",
                params={"method": item["method"], "charset": "utf-8"},
            )
    for item in attachments:
        maintype, subtype = item["content_type"].split("/", 1)
        params = {"method": item["method"]} if item.get("method") else {}
        if maintype == "text":
            params["charset"] = "utf-8"
        msg.add_attachment(
            base64.b64decode(item["content"]),
            maintype=maintype,
            subtype=subtype,
            filename=item["filename"],
            params=params,
        )
    return msg


def _is_invite(item: dict[str, Any]) -> bool:
    return item["content_type"] == "text/calendar" and bool(item.get("method"))


def _client(settings: Settings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=30,
    )


class Connection:
    """One SMTP connection kept open for a batch of messages: connecting (and STARTTLS and
    signing in) costs more than sending a message does. It connects when first used, and
    after any failure it is dropped, so the next message starts on a fresh connection rather
    than one left in an unknown state. Use `async with`, which says goodbye (QUIT) at the end."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._smtp: aiosmtplib.SMTP | None = None

    async def send(self, message: EmailMessage) -> None:
        if self._smtp is None or not self._smtp.is_connected:
            self._smtp = _client(self._settings)
            try:
                await self._smtp.connect()
            except BaseException:
                self._drop()
                raise
        try:
            await self._smtp.send_message(message)
        except BaseException:
            self._drop()
            raise

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    async def close(self) -> None:
        if self._smtp is not None and self._smtp.is_connected:
            try:
                await self._smtp.quit()
            except aiosmtplib.SMTPException:
                pass  # everything was handed over already; a lost goodbye changes nothing
        self._drop()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
