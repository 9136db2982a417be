"""The mail outbox: written in the change's transaction, delivered by the worker with retries."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys

from tortoise.transactions import in_transaction

from coprod.models import AuditEvent, OutboxMessage, OutboxStatus, Role
from coprod.services import outbox
from tests.conftest import deliver_mail, postgres_only, sign_in


async def queue(to: str = "rep@people.example", **kwargs) -> OutboxMessage:
    return await outbox.enqueue_email(
        to=to,
        template="sign_in_link",
        context={"name": "Rep", "url": "http://testserver/x", "minutes": 15},
        **kwargs,
    )


async def make_due(row: OutboxMessage) -> None:
    """Stand in for the wait before the next attempt."""
    await OutboxMessage.filter(id=row.id).update(next_attempt_at=dt.datetime.now(dt.UTC))


async def test_a_message_rolls_back_with_its_change():
    class Boom(Exception):
        pass

    try:
        async with in_transaction():
            await queue()
            raise Boom
    except Boom:
        pass
    assert await OutboxMessage.all().count() == 0


async def test_email_has_text_and_html_parts_and_the_rows_message_id(mailbox):
    row = await queue()
    assert await deliver_mail() == 1
    [message] = mailbox.messages
    assert message["Message-ID"] == row.message_id
    assert message.get_body(preferencelist=("plain",)) is not None
    assert message.get_body(preferencelist=("html",)) is not None
    await row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.sent_at is not None


async def test_queued_while_smtp_is_down_then_delivered_exactly_once(smtp_server, mailbox):
    smtp_server.stop()
    row = await queue()
    assert await deliver_mail() == 0
    await row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.last_error
    assert row.next_attempt_at > dt.datetime.now(dt.UTC)  # backing off
    # Not due yet: nothing is tried.
    smtp_server.start()
    assert await deliver_mail() == 0
    assert mailbox.messages == []

    await make_due(row)
    assert await deliver_mail() == 1
    assert await deliver_mail() == 0
    await make_due(row)
    assert await deliver_mail() == 0
    assert [m["Message-ID"] for m in mailbox.messages] == [row.message_id]


async def test_parked_as_failed_after_max_attempts_and_an_admin_can_retry(
    smtp_server, mailbox, client, world
):
    org = await world.org()
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    smtp_server.stop()
    row = await queue(organisation_id=org.id)
    for _ in range(3):  # MAIL_MAX_ATTEMPTS is 3 in tests
        await make_due(row)
        await deliver_mail()
    await row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    await make_due(row)
    smtp_server.start()
    assert await deliver_mail() == 0  # parked rows are not retried by themselves

    await sign_in(client, "admin@trust.example")
    home = await client.get("/")
    assert "could not be delivered" in home.text
    listing = await client.get("/admin/outbox?status=failed")
    assert "rep@people.example" in listing.text
    retried = await client.post_form(
        f"/admin/outbox/{row.id}/retry", {}, token_from="/admin/outbox"
    )
    assert retried.status_code == 303
    await row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    assert await AuditEvent.filter(action="outbox.retry", entity_id=str(row.id)).exists()
    assert await deliver_mail() == 1
    assert len(mailbox.messages) == 1


async def test_another_organisations_message_cannot_be_retried(client, world):
    mine = await world.org("Mine")
    theirs = await world.org("Theirs")
    await world.user(mine, "admin@trust.example", Role.ORG_ADMIN)
    row = await queue(organisation_id=theirs.id)
    await OutboxMessage.filter(id=row.id).update(status=OutboxStatus.FAILED)
    await sign_in(client, "admin@trust.example")
    response = await client.post_form(
        f"/admin/outbox/{row.id}/retry", {}, token_from="/admin/outbox"
    )
    assert response.status_code == 404
    assert "rep@people.example" not in (await client.get("/admin/outbox?status=failed")).text


async def test_a_dedupe_key_sends_once_however_often_asked(mailbox):
    first = await outbox.enqueue_email(
        dedupe_key="contract:1:expiry:30",
        to="rep@people.example",
        template="sign_in_link",
        context={"name": "Rep", "url": "http://testserver/x", "minutes": 15},
    )
    second = await outbox.enqueue_email(
        dedupe_key="contract:1:expiry:30",
        to="rep@people.example",
        template="sign_in_link",
        context={"name": "Rep", "url": "http://testserver/x", "minutes": 15},
    )
    assert first is not None and second is None
    assert await deliver_mail() == 1


@postgres_only
async def test_two_workers_deliver_200_messages_with_no_duplicate_and_no_loss(mailbox):
    async with in_transaction():
        rows = [await queue(to=f"person{i}@people.example") for i in range(200)]
    # ~10 s of sending: longer than a worker takes to start on a loaded machine, so the second
    # starts while the first is still sending (at 2 s, one worker sometimes sent all 200).
    mailbox.delay = 0.05
    env = dict(os.environ)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "coprod",
            "worker",
            "--once",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    outputs = [(await asyncio.wait_for(p.communicate(), timeout=120))[0].decode() for p in procs]
    counts = [int(re.search(r"Delivered (\d+) message", out).group(1)) for out in outputs]
    assert sum(counts) == 200, outputs
    assert all(c > 0 for c in counts), f"both workers should have sent some: {counts}"
    received = [m["Message-ID"] for m in mailbox.messages]
    assert len(received) == 200
    assert set(received) == {r.message_id for r in rows}
    assert await OutboxMessage.filter(status=OutboxStatus.SENT).count() == 200
