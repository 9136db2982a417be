"""Turning an outbox row into a MIME message and handing it to the SMTP server."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.utils import formatdate

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
    for item in row.attachments or []:
        maintype, subtype = item["content_type"].split("/", 1)
        params = {"method": item["method"]} if item.get("method") else {}
        msg.add_attachment(
            base64.b64decode(item["content"]),
            maintype=maintype,
            subtype=subtype,
            filename=item["filename"],
            params=params,
        )
    return msg


async def send(message: EmailMessage, settings: Settings) -> None:
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=30,
    )
