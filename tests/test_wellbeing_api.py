"""The acute episodes and equality monitoring API: the same services, consent rules, walls and
audit events as the pages, on a real database with real sign-in."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import pytest

from coprod import clock
from coprod.crypto import decrypt_json
from coprod.domain.equality import QUESTIONS
from coprod.models import AcuteEpisode, AuditEvent, EqualityResponse, Representative, Role, User
from coprod.services import auth, representatives, wellbeing
from coprod.services.actor import Actor
from tests.conftest import sign_in
from tests.test_representatives_api import errors_of

LEAD = "lena.lead@trust.example"
NOTE = "admitted to Ward 7 after crisis"


def started() -> dt.date:
    return clock.today() - dt.timedelta(days=137)


def ended() -> dt.date:
    return clock.today() - dt.timedelta(days=111)


NO_HEALTH_CONSENT = "Record their consent to hold health information before recording this"
NO_EQUALITY_CONSENT = "Record consent for equality monitoring before these answers"
NOT_AN_ANSWER = "Select one of the answers, or 'Prefer not to say'"


@dataclass
class Setting:
    org: Any
    lead: Actor
    rep: Representative
    lead_client: Any  # the lead, signed in
    rep_client: Any  # the representative, signed in as themself

    def episodes(self, rep_id: int | None = None) -> str:
        return f"/api/v1/representatives/{rep_id or self.rep.id}/acute-episodes"

    def equality(self, rep_id: int | None = None) -> str:
        return f"/api/v1/representatives/{rep_id or self.rep.id}/equality"


async def person(lead: Actor, full_name: str) -> Representative:
    slug = full_name.lower().replace(" ", ".")
    return await representatives.create(
        lead,
        {
            "full_name": full_name,
            "representative_type": "patient",
            "email": f"{slug}@people.example",
            "contact_channels": ["email"],
        },
    )


async def signed_in_as(make_client: Any, rep: Representative) -> Any:
    # Representatives have no password: start the session a sign-in link would start.
    client = make_client()
    user = await User.get(id=rep.user_id)
    client.http.cookies.set("coprod_session", await auth.start_session(user))
    return client


@pytest.fixture
async def setting(world: Any, client: Any, make_client: Any) -> Setting:
    org = await world.org()
    lead_user = await world.user(org, LEAD, Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(lead_user, org.id)
    rep = await person(lead, "Ada Lovelace")
    await sign_in(client, LEAD)
    return Setting(org, lead, rep, client, await signed_in_as(make_client, rep))


def episode(**changes: Any) -> dict[str, Any]:
    return {
        "started_on": started().isoformat(),
        "ended_on": ended().isoformat(),
        "under_crisis_team": True,
        "note": NOTE,
        **changes,
    }


async def consent(setting: Setting, purpose: str) -> None:
    await wellbeing.give_consent(setting.lead, setting.rep, {"purpose": purpose})


async def record(setting: Setting, client: Any = None, **changes: Any) -> int:
    response = await (client or setting.lead_client).api(
        "POST", setting.episodes(), episode(**changes)
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"id": response.json()["id"]}  # no health data in the reply
    episode_id: int = response.json()["id"]
    return episode_id


def stored(row: AcuteEpisode) -> dict[str, Any]:
    data: dict[str, Any] = decrypt_json(row.payload)
    return data


async def events_during(action: Awaitable[Any]) -> list[tuple[Any, ...]]:
    """The audit events an action writes, as what they say (not when or by which channel)."""
    last = await AuditEvent.all().order_by("-id").first()
    await action
    events = AuditEvent.filter(id__gt=last.id if last else 0).order_by("id")
    return [
        (e.action, e.entity_type, e.entity_id, e.actor_id, e.on_behalf_of, e.before, e.after)
        for e in await events
    ]


# ---------------------------------------------------------------------------- acute episodes


async def test_a_lead_records_reads_changes_and_deletes_an_episode(setting):
    await consent(setting, "health")
    episode_id = await record(setting)
    row = await AcuteEpisode.get(id=episode_id)
    assert row.representative_id == setting.rep.id
    assert NOTE not in row.payload and stored(row)["note"] == NOTE  # encrypted at rest
    [created] = await AuditEvent.filter(action="health.create")
    assert (created.entity_id, created.on_behalf_of) == (str(episode_id), "Ada Lovelace")

    listed = await setting.lead_client.get(setting.episodes())
    one = await setting.lead_client.get(f"{setting.episodes()}/{episode_id}")
    expected = {
        "id": episode_id,
        "started_on": started().isoformat(),
        "ended_on": ended().isoformat(),
        "ongoing": False,
        "under_crisis_team": True,
        "note": NOTE,
    }
    assert listed.json() == {"items": [expected], "next_cursor": None}
    assert one.json() == expected

    # Only the fields sent change; null ends the end date (it is ongoing again).
    changed = await setting.lead_client.api(
        "PATCH", f"{setting.episodes()}/{episode_id}", {"ended_on": None, "note": "home now"}
    )
    assert changed.status_code == 200 and changed.json() == {"id": episode_id}
    await row.refresh_from_db()
    assert stored(row) == {
        "started_on": started().isoformat(),
        "ended_on": None,
        "under_crisis_team": True,
        "note": "home now",
    }
    [updated] = await AuditEvent.filter(action="health.update")
    assert updated.after == {"changed": ["ended_on", "note"]}

    deleted = await setting.lead_client.api("DELETE", f"{setting.episodes()}/{episode_id}")
    assert deleted.status_code == 200 and deleted.json() == {"id": episode_id}
    assert not await AcuteEpisode.exists(id=episode_id)
    assert await AuditEvent.filter(action="health.delete", entity_id=str(episode_id)).exists()
    gone = await setting.lead_client.get(f"{setting.episodes()}/{episode_id}")
    assert gone.status_code == 404


@pytest.mark.parametrize("who", ["lead", "self"])
async def test_reading_episodes_writes_the_same_audit_events_as_the_pages(setting, who):
    await consent(setting, "health")
    episode_id = await record(setting)
    client = setting.lead_client if who == "lead" else setting.rep_client
    page = f"/representatives/{setting.rep.id}" if who == "lead" else "/my/profile"

    page_list = await events_during(client.get(f"{page}/health"))
    api_list = await events_during(client.get(setting.episodes()))
    page_one = await events_during(client.get(f"{page}/health/{episode_id}"))
    api_one = await events_during(client.get(f"{setting.episodes()}/{episode_id}"))

    who_id = setting.lead.user.id if who == "lead" else setting.rep.user_id
    rep_id = str(setting.rep.id)
    assert (
        page_list
        == api_list
        == [("health.view", "Representative", rep_id, who_id, None, None, {"episodes": 1})]
    )
    assert (
        page_one
        == api_one
        == [("health.view", "AcuteEpisode", str(episode_id), who_id, None, None, None)]
    )


async def test_changing_episodes_writes_the_same_audit_events_as_the_pages(setting):
    await consent(setting, "health")
    page = f"/representatives/{setting.rep.id}/health"
    form = {
        "started_on": started().isoformat(),
        "ended_on": ended().isoformat(),
        "under_crisis_team": "yes",
        "note": NOTE,
    }
    by_page = await events_during(setting.lead_client.post_form(page, form, token_from="/"))
    by_api = await events_during(setting.lead_client.api("POST", setting.episodes(), episode()))
    first, second = await AcuteEpisode.all().order_by("id").values_list("id", flat=True)
    # The same event, each about its own new episode.
    assert [e[:2] + e[3:] for e in by_page] == [e[:2] + e[3:] for e in by_api]
    assert [e[2] for e in by_page + by_api] == [str(first), str(second)]
    assert by_api[0][0] == "health.create"

    by_page = await events_during(
        setting.lead_client.post_form(f"{page}/{first}", {**form, "note": "home"}, token_from="/")
    )
    by_api = await events_during(
        setting.lead_client.api("PATCH", f"{setting.episodes()}/{first}", {"note": "away"})
    )
    assert by_page == by_api
    assert by_api[0][0] == "health.update" and by_api[0][-1] == {"changed": ["note"]}

    by_page = await events_during(
        setting.lead_client.post_form(f"{page}/{first}", {"action": "delete"}, token_from="/")
    )
    by_api = await events_during(
        setting.lead_client.api("DELETE", f"{setting.episodes()}/{second}")
    )
    assert [e[:2] + e[3:] for e in by_page] == [e[:2] + e[3:] for e in by_api]
    assert by_api[0][:3] == ("health.delete", "AcuteEpisode", str(second))
    assert await AcuteEpisode.all().count() == 0


async def test_the_list_pages_by_cursor_and_each_page_read_is_audited(setting):
    await consent(setting, "health")
    for days_ago in (300, 200, 100):
        start = clock.today() - dt.timedelta(days=days_ago)
        await record(setting, started_on=start.isoformat(), ended_on=None)
    first = (await setting.lead_client.get(f"{setting.episodes()}?limit=2")).json()
    rest = (
        await setting.lead_client.get(f"{setting.episodes()}?limit=2&cursor={first['next_cursor']}")
    ).json()
    starts = [e["started_on"] for e in first["items"] + rest["items"]]
    assert starts == [(clock.today() - dt.timedelta(days=d)).isoformat() for d in (100, 200, 300)]
    assert first["next_cursor"] and rest["next_cursor"] is None
    assert all(e["ongoing"] for e in first["items"] + rest["items"])
    assert await AuditEvent.filter(action="health.view").count() == 2
    made_up = await setting.lead_client.get(f"{setting.episodes()}?cursor=abc.def")
    assert made_up.status_code == 422 and set(errors_of(made_up)) == {"cursor"}


async def test_bad_episodes_are_422_field_by_field_and_nothing_is_saved(setting):
    await consent(setting, "health")
    episode_id = await record(setting)
    before = await AuditEvent.all().count()

    typed = await setting.lead_client.api(
        "POST",
        setting.episodes(),
        {"started_on": "last spring", "under_crisis_team": "perhaps", "note": "x" * 2001, "a": 1},
    )
    assert typed.status_code == 422
    assert errors_of(typed) == {
        "started_on": "The date it started must be a real date, like 2026-04-01",
        "under_crisis_team": "Whether they were under the crisis team must be true or false",
        "note": "A note must be 2000 characters or fewer",
        "a": "Remove this field: it is not one this takes",
    }
    missing = await setting.lead_client.api("POST", setting.episodes(), {})
    assert set(errors_of(missing)) == {"started_on", "under_crisis_team"}

    # The service's rules, with the page's words.
    future = await setting.lead_client.api(
        "POST",
        setting.episodes(),
        episode(started_on=(clock.today() + dt.timedelta(days=1)).isoformat()),
    )
    assert errors_of(future) == {"started_on": "The date it started must be today or in the past"}
    backwards = await setting.lead_client.api(
        "PATCH",
        f"{setting.episodes()}/{episode_id}",
        {"ended_on": (started() - dt.timedelta(days=1)).isoformat()},
    )
    assert backwards.status_code == 422 and errors_of(backwards) == {
        "ended_on": "The date it ended must be on or after the date it started"
    }
    blanked = await setting.lead_client.api(
        "PATCH", f"{setting.episodes()}/{episode_id}", {"started_on": None}
    )
    assert errors_of(blanked) == {"started_on": "Enter the date it started"}

    assert await AcuteEpisode.all().count() == 1
    assert stored(await AcuteEpisode.get(id=episode_id))["note"] == NOTE
    assert await AuditEvent.all().count() == before


async def test_without_health_consent_recording_is_refused_as_on_the_page(setting):
    refused = await setting.lead_client.api("POST", setting.episodes(), episode())
    assert refused.status_code == 422
    assert errors_of(refused) == {"started_on": NO_HEALTH_CONSENT}
    on_page = await setting.lead_client.post_form(
        f"/representatives/{setting.rep.id}/health",
        {"started_on": started().isoformat(), "under_crisis_team": "yes"},
    )
    assert on_page.status_code == 422 and NO_HEALTH_CONSENT in on_page.text
    # Consent for something else is not consent for health data.
    await consent(setting, "contact")
    mine = await setting.rep_client.api("POST", setting.episodes(), episode())
    assert errors_of(mine) == {"started_on": NO_HEALTH_CONSENT}
    assert await AcuteEpisode.all().count() == 0
    assert not await AuditEvent.filter(action="health.create").exists()


# ---------------------------------------------------------------------------- equality


async def test_a_representative_answers_and_reads_back_but_a_lead_only_records(setting):
    await consent(setting, "equality")
    answers = {"sex": "female", "sexual_orientation": "bisexual", "religion": "prefer_not_to_say"}
    saved = await setting.rep_client.api("PUT", setting.equality(), answers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["consented"] is True
    assert {k: v for k, v in saved.json()["answers"].items() if v} == answers
    assert (await setting.rep_client.get(setting.equality())).json() == saved.json()
    [event] = await AuditEvent.filter(action="equality.update")
    assert (event.after, event.on_behalf_of) == ({"answered": 3}, None)

    # A lead may record answers for someone, by phone, but never reads them back.
    by_lead = await setting.lead_client.api("PUT", setting.equality(), {"carer_status": "yes"})
    assert by_lead.json() == {"consented": True, "answers": None}
    assert (await setting.lead_client.get(setting.equality())).json() == by_lead.json()
    lead_event = await AuditEvent.filter(action="equality.update").order_by("-id").first()
    assert (lead_event.after, lead_event.on_behalf_of) == ({"answered": 1}, "Ada Lovelace")
    # PUT replaces every answer.
    response = await EqualityResponse.get(representative_id=setting.rep.id)
    assert (response.carer_status, response.sex) == ("yes", None)
    mine = (await setting.rep_client.get(setting.equality())).json()["answers"]
    assert {k: v for k, v in mine.items() if v} == {"carer_status": "yes"}


async def test_equality_answers_are_checked_as_on_the_page_and_need_consent(setting):
    no_consent = await setting.rep_client.api("PUT", setting.equality(), {"sex": "female"})
    assert no_consent.status_code == 422
    assert errors_of(no_consent) == {"age_band": NO_EQUALITY_CONSENT}
    page = await setting.rep_client.post_form("/my/profile/equality", {"sex": "female"})
    assert page.status_code == 422 and NO_EQUALITY_CONSENT in page.text
    assert (await setting.rep_client.get(setting.equality())).json() == {
        "consented": False,
        "answers": {q.key: None for q in QUESTIONS},
    }

    await consent(setting, "equality")
    bad = await setting.rep_client.api(
        "PUT", setting.equality(), {"sex": "robot", "ethnicity": 3, "age_band": ["16_24"]}
    )
    assert bad.status_code == 422
    assert errors_of(bad) == dict.fromkeys(("sex", "ethnicity", "age_band"), NOT_AN_ANSWER)
    page = await setting.rep_client.post_form("/my/profile/equality", {"sex": "robot"})
    assert page.status_code == 422 and NOT_AN_ANSWER in html.unescape(page.text)
    assert await EqualityResponse.all().count() == 0
    assert not await AuditEvent.filter(action="equality.update").exists()


# ---------------------------------------------------------------------------- who may reach them


async def every_operation(setting: Setting, client: Any, rep_id: int, episode_id: int) -> list[Any]:
    one = f"{setting.episodes(rep_id)}/{episode_id}"
    return [
        await client.get(setting.episodes(rep_id)),
        await client.api("POST", setting.episodes(rep_id), episode()),
        await client.get(one),
        await client.api("PATCH", one, {"note": "changed"}),
        await client.api("DELETE", one),
        await client.get(setting.equality(rep_id)),
        await client.api("PUT", setting.equality(rep_id), {"sex": "male"}),
    ]


async def assert_untouched(setting: Setting, episode_id: int, views: int) -> None:
    assert await AcuteEpisode.all().count() == 1
    assert stored(await AcuteEpisode.get(id=episode_id))["note"] == NOTE
    assert await AuditEvent.filter(action="health.view").count() == views
    assert (await EqualityResponse.get(representative_id=setting.rep.id)).sex == "female"


async def prepared(setting: Setting) -> int:
    await consent(setting, "health")
    await consent(setting, "equality")
    episode_id = await record(setting)
    await wellbeing.save_equality(setting.lead, setting.rep, {"sex": "female"})
    return episode_id


async def test_another_organisations_lead_gets_404_everywhere(setting, world, make_client):
    episode_id = await prepared(setting)
    other = await world.org("Southshire Trust")
    await world.user(other, "lou.lead@south.example", Role.INVOLVEMENT_LEAD)
    outsider = make_client()
    await sign_in(outsider, "lou.lead@south.example")
    for response in await every_operation(setting, outsider, setting.rep.id, episode_id):
        assert response.status_code == 404, response.request.url
        assert NOTE not in response.text
    await assert_untouched(setting, episode_id, views=0)


@pytest.mark.parametrize("role", [Role.REPORTER, Role.FINANCE_OFFICER, Role.ORG_ADMIN])
async def test_other_roles_get_403_everywhere(setting, world, make_client, role):
    episode_id = await prepared(setting)
    await world.user(setting.org, "staff@trust.example", role)
    staff = make_client()
    await sign_in(staff, "staff@trust.example")
    for response in await every_operation(setting, staff, setting.rep.id, episode_id):
        assert response.status_code == 403, response.request.url
        assert NOTE not in response.text
    await assert_untouched(setting, episode_id, views=0)


async def test_a_representative_reaches_only_their_own_record(setting, make_client):
    episode_id = await prepared(setting)
    other = await person(setting.lead, "Bob Byte")
    bob = await signed_in_as(make_client, other)
    # Bob with Ada's id, and with his own id but Ada's episode: neither reaches it.
    for response in await every_operation(setting, bob, setting.rep.id, episode_id):
        assert response.status_code == 404, response.request.url
        assert NOTE not in response.text
    theirs = await bob.get(f"{setting.episodes(other.id)}/{episode_id}")
    assert theirs.status_code == 404
    await assert_untouched(setting, episode_id, views=0)

    # Ada reaches her own, as on /my/profile.
    mine = await setting.rep_client.get(f"{setting.episodes()}/{episode_id}")
    assert mine.json()["note"] == NOTE
    # Once archived, her record is no longer hers to open, as on the pages.
    await representatives.archive(setting.lead, setting.rep)
    assert (await setting.rep_client.get(setting.episodes())).status_code == 404
    assert (await setting.rep_client.get("/my/profile/health")).status_code == 404


async def test_health_and_equality_data_appear_in_no_other_reply(setting, world, make_client):
    await prepared(setting)
    await world.user(setting.org, "adam.admin@trust.example", Role.ORG_ADMIN)
    admin = make_client()
    await sign_in(admin, "adam.admin@trust.example")
    replies = [
        await setting.lead_client.get(f"/api/v1/representatives/{setting.rep.id}"),
        await setting.lead_client.get("/api/v1/representatives"),
        await setting.lead_client.get(f"/api/v1/representatives/{setting.rep.id}/consents"),
        await admin.get("/api/v1/audit-events?limit=200"),
    ]
    for reply in replies:
        assert reply.status_code == 200, reply.request.url
        for secret in ("Ward 7", NOTE, started().isoformat(), ended().isoformat(), "female"):
            assert secret not in reply.text, (reply.request.url, secret)


async def test_openapi_describes_the_wellbeing_operations(setting):
    doc = (await setting.lead_client.get("/api/v1/openapi.json")).json()
    episodes = doc["paths"]["/api/v1/representatives/{id}/acute-episodes"]
    one = doc["paths"]["/api/v1/representatives/{id}/acute-episodes/{episode_id}"]
    equality = doc["paths"]["/api/v1/representatives/{id}/equality"]
    assert set(episodes) == {"get", "post"} and set(one) == {"get", "patch", "delete"}
    assert set(equality) == {"get", "put"}
    assert {p["name"] for p in episodes["get"]["parameters"]} == {"id", "limit", "cursor"}
    schemas = doc["components"]["schemas"]
    listed = schemas[
        episodes["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit(
            "/", 1
        )[-1]
    ]
    assert set(listed["properties"]) == {"items", "next_cursor"}
    sex = schemas["EqualityInput"]["properties"]["sex"]["anyOf"][0]["enum"]
    assert sex == ["female", "male", "prefer_not_to_say"]
    assert schemas["AcuteEpisodeInput"]["required"] == ["started_on", "under_crisis_team"]


@pytest.mark.parametrize("bad_id", ["2147483648", "0", "-1"])
async def test_episode_ids_out_of_range_are_not_found(setting, bad_id):
    for method in ("GET", "PATCH", "DELETE"):
        response = await setting.lead_client.api(
            method, f"{setting.episodes()}/{bad_id}", {"note": "x"} if method == "PATCH" else None
        )
        assert response.status_code == 404, (method, response.text)
