"""Texts and letters end to end: a change in a service, the outbox, the worker, and GOV.UK
Notify's API (the stand-in, with the real client), including its failures."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from coprod import clock, worker
from coprod.config import get_settings
from coprod.domain.notifications import MAX_TEXT_CHARACTERS
from coprod.models import OutboxMessage, OutboxStatus, Representative, Role
from coprod.services import bookings, contact
from coprod.services.auth import actor_for
from tests.conftest import DATABASE_URL, Mailbox, deliver_mail
from tests.test_bookings import LEAD_EMAIL, Scene, activity, local_iso, person

MOBILE = "07700 900123"


@pytest.fixture
async def scene(world: Any) -> Scene:
    org = await world.org()
    user = await world.user(org, LEAD_EMAIL, Role.INVOLVEMENT_LEAD)
    return Scene(org, await actor_for(user, org.id))


async def texter(scene: Scene, name: str = "Tess Text", **changes: Any) -> Any:
    """Someone who asked for texts first, with an email address as their second way."""
    return await person(
        scene.lead, name, mobile=MOBILE, contact_channels=["text", "email"], **changes
    )


async def book_someone(scene: Scene, rep: Any) -> Any:
    session = await activity(
        scene.lead, local_iso(clock.today() + dt.timedelta(days=10)), "video", "phone"
    )
    return await bookings.book(scene.lead, session, rep, "video")


async def test_a_booking_reaches_someone_who_chose_texts_by_text(
    scene: Scene, use_notify: Any, mailbox: Mailbox
) -> None:
    rep = await texter(scene)
    await book_someone(scene, rep)

    assert await deliver_mail() == 1
    [text] = use_notify.sent("sms")
    assert text.to == "447700900123"
    assert "you are booked onto Service design workshop" in text.body
    assert "http://testserver/my/bookings" in text.body
    assert len(text.body) <= MAX_TEXT_CHARACTERS
    assert mailbox.messages == []  # email was their second choice, not also used

    row = await OutboxMessage.get(representative_id=rep.id)
    assert (row.kind, row.notification, row.status) == ("text", "booking_confirmed", "sent")
    assert row.provider_id == text.id
    assert row.delivery_status == "created"
    assert row.message_id == text.reference  # so a lost reply can be found again


async def test_each_organisation_texts_from_its_own_sender(
    scene: Scene, use_notify: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = str(uuid.uuid4())
    use_notify.sms_senders[sender] = "Northshire"  # set up in Notify's settings
    monkeypatch.setenv("NOTIFY_SMS_SENDERS", f"{scene.org.slug}={sender}")
    get_settings.cache_clear()
    await book_someone(scene, await texter(scene))

    assert await deliver_mail() == 1
    [text] = use_notify.sent("sms")
    assert text.reply_to == "Northshire"


async def test_a_text_notify_refuses_fails_at_once_with_notifys_reason(
    scene: Scene, use_notify: Any
) -> None:
    rep = await texter(scene)
    use_notify.fail_next("/v2/notifications/sms", 400, method="POST")
    await book_someone(scene, rep)

    assert await deliver_mail() == 0
    row = await OutboxMessage.get(representative_id=rep.id)
    assert row.status == OutboxStatus.FAILED  # sending it again would be refused again
    assert row.attempts == 1
    assert row.last_error and "Refused" in row.last_error


async def test_a_lost_reply_is_looked_up_before_sending_again(
    scene: Scene, use_notify: Any
) -> None:
    rep = await texter(scene)
    await book_someone(scene, rep)
    # Notify sends the text, but its reply never reaches us; then it has an outage.
    use_notify.hang_next("/v2/notifications/sms", seconds=60, method="POST", lose_reply=True)
    import coprod.integrations.notify as notify_module

    notify_module.TIMEOUT_SECONDS, saved = 1, notify_module.TIMEOUT_SECONDS
    try:
        assert await deliver_mail() == 0
    finally:
        notify_module.TIMEOUT_SECONDS = saved
    use_notify.release_hangs()
    row = await OutboxMessage.get(representative_id=rep.id)
    assert row.status == OutboxStatus.PENDING and row.attempts == 1

    await OutboxMessage.filter(id=row.id).update(next_attempt_at=row.created_at)
    use_notify.fail_next("/v2/notifications", 500, method="GET")
    assert await deliver_mail() == 0  # could not look: does not send blind
    assert len(use_notify.sent("sms")) == 1

    await OutboxMessage.filter(id=row.id).update(next_attempt_at=row.created_at)
    assert await deliver_mail() == 1
    [text] = use_notify.sent("sms")  # still one
    row = await OutboxMessage.get(id=row.id)
    assert row.status == OutboxStatus.SENT and row.provider_id == text.id


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "coprod", "worker", "--poll", "0.2"],
        env={
            **os.environ,
            **env,
            "DATABASE_URL": DATABASE_URL,
            "OUTBOX_LEASE_SECONDS": "2",
        },
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def test_a_worker_killed_mid_send_leaves_one_text_sent(
    scene: Scene, use_notify: Any, tmp_path: Path
) -> None:
    rep = await texter(scene)
    await book_someone(scene, rep)
    use_notify.hang_next("/v2/notifications/sms", seconds=60, method="POST", lose_reply=True)
    log = tmp_path / "worker.log"
    first = _worker(use_notify.env(), log)
    try:
        for _ in range(300):
            if use_notify.sent("sms"):
                break
            await asyncio.sleep(0.05)
        assert use_notify.sent("sms"), log.read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    row = await OutboxMessage.get(representative_id=rep.id)
    assert row.status == OutboxStatus.SENDING  # died holding it
    use_notify.release_hangs()

    second = _worker(use_notify.env(), log)
    try:
        for _ in range(200):
            if (await OutboxMessage.get(id=row.id)).status == OutboxStatus.SENT:
                break
            await asyncio.sleep(0.05)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(10)
        except subprocess.TimeoutExpired:
            second.kill()

    row = await OutboxMessage.get(id=row.id)
    assert row.status == OutboxStatus.SENT, log.read_text()
    [text] = use_notify.sent("sms")
    assert row.provider_id == text.id and row.claims == 2


async def test_without_notify_texts_are_printed_for_make_run(
    scene: Scene, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not get_settings().notify_configured
    await book_someone(scene, await texter(scene))
    assert await worker.deliver_due() == 1
    printed = capsys.readouterr().out
    assert "=== Text to 07700 900123 ===" in printed
    assert "you are booked onto Service design workshop" in printed


async def test_email_can_go_through_notify_but_calendar_invites_keep_to_smtp(
    scene: Scene, use_notify: Any, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_EMAIL", "true")
    get_settings.cache_clear()
    rep = await person(scene.lead, "Evie Email")
    booking = await book_someone(scene, rep)
    await bookings.cancel(scene.lead, booking)
    await contact.notify(
        rep,
        kind="remittance",
        context={
            "name": rep.full_name,
            "claim_id": 7,
            "total": "£70.00",
            "fees": "£70.00",
            "expenses": "£0.00",
            "url": "http://testserver/my/payments",
        },
        organisation_id=scene.org.id,
    )

    assert await deliver_mail() == 3
    # The booking and its cancellation carry calendar files, which Notify's email cannot.
    assert len(mailbox.to("evie.email@people.example")) == 2
    [email] = use_notify.sent("email")
    assert email.to == "evie.email@people.example"
    assert email.subject == "You have been paid £70.00"
    assert "We have paid your claim 7: £70.00 in all." in email.body


ADDRESS = "Flat 2, 14 Albion Street\nLeeds\nLS1 6AG"


async def writer(scene: Scene, name: str, **changes: Any) -> Any:
    """Someone who asked for letters."""
    return await person(
        scene.lead,
        name,
        postal_address=ADDRESS,
        contact_channels=["post"],
        **changes,
    )


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(
    ("formats", "variant", "words"),
    [
        ([], "standard", "You can withdraw at any time, with no need to say why"),
        (["large_print"], "large_print", "You can withdraw at any time, with no need to say why"),
        (["easy_read", "large_print"], "easy_read", "You do not need to say why."),
    ],
)
async def test_a_booking_reaches_someone_who_chose_letters_as_a_posted_pdf(
    scene: Scene, use_notify: Any, formats: list[str], variant: str, words: str
) -> None:
    rep = await writer(scene, "Lettie Post", email="", formats=formats)
    await book_someone(scene, rep)

    assert await deliver_mail() == 1
    [letter] = use_notify.sent("letter")
    # Notify read the address from the window and accepted the PDF as printable.
    assert letter.validation_failure is None
    assert letter.status != "validation-failed"
    assert letter.to.splitlines() == [
        "Lettie Post",
        "Flat 2",
        "14 Albion Street",
        "Leeds",
        "LS1 6AG",
    ]
    text = pdf_text(letter.pdf)
    assert "Service design workshop" in text
    assert words in " ".join(text.split())
    assert "attached" not in text  # no calendar file comes by post
    row = await OutboxMessage.get(representative_id=rep.id)
    assert (row.kind, row.letter_variant, row.status) == ("letter", variant, "sent")
    assert (row.provider_id, row.delivery_status) == (letter.id, "accepted")


async def test_a_letter_that_cannot_be_posted_fails_at_once_and_sends_nothing(
    scene: Scene, use_notify: Any
) -> None:
    rep = await writer(scene, "Nora Nowhere")
    await Representative.filter(id=rep.id).update(postal_address="Somewhere in Leeds")
    await book_someone(scene, await Representative.get(id=rep.id))

    assert await deliver_mail() == 0
    assert use_notify.sent("letter") == []
    row = await OutboxMessage.get(representative_id=rep.id)
    assert row.status == OutboxStatus.FAILED
    assert row.last_error and "postcode" in row.last_error


async def test_without_notify_letters_are_saved_and_their_path_printed(
    scene: Scene, capsys: pytest.CaptureFixture[str]
) -> None:
    await book_someone(scene, await writer(scene, "Lettie Post"))
    assert await worker.deliver_due() == 1
    printed = capsys.readouterr().out
    [path] = [
        line.split(": ", 1)[1].split(" ===")[0]
        for line in printed.splitlines()
        if "Letter to post" in line
    ]
    assert path.startswith(get_settings().letters_dir) or get_settings().letters_dir in path
    assert "Service design workshop" in pdf_text(await asyncio.to_thread(Path(path).read_bytes))
