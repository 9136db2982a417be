"""The worker delivers a batch of the outbox on one SMTP connection, records the batch's
deliveries together, and a message the server refuses costs only that message."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from coprod import worker
from coprod.config import get_settings
from coprod.models import OutboxMessage, OutboxStatus
from coprod.services import outbox
from tests.conftest import free_port

REFUSED = "nobody@refused.example"


class CountingServer:
    """An SMTP server that counts its connections and refuses one address."""

    def __init__(self) -> None:
        self.connections = 0
        self.delivered: list[str] = []

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.delivered.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def counting() -> Iterator[tuple[CountingServer, Any]]:
    handler = CountingServer()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, dataclasses.replace(get_settings(), smtp_port=port)
    finally:
        controller.stop()


async def queue(to: str) -> OutboxMessage:
    return await outbox.enqueue_email(
        to=to,
        template="sign_in_link",
        context={"name": "Rep", "url": "http://testserver/x", "minutes": 15},
    )


async def test_a_batch_goes_out_on_one_connection_and_is_recorded_sent(counting) -> None:
    server, settings = counting
    rows = [await queue(f"rep{i}@people.example") for i in range(12)]

    assert await worker.deliver_due(settings) == 12

    assert server.connections == 1
    assert sorted(server.delivered) == sorted(r.to_address for r in rows)
    for row in await OutboxMessage.filter(id__in=[r.id for r in rows]):
        assert row.status == OutboxStatus.SENT
        assert row.attempts == 1 and row.sent_at is not None
        assert row.locked_by is None and row.locked_until is None


async def test_a_refused_message_is_retried_alone_and_the_rest_still_go(counting) -> None:
    server, settings = counting
    first = await queue("first@people.example")
    refused = await queue(REFUSED)
    last = await queue("last@people.example")

    assert await worker.deliver_due(settings) == 2

    assert sorted(server.delivered) == ["first@people.example", "last@people.example"]
    # The connection was dropped after the refusal, and the next message went on a new one.
    assert server.connections == 2
    await refused.refresh_from_db()
    assert refused.status == OutboxStatus.PENDING
    assert refused.attempts == 1 and refused.last_error and "550" in refused.last_error
    assert refused.locked_by is None
    for row in (first, last):
        await row.refresh_from_db()
        assert row.status == OutboxStatus.SENT


async def test_rows_another_worker_holds_are_not_claimed_again(counting) -> None:
    server, settings = counting
    rows = [await queue(f"rep{i}@people.example") for i in range(3)]
    held = await worker.claim_batch("another-worker", dt.datetime.now(dt.UTC), limit=2)
    assert len(held) == 2

    assert await worker.deliver_due(settings) == 1

    assert server.delivered == [rows[2].to_address]
    for row in held:
        await row.refresh_from_db()
        assert row.status == OutboxStatus.SENDING and row.locked_by == "another-worker"
