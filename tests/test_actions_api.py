"""The feedback API: champions, themes, new feedback and "You said, we did" actions, with the
same rules and messages as the pages; and a done action telling the people linked to it, from
the outbox through the worker to the real SMTP server and the Notify stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from coprod.models import OutboxMessage
from coprod.models.feedback import FeedbackAction, FeedbackTheme
from coprod.services import projects
from tests import feedback_rows
from tests.conftest import deliver_mail, sign_in
from tests.openapi_doc import assert_described, operations_tagged
from tests.test_actions import ADMIN, CHAMPION, ELSEWHERE, LEAD, REPORTER, Place, make_place
from tests.test_bookings import person

A = "/api/v1"


@pytest.fixture
async def place(world: Any) -> Place:
    return await make_place(world)


async def champion_client(client: Any, place: Place) -> Any:
    await feedback_rows.make_champion(place.lead, place.team.id, place.champion.id)
    await sign_in(client, CHAMPION)
    return client


def action_body(place: Place, **changes: Any) -> dict[str, Any]:
    return {
        "team_id": place.team.id,
        "you_said": "The waiting room is cold",
        "we_did": "We fixed the heating",
        "owner_id": place.champion.id,
        **changes,
    }


async def test_choosing_a_champion_by_the_api(client, make_client, place):
    url = f"{A}/teams/{place.team.id}/feedback-champion"
    await sign_in(client, ADMIN)
    chosen = await client.api("PUT", url, {"champion_id": place.champion.id})
    assert chosen.status_code == 200
    assert chosen.json() == {
        "id": place.team.id,
        "name": "Crisis team",
        "feedback_champion_id": place.champion.id,
    }
    wrong = await client.api("PUT", url, {"champion_id": 999999})
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {"field": "champion_id", "message": "Select the feedback champion from the list of staff"}
    ]
    far = await client.api(
        "PUT", f"{A}/teams/{place.far_team.id}/feedback-champion", {"champion_id": None}
    )
    assert far.status_code == 404

    reporter = make_client()
    await sign_in(reporter, REPORTER)
    assert (await reporter.api("PUT", url, {"champion_id": None})).status_code == 403

    lead = make_client()
    await sign_in(lead, LEAD)
    cleared = await lead.api("PUT", url, {"champion_id": None})
    assert cleared.json()["feedback_champion_id"] is None


async def test_themes_new_feedback_and_reading_by_the_api(client, make_client, place):
    survey = await feedback_rows.survey(place.lead, place.team.id)
    cold = await feedback_rows.response(
        place.lead, survey, "Cold room", paper=True, contact="Sid Secret"
    )
    late = await feedback_rows.response(place.lead, survey, "Ran late")
    await champion_client(client, place)

    listed = await client.get(f"{A}/teams/{place.team.id}/new-feedback?limit=1")
    assert listed.status_code == 200
    first = listed.json()
    assert [r["id"] for r in first["items"]] == [late.id]
    rest = await client.get(
        f"{A}/teams/{place.team.id}/new-feedback?limit=1&cursor={first['next_cursor']}"
    )
    [paper] = rest.json()["items"]
    assert paper["source"] == "paper"
    assert paper["answers"] == [
        {"question": "How good was your care?", "answer": "3 out of 5"},
        {"question": "What could we do better?", "answer": "Cold room"},
    ]
    assert "Sid Secret" not in rest.text and "contact" not in rest.text

    made = await client.api("POST", f"{A}/feedback-themes", {"name": "Comfort"})
    assert made.status_code == 201
    again = await client.api("POST", f"{A}/feedback-themes", {"name": "comfort"})
    assert again.status_code == 422
    assert again.json()["errors"] == [
        {"field": "name", "message": "There is already a theme called comfort"}
    ]
    tagged = await client.api(
        "PUT",
        f"{A}/teams/{place.team.id}/new-feedback/{cold.id}/themes",
        {"theme_ids": [made.json()["id"]], "new_theme": "Buildings"},
    )
    assert tagged.status_code == 200
    assert [t["name"] for t in tagged.json()["themes"]] == ["Buildings", "Comfort"]
    themes = (await client.get(f"{A}/feedback-themes")).json()["items"]
    assert [t["name"] for t in themes] == ["Buildings", "Comfort"]

    read = await client.api(
        "POST", f"{A}/teams/{place.team.id}/new-feedback/read", {"response_ids": [cold.id]}
    )
    assert read.json() == {"marked": 1}
    left = (await client.get(f"{A}/teams/{place.team.id}/new-feedback")).json()["items"]
    assert [r["id"] for r in left] == [late.id]

    # Another team's feedback is forbidden to this champion; another organisation's not found.
    assert (await client.get(f"{A}/teams/{place.other_team.id}/new-feedback")).status_code == 403
    assert (await client.get(f"{A}/teams/{place.far_team.id}/new-feedback")).status_code == 404
    reporter = make_client()
    await sign_in(reporter, REPORTER)
    assert (await reporter.get(f"{A}/feedback-themes")).status_code == 403
    assert (await reporter.get(f"{A}/teams/{place.team.id}/new-feedback")).status_code == 403
    assert await FeedbackTheme.filter(organisation_id=place.org.id).count() == 2


async def test_actions_by_the_api_keep_the_pages_rules_and_messages(client, place):
    rep = await person(place.lead, "Grace Hopper")
    await champion_client(client, place)
    refused = await client.api(
        "POST",
        f"{A}/actions",
        action_body(
            place,
            you_said=f"{rep.full_name} was cold",
            we_did="Call 01632 960001",
            status="not_possible",
        ),
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "field": "you_said",
            "message": "Take out a representative's name. This is shown in public, so it must "
            "not say who anyone is or how to reach them",
        },
        {
            "field": "we_did",
            "message": "Take out a phone number. This is shown in public, so it must not say who "
            "anyone is or how to reach them",
        },
        {
            "field": "not_possible_reason",
            "message": "Say why this is not possible: the board shows it",
        },
    ]
    missing = await client.api("POST", f"{A}/actions", {"team_id": place.team.id})
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {"you_said", "we_did", "owner_id"}
    assert not await FeedbackAction.exists()

    made = await client.api("POST", f"{A}/actions", action_body(place))
    assert made.status_code == 201
    action = made.json()
    assert action["status"] == "planned" and action["on_board"] is True
    changed = await client.api(
        "PATCH",
        f"{A}/actions/{action['id']}",
        {"status": "not_possible", "not_possible_reason": "No money this year"},
    )
    assert changed.status_code == 200
    assert changed.json()["not_possible_reason"] == "No money this year"
    assert changed.json()["we_did"] == "We fixed the heating"
    kept = await client.api("PATCH", f"{A}/actions/{action['id']}", {"on_board": None})
    assert kept.json()["on_board"] is True
    hidden = await client.api("PATCH", f"{A}/actions/{action['id']}", {"on_board": False})
    assert hidden.json()["on_board"] is False
    listed = await client.get(f"{A}/actions?team_id={place.team.id}&status=not_possible")
    assert [a["id"] for a in listed.json()["items"]] == [action["id"]]
    assert (await client.get(f"{A}/actions?team_id={place.other_team.id}")).status_code == 403


async def test_links_to_another_organisation_are_not_found(client, world, place):
    from coprod.models import User
    from coprod.services.auth import actor_for

    far_lead = await actor_for(
        await User.get(email=ELSEWHERE),
        place.far_team.organisation_id,  # type: ignore[attr-defined]
    )
    far_project = await projects.create_project(far_lead, {"name": "Far project"})
    await champion_client(client, place)
    for links in ({"project_ids": [far_project.id]}, {"activity_ids": [999999]}):
        refused = await client.api("POST", f"{A}/actions", action_body(place, **links))
        assert refused.status_code == 404
    far_team = await client.api(
        "POST", f"{A}/actions", action_body(place, team_id=place.far_team.id)
    )
    assert far_team.status_code == 404
    assert not await FeedbackAction.exists()


async def test_a_done_action_tells_each_linked_person_once_by_their_own_way(
    client,
    place,
    mailbox,
    use_notify,
):
    lead = place.lead
    emailed = await person(lead, "Ada Lovelace")
    texted = await person(
        lead, "Tia Text", email="", mobile="07700 900123", contact_channels=["text"]
    )
    unconsented = await person(lead, "Una Consent", agrees=False)
    commenter = await person(lead, "Carl Comment")
    elsewhere = await person(lead, "Nell Notlinked")
    project = await projects.create_project(lead, {"name": "Better waiting rooms"})
    linked = await feedback_rows.attended_activity(
        lead, [emailed, unconsented], team_id=place.team.id
    )
    # Ada took part in the project's activity too: she is still told only once.
    await feedback_rows.attended_activity(
        lead, [texted, emailed], title="Project day", project_id=project.id
    )
    commented = await feedback_rows.attended_activity(lead, [commenter], title="Ward visit")
    feedback = await feedback_rows.activity_feedback(commented, commenter)
    await feedback_rows.attended_activity(lead, [elsewhere], title="Unlinked meeting")
    await deliver_mail()  # the bookings' own messages
    mailbox.messages.clear()
    use_notify.reset()

    await champion_client(client, place)
    made = await client.api(
        "POST",
        f"{A}/actions",
        action_body(
            place,
            status="in_progress",
            activity_ids=[linked.id],
            project_ids=[project.id],
            feedback_ids=[feedback.id],
        ),
    )
    assert made.status_code == 201, made.text
    action_url = f"{A}/actions/{made.json()['id']}"
    assert not await OutboxMessage.filter(notification="action_done").exists()

    done = await client.api("PATCH", action_url, {"status": "done"})
    assert done.status_code == 200 and done.json()["done_on"]
    assert await deliver_mail() == 3
    told = sorted(m["To"] for m in mailbox.messages)
    assert told == sorted([commenter.email, emailed.email])
    message = mailbox.to(emailed.email)[0]
    body = mailbox.text(message)
    assert "The waiting room is cold" in body and "We fixed the heating" in body
    assert "Thank you" in body
    assert f"/you-said-we-did/{place.org.slug}/{place.team.id}" in body
    [sms] = use_notify.sent("sms")
    assert sms.to.replace(" ", "").endswith("7700900123")
    assert "thank you for helping Crisis team" in sms.body

    # Back from done, and done again: nobody is told twice.
    await client.api("PATCH", action_url, {"status": "in_progress"})
    again = await client.api("PATCH", action_url, {"status": "done"})
    assert again.status_code == 200
    assert await deliver_mail() == 0
    assert len(mailbox.messages) == 2 and len(use_notify.sent("sms")) == 1
    assert await OutboxMessage.filter(notification="action_done").count() == 3
    for never in (unconsented, elsewhere):
        assert not await OutboxMessage.filter(
            representative_id=never.id, notification="action_done"
        ).exists()


async def test_an_action_made_done_tells_people_at_once(client, place, mailbox):
    rep = await person(place.lead, "Dot Done")
    activity = await feedback_rows.attended_activity(place.lead, [rep])
    await deliver_mail()
    mailbox.messages.clear()
    await champion_client(client, place)
    made = await client.api(
        "POST", f"{A}/actions", action_body(place, status="done", activity_ids=[activity.id])
    )
    assert made.status_code == 201
    assert await deliver_mail() == 1
    assert [m["To"] for m in mailbox.messages] == [rep.email]


async def test_the_operations_are_published_and_described(client):
    doc = (await client.get(f"{A}/openapi.json")).json()
    expected = {
        ("put", "/api/v1/teams/{id}/feedback-champion"),
        ("get", "/api/v1/feedback-themes"),
        ("post", "/api/v1/feedback-themes"),
        ("get", "/api/v1/teams/{id}/new-feedback"),
        ("post", "/api/v1/teams/{id}/new-feedback/read"),
        ("put", "/api/v1/teams/{id}/new-feedback/{response_id}/themes"),
        ("get", "/api/v1/actions"),
        ("post", "/api/v1/actions"),
        ("get", "/api/v1/actions/{id}"),
        ("patch", "/api/v1/actions/{id}"),
    }
    assert operations_tagged(doc, "actions") == expected
    assert_described(doc, expected)
