"""Bookings follow the answers, and changes keep the rules, through the JSON API and the HTML
pages a lead uses: the app in-process, real sign-in, a real database and a real SMTP server."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from coprod import clock
from coprod.domain.scheduling import Refusal
from coprod.models import AuditEvent, Booking, BookingStatus, Contract
from tests.conftest import deliver_mail
from tests.test_activities_api import at, book, booked, create_activity, utc
from tests.test_bookings import calendar_of, only_message
from tests.test_representatives_api import create_contract, create_rep, errors_of, lead_of

CAPTIONS = "I need captions"


def in_days(days: int) -> str:
    return (clock.today() + dt.timedelta(days=days)).isoformat()


async def contactable(client: Any, name: str, **contract: Any) -> dict[str, Any]:
    """Someone on email with a contract, who has agreed to be contacted about involvement."""
    slug = name.lower().replace(" ", ".")
    rep = await create_rep(
        client, full_name=name, email=f"{slug}@people.example", contact_channels=["email"]
    )
    await create_contract(client, rep["id"], starts_on=clock.today().isoformat(), **contract)
    page = f"/representatives/{rep['id']}"
    given = await client.post_form(f"{page}/consents", {"purpose": "contact"}, token_from=page)
    assert given.status_code == 303, given.text
    return rep


async def poll_answered(
    client: Any, people: dict[str, dict[str, Any]] | None = None
) -> tuple[dict[str, Any], int, dict[str, dict[str, Any]]]:
    """A poll with two times. For the first: Ada yes (with a note), Bob no, Cy no answer."""
    activity = await create_activity(client)
    added = await client.api(
        "POST", f"/api/v1/activities/{activity['id']}/options", {"options": [at(14), at(15)]}
    )
    first, second = (o["id"] for o in added.json()["items"])
    people = people or {
        name: await contactable(client, name) for name in ("Ada Able", "Bob Baker", "Cy Young")
    }
    invited = await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/invitations",
        {"representative_ids": [p["id"] for p in people.values()]},
    )
    assert invited.status_code == 201, invited.text
    for name, answers, comment in (
        ("Ada Able", {str(first): "yes", str(second): "no"}, CAPTIONS),
        ("Bob Baker", {str(first): "no", str(second): "yes"}, None),
    ):
        if name not in people:
            continue
        answered = await client.api(
            "POST",
            f"/api/v1/activities/{activity['id']}/answers",
            {
                "representative_id": people[name]["id"],
                "answers": answers,
                "mode": "video",
                "comment": comment,
            },
        )
        assert answered.status_code == 200, answered.text
    await deliver_mail()
    return activity, first, people


# --------------------------------------------------------------------------- the API


async def test_api_never_books_someone_who_answered_no_and_says_why(client, world, mailbox):
    await lead_of(world, client)
    activity, first, people = await poll_answered(client)
    ada, bob = people["Ada Able"], people["Bob Baker"]
    mailbox.messages.clear()

    finalised = await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/finalise",
        {"option_id": first, "representative_ids": [ada["id"], bob["id"]]},
    )
    assert finalised.status_code == 200, finalised.text
    items = {i["full_name"]: i for i in finalised.json()["items"]}
    assert items["Ada Able"]["status"] == "confirmed" and items["Ada Able"]["mode"] == "video"
    assert items["Bob Baker"]["booking_id"] is None
    assert items["Bob Baker"]["refused"] == [Refusal.ANSWERED_NO.value]
    assert items["Cy Young"]["refused"] == [Refusal.NOT_ANSWERED.value]
    assert await deliver_mail() == 1
    assert [m["To"] for m in mailbox.messages] == ["ada.able@people.example"]
    assert mailbox.to("bob.baker@people.example") == []


async def test_api_without_a_pick_books_yes_and_if_need_be_and_a_picked_non_answerer_gets_a_mode(
    client, world, mailbox
):
    await lead_of(world, client)
    activity, first, people = await poll_answered(client)
    finalised = await client.api(
        "POST", f"/api/v1/activities/{activity['id']}/finalise", {"option_id": first}
    )
    assert finalised.status_code == 200, finalised.text
    booked_names = {i["full_name"] for i in finalised.json()["items"] if i["booking_id"]}
    assert booked_names == {"Ada Able"}

    # Another poll, where the lead explicitly picks Cy, who never answered.
    other, other_first, _ = await poll_answered(client, people)
    picked = await client.api(
        "POST",
        f"/api/v1/activities/{other['id']}/finalise",
        {"option_id": other_first, "representative_ids": [people["Cy Young"]["id"]]},
    )
    [cy] = [i for i in picked.json()["items"] if i["booking_id"]]
    assert cy["full_name"] == "Cy Young" and cy["mode"] == "phone"
    assert "had not said how they would join" in cy["note"]


async def test_api_move_is_409_with_who_and_why_then_the_decisions_are_carried_out(
    client, world, mailbox
):
    await lead_of(world, client)
    activity = await create_activity(client, starts_at=at(20))
    ada = await contactable(client, "Ada Able")
    bob = await contactable(
        client, "Bob Baker", ends_on=(clock.today() + dt.timedelta(days=25)).isoformat()
    )
    cy = await contactable(client, "Cy Young")
    bookings_of = {
        r["full_name"]: await booked(client, activity["id"], r["id"]) for r in (ada, bob, cy)
    }
    # Cy is already booked elsewhere at the new time.
    elsewhere = await create_activity(client, title="Panel", starts_at=at(30, 11))
    assert (await book(client, elsewhere["id"], cy["id"])).status_code == 201
    await deliver_mail()
    mailbox.messages.clear()
    path = f"/api/v1/activities/{activity['id']}"

    refused = await client.api("PATCH", path, {"starts_at": at(30)})
    assert refused.status_code == 409, refused.text
    conflicts = {c["full_name"]: c for c in refused.json()["conflicts"]}
    assert set(conflicts) == {"Bob Baker", "Cy Young"}
    assert conflicts["Bob Baker"]["reasons"] == [Refusal.NO_CONTRACT.value]
    assert conflicts["Cy Young"]["reasons"] == [Refusal.OVERLAP.value]
    assert conflicts["Bob Baker"]["booking_id"] == bookings_of["Bob Baker"]["id"]
    bob_field = f"decision_{bookings_of['Bob Baker']['id']}"
    assert Refusal.NO_CONTRACT.value in errors_of(refused)[bob_field]
    assert (await client.get(path)).json()["starts_at"] == utc(at(20)).isoformat()
    assert await deliver_mail() == 0

    no_reason = await client.api(
        "PATCH",
        path,
        {
            "starts_at": at(30),
            "decisions": [
                {"booking_id": bookings_of["Bob Baker"]["id"], "decision": "cancel"},
                {"booking_id": bookings_of["Cy Young"]["id"], "decision": "keep"},
            ],
        },
    )
    assert no_reason.status_code == 422, no_reason.text
    assert errors_of(no_reason) == {
        f"reason_{bookings_of['Cy Young']['id']}": "Enter why you are keeping Cy Young's booking"
    }

    moved = await client.api(
        "PATCH",
        path,
        {
            "starts_at": at(30),
            "decisions": [
                {"booking_id": bookings_of["Bob Baker"]["id"], "decision": "cancel"},
                {
                    "booking_id": bookings_of["Cy Young"]["id"],
                    "decision": "keep",
                    "reason": "The panel finishes early",
                },
            ],
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"] == utc(at(30)).isoformat()
    statuses = {name: (await Booking.get(id=b["id"])).status for name, b in bookings_of.items()}
    assert statuses == {
        "Ada Able": BookingStatus.CONFIRMED,
        "Bob Baker": BookingStatus.CANCELLED,
        "Cy Young": BookingStatus.CONFIRMED,
    }
    assert await AuditEvent.filter(action="booking.keep").count() == 1
    assert await deliver_mail() == 3
    method, _ = calendar_of(only_message(mailbox, "bob.baker@people.example"))
    assert method == "CANCEL"


async def test_api_ending_a_contract_early_with_later_bookings(client, world, mailbox):
    await lead_of(world, client)
    ada = await contactable(client, "Ada Able")
    [contract] = await Contract.filter(representative_id=ada["id"])
    later = await create_activity(client, starts_at=at(12))
    booking = await booked(client, later["id"], ada["id"])
    await deliver_mail()
    mailbox.messages.clear()
    path = f"/api/v1/contracts/{contract.id}/end"
    body = {"ended_on": (clock.today() + dt.timedelta(days=5)).isoformat(), "reason": "Moving away"}

    refused = await client.api("POST", path, body)
    assert refused.status_code == 409, refused.text
    [conflict] = refused.json()["conflicts"]
    assert conflict["booking_id"] == booking["id"]
    assert conflict["reasons"] == [Refusal.NO_CONTRACT.value]
    await contract.refresh_from_db()
    assert contract.ended_on is None

    ended = await client.api(
        "POST",
        path,
        {**body, "decisions": [{"booking_id": booking["id"], "decision": "cancel"}]},
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_on"] == body["ended_on"]
    assert (await Booking.get(id=booking["id"])).status == BookingStatus.CANCELLED
    assert await deliver_mail() == 1
    assert len(mailbox.to("ada.able@people.example")) == 1


# --------------------------------------------------------------------------- the pages


async def test_the_grid_shows_notes_and_no_best_until_someone_answers(client, world, mailbox):
    await lead_of(world, client)
    activity = await create_activity(client)
    await client.api(
        "POST", f"/api/v1/activities/{activity['id']}/options", {"options": [at(14), at(15)]}
    )
    ada = await contactable(client, "Ada Able")
    await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/invitations",
        {"representative_ids": [ada["id"]]},
    )
    page = (await client.get(f"/activities/{activity['id']}")).text
    assert "Best so far" not in page
    assert "checked" not in page.split("Which time?")[1].split("</fieldset>")[0]

    activity, _, _ = await poll_answered(client, {"Ada Able": ada})
    page = (await client.get(f"/activities/{activity['id']}")).text
    assert "Best so far" in page
    assert f"Their note: {CAPTIONS}" in page


async def test_choosing_a_time_then_confirming_who_to_book_on_the_page(client, world, mailbox):
    await lead_of(world, client)
    activity, first, people = await poll_answered(client)
    ada, bob, cy = people.values()
    confirm = await client.get(f"/activities/{activity['id']}/finalise?option_id={first}")
    assert confirm.status_code == 200
    html = confirm.text

    def box(rep: dict[str, Any]) -> str:
        found = [
            tag
            for tag in re.findall(r"<input[^>]*>", html)
            if 'name="representative_ids"' in tag and f'value="{rep["id"]}"' in tag
        ]
        return found[0] if found else ""

    assert "checked" in box(ada)
    assert "checked" not in box(cy)
    assert box(ada) and box(cy) and not box(bob)
    assert "Bob Baker: they answered no to this time" in html
    assert f"Their note: {CAPTIONS}" in html

    # Whatever the form sends, Bob is not booked; the page lists who was and was not.
    mailbox.messages.clear()
    done = await client.post_form(
        f"/activities/{activity['id']}/finalise",
        {"option_id": first, "representative_ids": [ada["id"], bob["id"]]},
        token_from=f"/activities/{activity['id']}/finalise?option_id={first}",
    )
    assert done.status_code == 200, done.text
    assert "Ada Able: confirmed" in done.text
    assert f"Bob Baker: {Refusal.ANSWERED_NO.value}." in done.text
    assert f"Cy Young: {Refusal.NOT_ANSWERED.value}." in done.text
    assert await deliver_mail() == 1
    assert mailbox.to("bob.baker@people.example") == []


async def test_unticking_everyone_on_the_confirmation_step_is_an_error(client, world, mailbox):
    await lead_of(world, client)
    activity, first, _ = await poll_answered(client)
    step = f"/activities/{activity['id']}/finalise?option_id={first}"
    none = await client.post_form(
        f"/activities/{activity['id']}/finalise", {"option_id": first}, token_from=step
    )
    assert none.status_code == 422
    assert "Select who will take part" in none.text
    assert "Who will you book?" in none.text
    bad = await client.get(f"/activities/{activity['id']}/finalise?option_id=abc")
    assert bad.status_code == 422 and "Select the time you have chosen" in bad.text


async def test_moving_on_the_page_asks_the_lead_to_decide_for_each_person(client, world, mailbox):
    await lead_of(world, client)
    activity = await create_activity(client, starts_at=at(20))
    bob = await contactable(
        client, "Bob Baker", ends_on=(clock.today() + dt.timedelta(days=25)).isoformat()
    )
    booking = await booked(client, activity["id"], bob["id"])
    page = f"/activities/{activity['id']}"

    asked = await client.post_form(f"{page}/reschedule", {"starts_at": at(30)}, token_from=page)
    assert asked.status_code == 409
    assert "Before you move" in asked.text
    assert Refusal.NO_CONTRACT.value in asked.text
    assert f'name="decision_{booking["id"]}"' in asked.text

    moved = await client.post_form(
        f"{page}/reschedule",
        {
            "starts_at": at(30),
            f"decision_{booking['id']}": "keep",
            f"reason_{booking['id']}": "Their renewal is signed next week",
        },
        token_from=page,
    )
    assert moved.status_code == 303
    moved_booking = await Booking.get(id=booking["id"])
    assert moved_booking.starts_at == utc(at(30))
    [kept] = await AuditEvent.filter(action="booking.keep")
    assert kept.after["reason"] == "Their renewal is signed next week"


async def test_ending_a_contract_on_the_page_lists_later_bookings(client, world, mailbox):
    await lead_of(world, client)
    ada = await contactable(client, "Ada Able")
    [contract] = await Contract.filter(representative_id=ada["id"])
    later = await create_activity(client, title="Peer review visit", starts_at=at(12))
    booking = await booked(client, later["id"], ada["id"])
    page = f"/contracts/{contract.id}/end"

    shown = await client.get(page)
    assert "Their bookings after the last day" in shown.text
    assert "Peer review visit" in shown.text

    undecided = await client.post_form(page, {"reason": "Moving away"})
    assert undecided.status_code == 409
    assert f'name="decision_{booking["id"]}"' in undecided.text
    assert "There is a problem" not in undecided.text

    half = await client.post_form(
        page, {"reason": "Moving away", f"decision_{booking['id']}": "keep"}
    )
    assert half.status_code == 422
    assert "Enter why you are keeping Ada Able&#39;s booking" in half.text
    await contract.refresh_from_db()
    assert contract.ended_on is None

    ended = await client.post_form(
        page, {"reason": "Moving away", f"decision_{booking['id']}": "cancel"}
    )
    assert ended.status_code == 303
    assert (await Booking.get(id=booking["id"])).status == BookingStatus.CANCELLED
