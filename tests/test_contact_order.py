"""The order of a person's ways of being contacted decides where a message goes: chosen on the
profile page (first choice, second choice...) or given as an ordered list to the API, and shown
on the profile as a sentence."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod import clock
from coprod.models import OutboxMessage, Representative, Role
from coprod.services import bookings
from coprod.services.auth import actor_for
from tests.conftest import sign_in
from tests.test_bookings import activity, local_iso, person

MOBILE = "07700 900123"


async def edit_form(rep: Representative, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "full_name": rep.full_name,
        "representative_type": "patient",
        "email": rep.email,
        "mobile": rep.mobile,
        "payment_preference": "paid",
        "preferred_modes": "in_person",
    }
    return {**form, **changes}


async def booked_by(lead: Any, rep: Representative, days_ahead: int) -> OutboxMessage:
    """Book them onto a new activity; the message that tells them."""
    await rep.refresh_from_db()  # as the service is handed it: as the database has it now
    day = clock.today() + dt.timedelta(days=days_ahead)
    meeting = await activity(lead, local_iso(day), "in_person", title=f"Meeting {days_ahead}")
    before = await OutboxMessage.filter(representative_id=rep.id).count()
    await bookings.book(lead, meeting, rep, "in_person")
    [message] = await OutboxMessage.filter(representative_id=rep.id).order_by("id").offset(before)
    assert message.notification == "booking_confirmed"
    return message


async def test_the_first_choice_on_the_page_or_in_the_api_is_where_messages_go(client, world):
    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    lead = await actor_for(user, org.id)
    rep = await person(lead, "Tess Order", mobile=MOBILE, contact_channels=["email", "text"])
    await sign_in(client, "lead@trust.example")
    profile = f"/representatives/{rep.id}"
    assert "Email first, then text message" in (await client.get(profile)).text
    assert (await booked_by(lead, rep, 10)).kind == "email"

    # On the page: text is now the first choice, email the second.
    saved = await client.post_form(
        f"{profile}/edit",
        await edit_form(rep, contact_channel_1="text", contact_channel_2="email"),
    )
    assert saved.status_code == 303, saved.text
    await rep.refresh_from_db()
    assert rep.contact_channels == ["text", "email"]
    assert "Text message first, then email" in (await client.get(profile)).text
    by_text = await booked_by(lead, rep, 20)
    assert (by_text.kind, by_text.to_address) == ("text", MOBILE)

    # In the API: the list's order is the person's order.
    changed = await client.api(
        "PATCH", f"/api/v1/representatives/{rep.id}", {"contact_channels": ["post", "email"]}
    )
    assert changed.status_code == 422
    assert changed.json()["errors"] == [
        {
            "field": "postal_address",
            "message": "Enter a postal address, or choose a different way to contact them",
        }
    ]
    changed = await client.api(
        "PATCH", f"/api/v1/representatives/{rep.id}", {"contact_channels": ["email", "text"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["contact_channels"] == ["email", "text"]
    assert "Email first, then text message" in (await client.get(profile)).text
    assert (await booked_by(lead, rep, 30)).kind == "email"


async def test_one_way_only_reads_as_only(client, world):
    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    lead = await actor_for(user, org.id)
    rep = await person(
        lead, "Phil Phone", email="", phone="01632 960 001", contact_channels=["phone"]
    )
    await sign_in(client, "lead@trust.example")
    assert "A phone call only" in (await client.get(f"/representatives/{rep.id}")).text


async def test_a_first_choice_needs_its_details_named_on_the_page(client, world):
    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    lead = await actor_for(user, org.id)
    rep = await person(lead, "Tess Order")
    await sign_in(client, "lead@trust.example")
    refused = await client.post_form(
        f"/representatives/{rep.id}/edit",
        await edit_form(rep, mobile="", contact_channel_1="text", contact_channel_2="email"),
    )
    assert refused.status_code == 422
    assert 'href="#mobile"' in refused.text
    assert "Enter a mobile number for texts, or choose a different way to contact them" in (
        refused.text
    )
    await rep.refresh_from_db()
    assert rep.contact_channels == ["email"]


async def test_a_way_chosen_twice_is_refused_on_the_page_and_in_the_api(client, world):
    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    lead = await actor_for(user, org.id)
    rep = await person(lead, "Tess Order", mobile=MOBILE, contact_channels=["email", "text"])
    await sign_in(client, "lead@trust.example")
    refused = await client.post_form(
        f"/representatives/{rep.id}/edit",
        await edit_form(
            rep, contact_channel_1="text", contact_channel_2="email", contact_channel_3="text"
        ),
    )
    assert refused.status_code == 422
    assert 'href="#contact_channels"' in refused.text
    assert "Choose each way to contact them once" in refused.text
    by_api = await client.api(
        "PATCH", f"/api/v1/representatives/{rep.id}", {"contact_channels": ["text", "text"]}
    )
    assert by_api.status_code == 422
    assert by_api.json()["errors"] == [
        {"field": "contact_channels", "message": "Choose each way to contact them once"}
    ]
    await rep.refresh_from_db()
    assert rep.contact_channels == ["email", "text"]
