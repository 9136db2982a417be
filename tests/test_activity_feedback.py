"""Representatives say how an activity they attended went: asked once when their attendance is
recorded (by the way they chose), answered on a page of their own once per booking, or recorded
for them by a lead; the lead sees every answer on the activity page, and answers where someone
was not listened to or not helped to take part stand out on the lead's home page."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

import pytest
import textstat

from coprod import clock
from coprod.domain import activity_feedback as rules
from coprod.errors import Conflict
from coprod.models import (
    Activity,
    ActivityFeedback,
    Agreement,
    AuditEvent,
    Booking,
    OutboxMessage,
    Representative,
    Role,
    User,
)
from coprod.services import activity_feedback, attendance, auth, bookings
from coprod.services.actor import Actor
from coprod.services.auth import actor_for
from tests.conftest import deliver_mail, sign_in
from tests.test_bookings import LEAD_EMAIL, Scene, activity, as_self, local_iso, person

SUBJECT = "How did Service design workshop go?"


@pytest.fixture
async def scene(world: Any) -> Scene:
    org = await world.org()
    user = await world.user(org, LEAD_EMAIL, Role.INVOLVEMENT_LEAD)
    return Scene(org, await actor_for(user, org.id))


async def attended(lead: Actor, rep: Representative, *, record: bool = True) -> Booking:
    """Booked onto a workshop that took place yesterday, with attendance recorded as a lead
    does (the services never book into the past, so the times are moved back, as the claims
    tests do)."""
    workshop = await activity(lead, local_iso(clock.today() + dt.timedelta(days=5)))
    booking = await bookings.book(lead, workshop, rep, "in_person")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    await Activity.filter(id=workshop.id).update(starts_at=start)
    await Booking.filter(id=booking.id).update(
        starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )
    booking = await Booking.get(id=booking.id)
    if record:
        await attendance.record_attendance(lead, booking, {"attended": "yes"})
    return booking


async def signed_in_as(client: Any, rep: Representative) -> None:
    user = await User.get(id=rep.user_id)
    client.http.cookies.set("coprod_session", await auth.start_session(user))


GOOD = {"rating": "4", "listened_to": "yes", "access_met": "not_needed", "comments": "Kind."}


# --------------------------------------------------------------------------- the invitation


async def test_attendance_asks_them_once_by_email_even_when_corrected(scene, mailbox):
    rep = await person(scene.lead, "Ada Lovelace")
    booking = await attended(scene.lead, rep)
    # The lead corrects it twice: no, then yes again with other minutes.
    await attendance.record_attendance(scene.lead, booking, {"attended": "no"})
    await attendance.record_attendance(
        scene.lead, booking, {"attended": "yes", "attended_minutes": "90"}
    )
    assert await OutboxMessage.filter(notification="activity_feedback_request").count() == 1
    await deliver_mail()
    [asked] = [m for m in mailbox.to(rep.email) if m["Subject"] == SUBJECT]
    assert mailbox.link(asked) == f"/my/bookings/{booking.id}/feedback"
    assert "Did you feel listened to?" in mailbox.text(asked)


async def test_nobody_is_asked_about_an_activity_they_missed(scene, mailbox):
    rep = await person(scene.lead, "Ada Lovelace")
    booking = await attended(scene.lead, rep, record=False)
    await attendance.record_attendance(scene.lead, booking, {"attended": "no"})
    assert not await OutboxMessage.filter(notification="activity_feedback_request").exists()


async def test_someone_who_chose_texts_is_asked_by_text(scene, use_notify):
    rep = await person(
        scene.lead, "Tia Text", email="", mobile="07700 900123", contact_channels=["text"]
    )
    booking = await attended(scene.lead, rep)
    await attendance.record_attendance(scene.lead, booking, {"attended": "yes"})
    await deliver_mail()
    texts = [n for n in use_notify.sent("sms") if "How did it go?" in n.body]
    assert len(texts) == 1
    assert f"/my/bookings/{booking.id}/feedback" in texts[0].body


async def test_someone_who_has_not_agreed_to_be_contacted_is_not_asked(scene):
    rep = await person(scene.lead, "Nell Noconsent", agrees=False)
    await attended(scene.lead, rep)
    assert not await OutboxMessage.filter(notification="activity_feedback_request").exists()


async def test_a_letter_says_they_can_tell_their_lead_by_phone(scene):
    rep = await person(
        scene.lead,
        "Pat Post",
        email="",
        postal_address="1 High Street\nLeeds\nLS1 1AA",
        contact_channels=["post"],
    )
    await attended(scene.lead, rep)
    letter = await OutboxMessage.get(notification="activity_feedback_request")
    assert letter.kind == "letter"
    assert "tell your involvement lead by phone" in (letter.text_body or "")


# --------------------------------------------------------------------------- answering


async def test_a_representative_answers_on_their_page_once(scene, client):
    rep = await person(scene.lead, "Ada Lovelace")
    booking = await attended(scene.lead, rep)
    await signed_in_as(client, rep)
    mine = await client.get("/my/bookings")
    assert "Tell us how it went" in mine.text
    url = f"/my/bookings/{booking.id}/feedback"
    form = await client.get(url)
    assert form.status_code == 200 and "Did you feel listened to?" in form.text
    assert "None" not in form.text

    empty = await client.post_form(url, {})
    assert empty.status_code == 422
    for message in (
        "Select how it went",
        "Select whether you felt listened to",
        "Select whether your access needs were met",
    ):
        assert message in empty.text
    assert not await ActivityFeedback.exists()

    sent = await client.post_form(url, GOOD)
    assert sent.status_code == 303 and sent.headers["location"] == f"{url}?done=1"
    given = await ActivityFeedback.get(booking_id=booking.id)
    assert (given.rating, given.listened_to, given.access_met) == (4, Agreement.YES, None)
    assert given.entered_by_id is None and given.comments == "Kind."
    thanks = await client.get(f"{url}?done=1")
    assert "Thank you for telling us" in thanks.text and "Well" in thanks.text

    again = await client.post_form(url, {**GOOD, "rating": "1"}, token_from=url)
    assert again.status_code == 200 and "already told us" in again.text
    assert await ActivityFeedback.filter(booking_id=booking.id).count() == 1
    assert (await ActivityFeedback.get(booking_id=booking.id)).rating == 4
    assert "You told us how it went" in (await client.get("/my/bookings")).text
    event = await AuditEvent.get(action="activity_feedback.give")
    assert event.on_behalf_of is None and "comments" not in (event.after or {})


async def test_only_attended_bookings_and_only_your_own(scene, client):
    ada = await person(scene.lead, "Ada Lovelace")
    bob = await person(scene.lead, "Bob Other")
    not_yet = await attended(scene.lead, ada, record=False)
    bobs = await attended(scene.lead, bob)
    await signed_in_as(client, ada)
    assert (await client.get(f"/my/bookings/{bobs.id}/feedback")).status_code == 404
    page = await client.get(f"/my/bookings/{not_yet.id}/feedback")
    assert page.status_code == 200 and "once we have marked you as there" in page.text
    refused = await client.post_form(
        f"/my/bookings/{not_yet.id}/feedback", GOOD, token_from="/my/bookings"
    )
    assert refused.status_code == 409 and not await ActivityFeedback.exists()
    # Through the service, as the API goes: a conflict, not a saved row.
    try:
        await activity_feedback.submit(await as_self(ada), not_yet.id, GOOD)
    except Conflict as exc:
        assert exc.message == activity_feedback.NOT_ATTENDED
    else:
        raise AssertionError("feedback saved for a booking not attended")


async def test_two_answers_at_once_keep_one(scene):
    rep = await person(scene.lead, "Ada Lovelace")
    booking = await attended(scene.lead, rep)
    me = await as_self(rep)
    results = await asyncio.gather(
        activity_feedback.submit(me, booking.id, GOOD),
        activity_feedback.submit(scene.lead, booking.id, {**GOOD, "rating": "2"}),
        return_exceptions=True,
    )
    saved = [r for r in results if isinstance(r, ActivityFeedback)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(saved), len(refused)) == (1, 1), results
    assert refused[0].message == activity_feedback.ALREADY
    assert await ActivityFeedback.filter(booking_id=booking.id).count() == 1
    assert await AuditEvent.filter(action="activity_feedback.give").count() == 1


# --------------------------------------------------------------------------- the lead


async def test_a_lead_records_it_for_someone_and_follows_it_up(scene, client):
    rep = await person(scene.lead, "Ada Lovelace")
    booking = await attended(scene.lead, rep)
    await sign_in(client, LEAD_EMAIL)
    page = await client.get(f"/activities/{booking.activity_id}")
    assert "Nobody has said how it went yet" in page.text
    assert f"/my/bookings/{booking.id}/feedback" in page.text
    url = f"/my/bookings/{booking.id}/feedback"
    form = await client.get(url)
    assert "How did it go for Ada Lovelace?" in form.text
    sent = await client.post_form(
        url, {"rating": "2", "listened_to": "no", "access_met": "partly", "comments": "Rushed"}
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/activities/{booking.activity_id}?done=feedback#feedback"
    given = await ActivityFeedback.get(booking_id=booking.id)
    assert given.entered_by_id == scene.lead.user.id
    event = await AuditEvent.get(action="activity_feedback.give")
    assert event.on_behalf_of == "Ada Lovelace"

    page = await client.get(f"/activities/{booking.activity_id}")
    assert "Recorded by" in page.text and "Rushed" in page.text
    assert "Not very well" in page.text and "Follow up" in page.text
    assert "1 person has said how it went. Average rating 2.0 out of 5." in page.text
    home = await client.get("/")
    assert "Feedback to follow up" in home.text
    assert "did not feel listened to, access needs only partly met" in home.text

    done = await client.post_form(
        f"/activities/{booking.activity_id}/feedback/{given.id}/followed-up",
        {},
        token_from=f"/activities/{booking.activity_id}",
    )
    assert done.status_code == 303
    assert "Feedback to follow up" not in (await client.get("/")).text
    assert "Followed up" in (await client.get(f"/activities/{booking.activity_id}")).text


async def test_a_representative_cannot_see_the_activity_page_or_mark_follow_ups(scene, client):
    rep = await person(scene.lead, "Ada Lovelace")
    booking = await attended(scene.lead, rep)
    given = await activity_feedback.submit(await as_self(rep), booking.id, GOOD)
    await signed_in_as(client, rep)
    assert (await client.get(f"/activities/{booking.activity_id}")).status_code == 403
    refused = await client.post_form(
        f"/activities/{booking.activity_id}/feedback/{given.id}/followed-up",
        {},
        token_from="/my/bookings",
    )
    assert refused.status_code == 403


# --------------------------------------------------------------------------- the rules


def test_what_a_lead_follows_up():
    cases = [
        ("yes", "yes", []),
        ("yes", None, []),
        ("no", None, ["did not feel listened to"]),
        ("partly", "yes", ["felt only partly listened to"]),
        ("yes", "no", ["access needs not met"]),
        ("no", "partly", ["did not feel listened to", "access needs only partly met"]),
    ]
    for listened, access, reasons in cases:
        assert rules.follow_up(listened, access) == reasons, (listened, access)


def test_a_summary_counts_access_only_among_those_who_needed_it():
    summary = rules.summarise([(5, "yes", None), (4, "yes", "yes"), (2, "no", "no")])
    assert summary.given == 3
    assert summary.average_rating == 3.7
    assert summary.listened_percent == 67
    assert (summary.needed_access, summary.access_met_percent) == (2, 50)
    assert rules.summarise([]).average_rating is None


async def test_what_representatives_read_is_plain_enough_for_a_nine_year_old(scene, client):
    """Flesch-Kincaid grade 4 is about age 9 to 10: the form and the email read below it."""
    rep = await person(scene.lead, "Ada Lovelace")
    booking = await attended(scene.lead, rep)
    await signed_in_as(client, rep)
    form = (await client.get(f"/my/bookings/{booking.id}/feedback")).text
    main = form.split('id="maincontent"', 1)[1].split("</main>", 1)[0]
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main.split(">", 1)[1]))
    message = await OutboxMessage.get(notification="activity_feedback_request")
    for text in (words, message.text_body or ""):
        assert textstat.flesch_kincaid_grade(text) < 4, text
