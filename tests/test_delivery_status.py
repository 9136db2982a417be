"""GOV.UK Notify tells us what became of each message; one that did not arrive is shown to the
lead and puts the person on the call list until the lead says they phoned them. The lead sees a
person's messages, can print any as a letter, and has Braille and audio letters transcribed.

Messages are queued the way users cause them (a lead books someone) and sent by the worker;
Notify's callbacks are posted in Notify's own shape (notifications-api
app/celery/service_callback_tasks.py: send_delivery_status_to_service and
send_returned_letter_to_service) with the bearer token set for the callback."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from coprod import clock
from coprod.config import get_settings
from coprod.models import (
    AuditEvent,
    OutboxMessage,
    OutboxStatus,
    Representative,
    Role,
    TranscriptionTask,
)
from coprod.services import bookings
from coprod.services.auth import actor_for
from tests.conftest import deliver_mail, sign_in
from tests.test_bookings import LEAD_EMAIL, Scene, activity, local_iso, person
from tests.test_outbox import make_due

TOKEN = "test-notify-callback-token"
MOBILE = "07700 900123"
ADDRESS = "1 High Street\nLeeds\nLS1 1AA"
NOT_DELIVERED = f"Text to {MOBILE} not delivered: the number may be wrong"


@pytest.fixture(autouse=True)
def callback_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The bearer token this service gave Notify for its callbacks."""
    monkeypatch.setenv("NOTIFY_CALLBACK_TOKEN", TOKEN)
    get_settings.cache_clear()
    yield TOKEN
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
async def scene(world: Any) -> Scene:
    org = await world.org()
    user = await world.user(org, LEAD_EMAIL, Role.INVOLVEMENT_LEAD)
    return Scene(org, await actor_for(user, org.id))


async def booked(scene: Scene, rep: Representative) -> OutboxMessage:
    """Book them onto a workshop in a fortnight, as a lead does: the confirmation goes the way
    they chose. Returns its outbox row."""
    day = clock.today() + dt.timedelta(days=14)
    workshop = await activity(scene.lead, local_iso(day))
    await bookings.book(scene.lead, workshop, rep, "in_person")
    return await OutboxMessage.get(representative_id=rep.id, notification="booking_confirmed")


async def texted(scene: Scene, name: str = "Tia Text") -> tuple[Representative, OutboxMessage]:
    """Someone who chose texts, booked, and the text handed to Notify by the worker."""
    rep = await person(scene.lead, name, email="", mobile=MOBILE, contact_channels=["text"])
    row = await booked(scene, rep)
    assert row.kind == "text"
    await deliver_mail()
    await row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.provider_id
    return rep, row


def notify_says(row: OutboxMessage, status: str, **changes: Any) -> dict[str, Any]:
    """A delivery-status callback as Notify sends it."""
    return {
        "id": row.provider_id,
        "reference": row.message_id,
        "to": row.to_address,
        "status": status,
        "created_at": "2026-12-01T10:00:00.000000Z",
        "completed_at": "2026-12-01T10:00:07.123456Z",
        "sent_at": "2026-12-01T10:00:01.000000Z",
        "notification_type": "sms",
        "template_id": "f33517ff-2a88-4f6e-b855-c550268ce08a",
        "template_version": 1,
        **changes,
    }


async def callback(client: Any, payload: Any, token: str | None = TOKEN) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await client.http.post("/api/v1/notify/delivery", json=payload, headers=headers)


# --------------------------------------------------------------------------- the callback


async def test_a_callback_updates_the_message_and_replays_never_move_it_back(scene, client):
    _, row = await texted(scene)
    assert row.delivery_status == "created"

    sending = await callback(client, notify_says(row, "sending"))
    assert sending.status_code == 200 and sending.json() == {"received": "sending"}
    delivered = await callback(client, notify_says(row, "delivered"))
    assert delivered.json() == {"received": "delivered"}
    await row.refresh_from_db()
    assert row.delivery_status == "delivered"
    assert row.delivery_status_at == dt.datetime(2026, 12, 1, 10, 0, 7, 123456, tzinfo=dt.UTC)

    # Replayed, late or contrary callbacks: still 200 (Notify retries anything else), unchanged.
    for late in ("delivered", "sending", "created", "permanent-failure"):
        again = await callback(client, notify_says(row, late, completed_at="2026-12-02T00:00Z"))
        assert again.status_code == 200
        assert again.json() == {"received": "kept delivered"}
    await row.refresh_from_db()
    assert row.delivery_status == "delivered"
    assert row.delivery_status_at == dt.datetime(2026, 12, 1, 10, 0, 7, 123456, tzinfo=dt.UTC)


async def test_a_message_is_found_by_our_reference_when_notify_s_id_is_not_yet_held(scene, client):
    _, row = await texted(scene)
    # As if the worker's reply from Notify was lost: the id is only in the callback.
    await OutboxMessage.filter(id=row.id).update(provider_id=None)
    notify_id = str(uuid.uuid4())
    reply = await callback(client, notify_says(row, "delivered", id=notify_id))
    assert reply.json() == {"received": "delivered"}
    await row.refresh_from_db()
    assert (row.provider_id, row.delivery_status) == (notify_id, "delivered")


async def test_a_callback_without_the_right_bearer_token_is_refused(scene, client, monkeypatch):
    _, row = await texted(scene)
    for token in (None, "wrong-token", "", TOKEN + "x"):
        refused = await callback(client, notify_says(row, "permanent-failure"), token=token)
        assert refused.status_code == 401
    other = await client.http.post(
        "/api/v1/notify/delivery",
        json=notify_says(row, "permanent-failure"),
        headers={"Authorization": f"Basic {TOKEN}"},
    )
    assert other.status_code == 401
    # With no token configured, nothing is accepted, not even an empty one.
    monkeypatch.setenv("NOTIFY_CALLBACK_TOKEN", "")
    get_settings.cache_clear()
    assert (await callback(client, notify_says(row, "permanent-failure"), "")).status_code == 401
    await row.refresh_from_db()
    assert row.delivery_status == "created"


async def test_odd_bodies_get_plain_answers_never_a_server_error(scene, client):
    _, row = await texted(scene)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    for body, status in (
        (b"{not json", 422),
        (b"\xff\xfe", 422),
        (b"[1, 2]", 422),
        (b'"delivered"', 422),
        (b"{}", 200),
        (b'{"id": 7, "status": ["delivered"]}', 200),
        (b'{"id": "' + b"x" * 500 + b'", "status": "delivered"}', 200),
    ):
        reply = await client.http.post("/api/v1/notify/delivery", content=body, headers=headers)
        assert reply.status_code == status, body
        assert "errors" in reply.json() or reply.json()["received"].startswith("ignored")
    unknown = await callback(
        client, notify_says(row, "delivered", id=str(uuid.uuid4()), reference="x")
    )
    assert unknown.json() == {"received": "ignored: unknown message"}
    await row.refresh_from_db()
    assert row.delivery_status == "created"


# --------------------------------------------------------------------------- did not arrive


async def test_a_permanent_failure_puts_them_on_the_call_list_until_the_lead_phones(scene, client):
    rep, row = await texted(scene)
    other, fine = await texted(scene, "Dee Delivered")
    await callback(client, notify_says(row, "permanent-failure"))
    await callback(client, notify_says(fine, "delivered"))
    await sign_in(client, LEAD_EMAIL)

    home = await client.get("/")
    assert "1 call to make" in home.text
    calls = await client.get("/call-list")
    assert NOT_DELIVERED in calls.text
    assert "Dee Delivered" not in calls.text
    listed = (await client.get("/api/v1/call-list")).json()["items"]
    assert [(c["about"], c["message_id"], c["reason"]) for c in listed] == [
        ("message", row.id, NOT_DELIVERED)
    ]
    profile = await client.get(f"/representatives/{rep.id}")
    assert "Not delivered: the number may be wrong" in profile.text
    assert "I have phoned them" in profile.text

    # The lead phones them and says so, from the call list.
    phoned = await client.post_form(
        f"/representatives/{rep.id}/messages/{row.id}/follow-up",
        {"back": "/call-list"},
        token_from="/call-list",
    )
    assert phoned.status_code == 303 and phoned.headers["location"] == "/call-list"
    assert NOT_DELIVERED not in (await client.get("/call-list")).text
    assert (await client.get("/api/v1/call-list")).json()["items"] == []
    assert "0 calls to make" in (await client.get("/")).text
    await row.refresh_from_db()
    assert row.followed_up_at is not None and row.followed_up_by_id == scene.lead.user.id
    event = await AuditEvent.get(action="message.follow_up", entity_id=str(row.id))
    assert event.after == {"phoned": True, "about": NOT_DELIVERED}
    profile = await client.get(f"/representatives/{rep.id}")
    assert "You phoned them on" in profile.text

    # Saying it again changes nothing; a message that arrived has nobody to phone about.
    again = await client.api(
        "POST", f"/api/v1/representatives/{rep.id}/messages/{row.id}/follow-up", {}
    )
    assert again.status_code == 200 and again.json()["followed_up_at"]
    assert await AuditEvent.filter(action="message.follow_up").count() == 1
    nothing = await client.api(
        "POST", f"/api/v1/representatives/{other.id}/messages/{fine.id}/follow-up", {}
    )
    assert nothing.status_code == 409


async def test_an_email_that_could_not_be_sent_is_on_the_call_list_too(
    scene, client, smtp_server, mailbox
):
    rep = await person(scene.lead, "Eve Email")
    smtp_server.stop()
    row = await booked(scene, rep)
    for _ in range(3):  # MAIL_MAX_ATTEMPTS is 3 in tests
        await make_due(row)
        await deliver_mail()
    smtp_server.start()
    await row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    await sign_in(client, LEAD_EMAIL)
    calls = await client.get("/call-list")
    assert (
        "Email to eve.email@people.example not sent: the email could not be delivered after "
        "several tries"
    ) in calls.text
    reply = await client.api(
        "POST", f"/api/v1/representatives/{rep.id}/messages/{row.id}/follow-up", {}
    )
    assert reply.status_code == 200
    assert "eve.email@people.example" not in (await client.get("/call-list")).text


# --------------------------------------------------------------------------- a person's messages


async def test_the_lead_sees_each_message_when_what_how_and_whether_it_arrived(
    scene, client, world
):
    rep, row = await texted(scene)
    await callback(client, notify_says(row, "delivered"))
    await sign_in(client, LEAD_EMAIL)
    page = await client.get(f"/representatives/{rep.id}/messages")
    assert page.status_code == 200
    assert "Booking confirmed" in page.text and "Delivered" in page.text
    assert f"Text to {MOBILE}" in page.text
    assert "None" not in page.text
    listed = (await client.get(f"/api/v1/representatives/{rep.id}/messages")).json()["items"]
    assert [(m["about"], m["channel"], m["standing"], m["failed"]) for m in listed] == [
        ("Booking confirmed", "text", "Delivered", False)
    ]
    # No postal address: a text cannot be printed as a letter.
    assert listed[0]["letter_url"] is None
    assert "Print" not in page.text

    # Another organisation's lead finds nothing; a representative cannot list their messages.
    other = await world.org("Southshire NHS Trust")
    await world.user(other, "lead@south.example", Role.INVOLVEMENT_LEAD)
    await sign_in(client, "lead@south.example")
    for url in (
        f"/representatives/{rep.id}/messages",
        f"/api/v1/representatives/{rep.id}/messages",
        f"/api/v1/representatives/{rep.id}/messages/{row.id}/letter.pdf",
    ):
        assert (await client.get(url)).status_code == 404, url
    follow = await client.api(
        "POST", f"/api/v1/representatives/{rep.id}/messages/{row.id}/follow-up", {}
    )
    assert follow.status_code == 404


async def test_a_representative_does_not_see_the_messages_list(scene, client, world):
    rep = await person(scene.lead, "Ria Rep", mobile=MOBILE, contact_channels=["text", "email"])
    await booked(scene, rep)
    rep_user = await world.user(scene.org, "ria.self@people.example", Role.REPRESENTATIVE)
    await Representative.filter(id=rep.id).update(user_id=rep_user.id)
    await sign_in(client, "ria.self@people.example")
    assert "Booking confirmed" not in (await client.get("/my/profile")).text
    listed = await client.get(f"/api/v1/representatives/{rep.id}/messages")
    assert listed.status_code == 403


# --------------------------------------------------------------------------- letters


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    # Lines wrap where the page does: compare words, not lines.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


async def test_a_lead_prints_a_letter_or_a_text_as_a_letter_and_it_is_audited(scene, client):
    poster = await person(
        scene.lead, "Pat Post", email="", postal_address=ADDRESS, contact_channels=["post"]
    )
    letter = await booked(scene, poster)
    assert letter.kind == "letter"
    texter, text = await texted(scene)
    await Representative.filter(id=texter.id).update(postal_address="2 Low Road\nYork\nYO1 1AA")
    await sign_in(client, LEAD_EMAIL)

    page = await client.get(f"/representatives/{poster.id}")
    assert "Print letter" in page.text
    pdf = await client.get(f"/representatives/{poster.id}/messages/{letter.id}/letter.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    words = pdf_text(pdf.content)
    assert "Pat Post 1 High Street Leeds LS1 1AA" in words and letter.subject in words
    twin = await client.get(f"/api/v1/representatives/{poster.id}/messages/{letter.id}/letter.pdf")
    assert twin.status_code == 200 and pdf_text(twin.content) == words

    assert "Print as a letter" in (await client.get(f"/representatives/{texter.id}")).text
    as_letter = await client.get(f"/representatives/{texter.id}/messages/{text.id}/letter.pdf")
    words = pdf_text(as_letter.content)
    assert "Tia Text 2 Low Road York YO1 1AA" in words
    assert "you are booked onto Service design workshop" in words
    assert await AuditEvent.filter(action="message.print").count() == 3


async def test_a_braille_reader_s_letter_is_a_task_on_the_lead_s_checklist(scene, client):
    rep = await person(
        scene.lead,
        "Bea Braille",
        email="",
        postal_address=ADDRESS,
        contact_channels=["post"],
        formats=["braille", "audio"],
    )
    letter = await booked(scene, rep)
    tasks = await TranscriptionTask.filter(message_id=letter.id).order_by("format")
    assert [(t.format, t.label) for t in tasks] == [
        ("audio", "Audio recording of the letter sent"),
        ("braille", "Braille copy of the letter sent"),
    ]
    assert all(t.due_on == clock.today() + dt.timedelta(days=3) for t in tasks)
    # Someone reached by email gets no task, whatever their formats.
    emailed = await person(scene.lead, "Eli Email", formats=["braille"])
    await booked(scene, emailed)
    assert await TranscriptionTask.all().count() == 2

    await sign_in(client, LEAD_EMAIL)
    assert "2 letters to put into Braille or audio" in (await client.get("/")).text
    checklist = await client.get("/arrangements/overdue")
    assert "Braille copy of the letter sent" in checklist.text
    assert f"/representatives/{rep.id}/messages/{letter.id}/letter.pdf" in checklist.text
    listed = (await client.get("/api/v1/transcriptions")).json()["items"]
    assert {(t["format"], t["message_id"]) for t in listed} == {
        ("braille", letter.id),
        ("audio", letter.id),
    }
    assert listed[0]["letter_url"].endswith(f"/messages/{letter.id}/letter.pdf")

    braille = next(t for t in tasks if t.format == "braille")
    ticked = await client.post_form(
        f"/transcriptions/{braille.id}/tick",
        {"done": "yes", "back": "/arrangements/overdue#letters"},
        token_from="/arrangements/overdue",
    )
    assert ticked.status_code == 303
    assert ticked.headers["location"] == "/arrangements/overdue#letters"
    # Only ever back to a page of ours, whatever the form says.
    elsewhere = await client.post_form(
        f"/transcriptions/{braille.id}/tick",
        {"done": "yes", "back": "//evil.example/"},
        token_from="/arrangements/overdue",
    )
    assert elsewhere.headers["location"] == "/"
    audio = next(t for t in tasks if t.format == "audio")
    api = await client.api("POST", f"/api/v1/transcriptions/{audio.id}/tick", {"done": True})
    assert api.status_code == 200 and api.json()["done_at"]
    assert (await client.get("/api/v1/transcriptions")).json()["items"] == []
    assert "No letters to transcribe." in (await client.get("/arrangements/overdue")).text
    assert await AuditEvent.filter(action="transcription.tick").count() == 3


async def test_a_returned_letter_puts_them_on_the_call_list(scene, client):
    poster = await person(
        scene.lead, "Pat Post", email="", postal_address=ADDRESS, contact_channels=["post"]
    )
    letter = await booked(scene, poster)
    await deliver_mail()
    await letter.refresh_from_db()
    assert (letter.status, letter.delivery_status) == (OutboxStatus.SENT, "accepted")
    received = await callback(client, notify_says(letter, "delivered", notification_type="letter"))
    assert received.json() == {"received": "delivered"}
    # Notify's returned-letter callback has a shape of its own, and no status.
    returned = await callback(
        client,
        {
            "notification_id": letter.provider_id,
            "reference": letter.message_id,
            "date_sent": "2026-12-01T10:00:00.000000Z",
            "sent_by": "API",
            "template_name": "Pre-compiled PDF",
            "template_id": "5ee2e9e5-ea1c-4bf4-9dd8-fb0c5a3ad9c0",
            "template_version": 1,
            "spreadsheet_file_name": None,
            "spreadsheet_row_number": None,
            "upload_letter_file_name": None,
        },
    )
    assert returned.json() == {"received": "returned-letter"}
    await sign_in(client, LEAD_EMAIL)
    calls = await client.get("/call-list")
    assert (
        "Letter to Pat Post returned to us: the address may be wrong or they may have moved"
    ) in calls.text


# --------------------------------------------------------------------------- through the stand-in


async def test_receipts_from_the_notify_stand_in_reach_the_call_list(scene, client, use_notify):
    """The real client sends through the Notify stand-in; the bodies it says Notify POSTs back
    (a failed text, a returned letter) are what the callback understands."""
    texter = await person(
        scene.lead, "Tia Text", email="", mobile=MOBILE, contact_channels=["text"]
    )
    poster = await person(
        scene.lead, "Pat Post", email="", postal_address=ADDRESS, contact_channels=["post"]
    )
    text, letter = await booked(scene, texter), await booked(scene, poster)
    assert await deliver_mail() == 2
    await text.refresh_from_db()
    await letter.refresh_from_db()
    [sms] = use_notify.sent("sms")
    [posted] = use_notify.sent("letter")
    assert (text.provider_id, letter.provider_id) == (sms.id, posted.id)

    token = use_notify.callback_token
    failed = use_notify.delivery_receipt(sms.id, "permanent-failure")
    assert (await callback(client, failed, token)).json() == {"received": "permanent-failure"}
    received = use_notify.delivery_receipt(posted.id, "delivered")
    assert (await callback(client, received, token)).json() == {"received": "delivered"}
    returned = use_notify.returned_letter(posted.id)
    assert (await callback(client, returned, token)).json() == {"received": "returned-letter"}
    # The token tests run with is not this service's any more.
    assert (await callback(client, failed, TOKEN)).status_code == 401

    await sign_in(client, LEAD_EMAIL)
    calls = (await client.get("/api/v1/call-list")).json()["items"]
    assert [(c["name"], c["reason"]) for c in calls] == [
        ("Tia Text", NOT_DELIVERED),
        (
            "Pat Post",
            "Letter to Pat Post returned to us: the address may be wrong or they may have moved",
        ),
    ]
