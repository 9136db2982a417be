"""Planning an activity with times to offer, paging the lists, and the choices before
finalising, through the API."""

from __future__ import annotations

from coprod.models import Activity, AuditEvent, Role, TimeOption
from tests.conftest import sign_in
from tests.test_activities_api import (
    activity_body,
    at,
    contracted_rep,
    create_activity,
    utc,
)
from tests.test_representatives_api import errors_of, lead_of


async def test_planning_with_times_to_offer_saves_both_as_the_page_does(client, world):
    await lead_of(world, client)
    times = [at(14, 10), at(15, 14)]
    created = await client.api("POST", "/api/v1/activities", activity_body(options=times))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "planning" and created.json()["starts_at"] is None
    options = await TimeOption.filter(activity_id=created.json()["id"]).order_by("starts_at")
    assert [o.starts_at for o in options] == [utc(t) for t in times]
    assert {e.action for e in await AuditEvent.all()} >= {"activity.create", "activity.options"}

    # The page's form plans the same way, through the same use case.
    page = await client.post_form(
        "/activities/new",
        {
            **{k: v for k, v in activity_body().items() if not isinstance(v, bool)},
            "video": "yes",
            "phone": "yes",
            "timing": "poll",
            "option_1": at(20, 10),
            "option_2": at(21, 10),
        },
    )
    assert page.status_code == 303
    assert await Activity.all().count() == 2


async def test_a_plan_that_breaks_a_rule_saves_nothing(client, world):
    await lead_of(world, client)
    one_time = await client.api("POST", "/api/v1/activities", activity_body(options=[at(3)]))
    assert one_time.status_code == 422
    assert errors_of(one_time) == {"options": "Offer at least two times, so people can choose"}
    both = await client.api(
        "POST", "/api/v1/activities", activity_body(starts_at=at(3), options=[at(4), at(5)])
    )
    assert both.status_code == 422 and set(errors_of(both)) == {"options"}
    too_many = await client.api(
        "POST", "/api/v1/activities", activity_body(options=[at(3, h) for h in range(21)])
    )
    assert errors_of(too_many) == {"options": "The times to offer must have 20 items or fewer"}
    unknown = await client.api("POST", "/api/v1/activities", activity_body(timing="fixed"))
    assert errors_of(unknown) == {"timing": "Remove this field: it is not one this takes"}
    # The activity is not saved without its times.
    assert await Activity.all().count() == 0
    assert await TimeOption.all().count() == 0


async def test_activities_and_options_page_by_cursor(client, world):
    await lead_of(world, client)
    later = await create_activity(client, title="Later", starts_at=at(20))
    sooner = await create_activity(client, title="Sooner", starts_at=at(10))
    planning = await create_activity(client, title="Planning", options=[at(5), at(6), at(7)])

    first = (await client.get("/api/v1/activities?limit=2")).json()
    assert [a["id"] for a in first["items"]] == [sooner["id"], later["id"]]
    rest = (await client.get(f"/api/v1/activities?limit=2&cursor={first['next_cursor']}")).json()
    assert [a["id"] for a in rest["items"]] == [planning["id"]] and rest["next_cursor"] is None

    url = f"/api/v1/activities/{planning['id']}/options"
    page_one = (await client.get(f"{url}?limit=2")).json()
    page_two = (await client.get(f"{url}?limit=2&cursor={page_one['next_cursor']}")).json()
    starts = [o["starts_at"] for o in page_one["items"] + page_two["items"]]
    assert starts == [utc(t).isoformat() for t in (at(5), at(6), at(7))]

    bad = await client.get("/api/v1/activities?limit=500&cursor=made-up")
    assert bad.status_code == 422 and set(errors_of(bad)) == {"limit"}
    forged = await client.get("/api/v1/activities?cursor=made-up")
    assert forged.status_code == 422 and set(errors_of(forged)) == {"cursor"}


async def test_the_choices_before_finalising_show_each_answer(client, make_client, world):
    org = await lead_of(world, client)
    ann = await contracted_rep(client, full_name="Ann Able")
    bob = await contracted_rep(client, full_name="Bob Baker")
    activity = await create_activity(client, options=[at(5), at(6)])
    options = (await client.get(f"/api/v1/activities/{activity['id']}/options")).json()["items"]
    first, second = (o["id"] for o in options)
    await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/invitations",
        {"representative_ids": [ann["id"], bob["id"]]},
    )
    answered = await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/answers",
        {
            "representative_id": bob["id"],
            "answers": {str(first): "no", str(second): "yes"},
            "mode": "video",
        },
    )
    assert answered.status_code == 200, answered.text
    url = f"/api/v1/activities/{activity['id']}/options/{first}/choices"
    shown = await client.get(url)
    assert shown.status_code == 200, shown.text
    assert [
        (c["full_name"], c["answer"], c["bookable"], c["ticked"]) for c in shown.json()["items"]
    ] == [("Ann Able", None, True, False), ("Bob Baker", "no", False, False)]
    paged = (await client.get(f"{url}?limit=1")).json()
    assert [c["full_name"] for c in paged["items"]] == ["Ann Able"] and paged["next_cursor"]

    # An option of another activity, or another organisation's activity, is not found.
    other_activity = await create_activity(client, options=[at(8), at(9)])
    other_option = (await TimeOption.filter(activity_id=other_activity["id"]).first()).id
    wrong = await client.get(f"/api/v1/activities/{activity['id']}/options/{other_option}/choices")
    assert wrong.status_code == 404
    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    assert (await other.get(url)).status_code == 404

    await world.user(org, "reporter@trust.example", Role.REPORTER)
    reporter = make_client()
    await sign_in(reporter, "reporter@trust.example")
    assert (await reporter.get(url)).status_code == 403
    assert (await reporter.api("POST", "/api/v1/activities", activity_body())).status_code == 403


async def test_answers_invitations_and_finalising_refuse_bad_input_by_field(client, world):
    await lead_of(world, client)
    ann = await contracted_rep(client, full_name="Ann Able")
    activity = await create_activity(client, options=[at(5), at(6)])
    base = f"/api/v1/activities/{activity['id']}"
    first = (await TimeOption.filter(activity_id=activity["id"]).first()).id

    not_people = await client.api("POST", f"{base}/invitations", {"representative_ids": "Ann"})
    assert not_people.status_code == 422
    assert errors_of(not_people) == {"representative_ids": "The people to invite must be a list"}
    await client.api("POST", f"{base}/invitations", {"representative_ids": [ann["id"]]})

    garbled = await client.api(
        "POST",
        f"{base}/answers",
        {"representative_id": ann["id"], "answers": {str(first): "perhaps"}, "mode": "fax"},
    )
    assert garbled.status_code == 422
    assert errors_of(garbled) == {
        f"answers.{first}": "Select an answer for each time",
        "mode": "Select how they would like to take part",
    }
    no_time = await client.api("POST", f"{base}/finalise", {"representative_ids": [ann["id"]]})
    assert no_time.status_code == 422
    assert errors_of(no_time) == {"option_id": "Enter the time you have chosen"}
    assert (await Activity.get(id=activity["id"])).status == "planning"
    assert not await AuditEvent.filter(action="invitation.answer").exists()
