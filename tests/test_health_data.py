"""Special-category data: consent, acute episodes encrypted at rest and audited without their
content, who may see them, and equality monitoring kept apart from the profile."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from tortoise import connections

from coprod import clock
from coprod.crypto import decrypt_json
from coprod.domain.equality import PREFER_NOT_TO_SAY, QUESTIONS
from coprod.errors import Forbidden, NotFound
from coprod.models import (
    AcuteEpisode,
    AuditEvent,
    Consent,
    ConsentPurpose,
    EqualityResponse,
    Representative,
    Role,
    User,
)
from coprod.services import representatives, wellbeing
from coprod.services.actor import Actor
from coprod.services.auth import actor_for
from coprod.validation import ValidationFailed

NOTE = "admitted to Ward 7 after crisis"
# Well away from today, so no timestamp elsewhere in the log can contain them by chance.


def started() -> dt.date:
    return clock.today() - dt.timedelta(days=137)


def ended() -> dt.date:
    return clock.today() - dt.timedelta(days=111)


@dataclass
class Setting:
    org: Any
    lead: Actor
    rep: Representative
    me: Actor  # the representative, signed in as themself


async def as_user(user: User, org_id: int) -> Actor:
    return await actor_for(user, org_id)


async def person(lead: Actor, full_name: str) -> tuple[Representative, Actor]:
    slug = full_name.lower().replace(" ", ".")
    rep = await representatives.create(
        lead,
        {
            "full_name": full_name,
            "representative_type": "patient",
            "email": f"{slug}@people.example",
            "contact_channels": ["email"],
            "payment_preference": "paid",
            "lead_id": str(lead.user.id),
        },
    )
    user = await User.get(id=rep.user_id)
    return rep, await as_user(user, rep.organisation_id)


@pytest.fixture
async def setting(world: Any) -> Setting:
    org = await world.org()
    lead_user = await world.user(org, "lena.lead@trust.example", Role.INVOLVEMENT_LEAD)
    lead = await as_user(lead_user, org.id)
    rep, me = await person(lead, "Ada Lovelace")
    assert me.has(Role.REPRESENTATIVE) and not me.has(Role.INVOLVEMENT_LEAD)
    return Setting(org, lead, rep, me)


def episode(**changes: Any) -> dict[str, Any]:
    data = {
        "started_on": started().isoformat(),
        "ended_on": ended().isoformat(),
        "under_crisis_team": "yes",
        "note": NOTE,
    }
    data.update(changes)
    return data


async def consent(actor: Actor, rep: Representative, purpose: str, given_on: dt.date | None = None):
    data = {"purpose": purpose}
    if given_on is not None:
        data["given_on"] = given_on.isoformat()
    return await wellbeing.give_consent(actor, rep, data)


async def audit_text() -> str:
    events = await AuditEvent.all()
    return " ".join(str(e.before) + str(e.after) + str(e.on_behalf_of) for e in events)


def assert_no_health_content(text: str) -> None:
    # ("crisis" itself may appear: the log names the changed field "under_crisis_team".)
    for secret in (NOTE, "Ward 7", "after crisis", started().isoformat(), ended().isoformat()):
        assert secret not in text, secret


# --------------------------------------------------------------------------- encryption at rest


async def test_an_episode_is_encrypted_at_rest_and_decrypts_for_those_allowed(setting):
    await consent(setting.me, setting.rep, "health")
    row = await wellbeing.record_episode(setting.me, setting.rep, episode())

    stored = await connections.get("default").execute_query_dict("SELECT * FROM acute_episode")
    assert len(stored) == 1
    raw = stored[0]
    payload = raw["payload"]
    assert payload.startswith("gAAAAA")  # a Fernet token
    everything = " ".join(str(v) for v in raw.values())
    for secret in (NOTE, "Ward 7", "crisis", "Ward", started().isoformat(), ended().isoformat()):
        assert secret not in everything, secret
    assert set(raw) == {"id", "created_at", "updated_at", "representative_id", "payload"}

    # The key decrypts it to exactly what was entered.
    assert decrypt_json(payload) == {
        "started_on": started().isoformat(),
        "ended_on": ended().isoformat(),
        "under_crisis_team": True,
        "note": NOTE,
    }
    [seen] = await wellbeing.episodes(setting.lead, setting.rep)
    assert (seen.id, seen.started_on, seen.ended_on) == (row.id, started(), ended())
    assert seen.under_crisis_team is True and seen.note == NOTE and not seen.ongoing
    assert await wellbeing.episode_dates(setting.rep) == [(started(), ended())]

    # An ongoing one, and the same note twice, still encrypt differently each time.
    await wellbeing.record_episode(
        setting.me, setting.rep, episode(ended_on="", under_crisis_team="no")
    )
    payloads = await AcuteEpisode.all().values_list("payload", flat=True)
    assert len(set(payloads)) == 2
    mine = await wellbeing.episodes(setting.me, setting.rep)
    assert sorted(e.ongoing for e in mine) == [False, True]
    assert {e.under_crisis_team for e in mine} == {True, False}


async def test_recording_without_health_consent_is_refused_and_nothing_is_saved(setting):
    with pytest.raises(ValidationFailed):
        await wellbeing.record_episode(setting.lead, setting.rep, episode())
    # Consent for something else is not consent for health data.
    await consent(setting.lead, setting.rep, "contact")
    await consent(setting.lead, setting.rep, "equality")
    with pytest.raises(ValidationFailed):
        await wellbeing.record_episode(setting.me, setting.rep, episode())
    # Nor is consent that has been withdrawn.
    await consent(setting.lead, setting.rep, "health")
    await wellbeing.withdraw_consent(setting.lead, setting.rep, "health")
    with pytest.raises(ValidationFailed):
        await wellbeing.record_episode(setting.lead, setting.rep, episode())

    assert await AcuteEpisode.all().count() == 0
    assert await AuditEvent.filter(action="health.create").count() == 0


# --------------------------------------------------------------------------- who may see it


async def test_only_the_person_and_their_organisations_leads_may_see_episodes(setting, world):
    await consent(setting.lead, setting.rep, "health")
    row = await wellbeing.record_episode(setting.lead, setting.rep, episode())

    assert [e.note for e in await wellbeing.episodes(setting.me, setting.rep)] == [NOTE]
    assert [e.note for e in await wellbeing.episodes(setting.lead, setting.rep)] == [NOTE]
    assert (await wellbeing.view_episode(setting.me, setting.rep, row.id)).note == NOTE

    org = setting.org
    reporter = await world.user(org, "rita.reporter@trust.example", Role.REPORTER)
    finance = await world.user(org, "fin.officer@trust.example", Role.FINANCE_OFFICER)
    admin = await world.user(
        org, "adam.admin@trust.example", Role.ORG_ADMIN, Role.REPORTER, Role.FINANCE_OFFICER
    )
    other_org = await world.org("Southshire Trust")
    other_lead = await world.user(other_org, "lou.lead@south.example", Role.INVOLVEMENT_LEAD)
    _, someone_else = await person(setting.lead, "Bob Byte")
    # The same person as a lead elsewhere, acting in that other organisation.
    lead_elsewhere = await as_user(setting.lead.user, other_org.id)
    outsiders = [
        await as_user(reporter, org.id),
        await as_user(finance, org.id),
        await as_user(admin, org.id),
        someone_else,
        await as_user(other_lead, other_org.id),
        lead_elsewhere,
        Actor(user=None, organisation_id=org.id, via="api"),
    ]
    views_before = await AuditEvent.filter(action="health.view").count()
    for outsider in outsiders:
        with pytest.raises(NotFound):
            await wellbeing.episodes(outsider, setting.rep)
        with pytest.raises(NotFound):
            await wellbeing.view_episode(outsider, setting.rep, row.id)
        with pytest.raises(NotFound):
            await wellbeing.update_episode(outsider, setting.rep, row.id, episode(note="x"))
        with pytest.raises(NotFound):
            await wellbeing.delete_episode(outsider, setting.rep, row.id)
        with pytest.raises(NotFound):
            await wellbeing.record_episode(outsider, setting.rep, episode())
    # Refusals read nothing, so they log no view; the episode is untouched.
    assert await AuditEvent.filter(action="health.view").count() == views_before
    assert await AcuteEpisode.all().count() == 1
    assert decrypt_json((await AcuteEpisode.get(id=row.id)).payload)["note"] == NOTE

    # An episode id that belongs to someone else is not found through this person's record.
    other_rep = await Representative.get(full_name="Bob Byte")
    with pytest.raises(NotFound):
        await wellbeing.view_episode(setting.lead, other_rep, row.id)


async def test_a_lead_of_another_organisation_cannot_change_consent_or_answers(setting, world):
    await consent(setting.me, setting.rep, "health")
    await consent(setting.me, setting.rep, "equality")
    await wellbeing.record_episode(setting.me, setting.rep, episode())
    other_org = await world.org("Southshire Trust")
    outsider = await as_user(
        await world.user(other_org, "lou.lead@south.example", Role.INVOLVEMENT_LEAD), other_org.id
    )
    # Withdrawing health consent would delete the person's episodes: only their own side may.
    with pytest.raises(NotFound):
        await wellbeing.withdraw_consent(outsider, setting.rep, "health")
    with pytest.raises(NotFound):
        await wellbeing.give_consent(outsider, setting.rep, {"purpose": "contact"})
    with pytest.raises(NotFound):
        await wellbeing.save_equality(outsider, setting.rep, {"sex": "female"})
    assert await AcuteEpisode.all().count() == 1
    assert await wellbeing.has_consent(setting.rep, ConsentPurpose.HEALTH)
    assert not await wellbeing.has_consent(setting.rep, ConsentPurpose.CONTACT)
    assert await EqualityResponse.all().count() == 0


# --------------------------------------------------------------------------- the audit trail


async def test_every_view_and_change_is_audited_without_the_content(setting):
    await consent(setting.me, setting.rep, "health")
    row = await wellbeing.record_episode(setting.lead, setting.rep, episode())
    [created] = await AuditEvent.filter(action="health.create")
    assert (created.entity_type, created.entity_id) == ("AcuteEpisode", str(row.id))
    assert created.actor_id == setting.lead.user.id
    assert created.on_behalf_of == "Ada Lovelace"

    await wellbeing.episodes(setting.lead, setting.rep)
    await wellbeing.episodes(setting.me, setting.rep)
    views = await AuditEvent.filter(action="health.view").order_by("id")
    assert [(v.actor_id, v.entity_type, v.entity_id) for v in views] == [
        (setting.lead.user.id, "Representative", str(setting.rep.id)),
        (setting.me.user.id, "Representative", str(setting.rep.id)),
    ]
    assert all(v.organisation_id == setting.org.id for v in views)
    await wellbeing.view_episode(setting.lead, setting.rep, row.id)
    assert await AuditEvent.filter(action="health.view").count() == 3

    later_end = ended() + dt.timedelta(days=2)
    await wellbeing.update_episode(
        setting.me,
        setting.rep,
        row.id,
        episode(ended_on=later_end.isoformat(), note="back home, Ward 7 discharged me"),
    )
    [updated] = await AuditEvent.filter(action="health.update")
    assert updated.after == {"changed": ["ended_on", "note"]}
    assert updated.on_behalf_of is None
    [now] = await wellbeing.episodes(setting.me, setting.rep)
    assert (now.ended_on, now.note) == (later_end, "back home, Ward 7 discharged me")

    await wellbeing.delete_episode(setting.lead, setting.rep, row.id)
    [deleted] = await AuditEvent.filter(action="health.delete")
    assert (deleted.entity_type, deleted.entity_id) == ("AcuteEpisode", str(row.id))
    assert deleted.on_behalf_of == "Ada Lovelace"
    assert await AcuteEpisode.all().count() == 0
    assert await wellbeing.episodes(setting.lead, setting.rep) == []

    text = await audit_text()
    assert_no_health_content(text)
    assert later_end.isoformat() not in text
    assert "discharged" not in text


async def test_withdrawing_health_consent_deletes_the_episodes_and_logs_their_ids(setting):
    await consent(setting.me, setting.rep, "health")
    first = await wellbeing.record_episode(setting.me, setting.rep, episode())
    second = await wellbeing.record_episode(
        setting.lead,
        setting.rep,
        episode(started_on=(clock.today() - dt.timedelta(days=9)).isoformat(), ended_on=""),
    )
    other, other_me = await person(setting.lead, "Bob Byte")
    await consent(other_me, other, "health")
    kept = await wellbeing.record_episode(other_me, other, episode())

    assert await wellbeing.withdraw_consent(setting.me, setting.rep, "health") == 2
    assert list(await AcuteEpisode.all().values_list("id", flat=True)) == [kept.id]
    assert await wellbeing.episodes(setting.me, setting.rep) == []
    [event] = await AuditEvent.filter(action="health.delete_all")
    assert sorted(event.before["episode_ids"]) == sorted([first.id, second.id])
    assert event.after["episodes"] == 0
    assert (event.entity_type, event.entity_id) == ("Representative", str(setting.rep.id))
    assert event.on_behalf_of is None
    assert not await wellbeing.has_consent(setting.rep, ConsentPurpose.HEALTH)
    assert await wellbeing.has_consent(other, ConsentPurpose.HEALTH)
    assert_no_health_content(await audit_text())


async def test_on_behalf_of_names_the_person_only_when_someone_else_acts(setting):
    await consent(setting.lead, setting.rep, "health")
    await consent(setting.me, setting.rep, "equality")
    await wellbeing.record_episode(setting.me, setting.rep, episode())
    await wellbeing.record_episode(setting.lead, setting.rep, episode())
    given = await AuditEvent.filter(action="consent.give").order_by("id")
    assert [e.on_behalf_of for e in given] == ["Ada Lovelace", None]
    assert [e.actor_id for e in given] == [setting.lead.user.id, setting.me.user.id]
    created = await AuditEvent.filter(action="health.create").order_by("id")
    assert [e.on_behalf_of for e in created] == [None, "Ada Lovelace"]
    assert [e.actor_label for e in created] == [
        "Ada Lovelace <ada.lovelace@people.example>",
        "Lena.Lead <lena.lead@trust.example>",
    ]


# --------------------------------------------------------------------------- validation


async def test_episode_dates_are_checked(setting):
    await consent(setting.me, setting.rep, "health")
    cases = [
        (episode(ended_on=(started() - dt.timedelta(days=1)).isoformat()), "ended_on"),
        (
            episode(started_on=(clock.today() + dt.timedelta(days=1)).isoformat(), ended_on=""),
            "started_on",
        ),
        (episode(started_on=""), "started_on"),
        (episode(started_on="2024-02-30"), "started_on"),
        (episode(under_crisis_team="maybe"), "under_crisis_team"),
        (episode(note="x" * 2001), "note"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            await wellbeing.record_episode(setting.me, setting.rep, data)
        assert field in refused.value.by_field(), (data, refused.value.by_field())
    assert await AcuteEpisode.all().count() == 0

    # Same-day episodes and ones that started today are fine.
    await wellbeing.record_episode(
        setting.me,
        setting.rep,
        episode(started_on=clock.today().isoformat(), ended_on=clock.today().isoformat()),
    )
    row = await wellbeing.record_episode(setting.me, setting.rep, episode())
    # An update is checked the same way, and a refused one changes nothing.
    with pytest.raises(ValidationFailed) as refused:
        await wellbeing.update_episode(
            setting.me,
            setting.rep,
            row.id,
            episode(ended_on=(started() - dt.timedelta(days=1)).isoformat()),
        )
    assert "ended_on" in refused.value.by_field()
    assert (
        decrypt_json((await AcuteEpisode.get(id=row.id)).payload)["ended_on"] == ended().isoformat()
    )
    assert await AuditEvent.filter(action="health.update").count() == 0


# --------------------------------------------------------------------------- equality monitoring


async def test_equality_monitoring(setting):
    every_question_declined = {q.key: PREFER_NOT_TO_SAY for q in QUESTIONS}
    with pytest.raises(ValidationFailed):
        await wellbeing.save_equality(setting.me, setting.rep, every_question_declined)
    assert await EqualityResponse.all().count() == 0

    await consent(setting.me, setting.rep, "equality")
    # "Prefer not to say" is an answer to every question.
    await wellbeing.save_equality(setting.me, setting.rep, every_question_declined)
    mine = await wellbeing.own_equality(setting.me, setting.rep)
    assert mine is not None
    assert {q.key: getattr(mine, q.key) for q in QUESTIONS} == every_question_declined

    # An answer that is not on the list is refused, and nothing changes.
    for question in QUESTIONS:
        with pytest.raises(ValidationFailed) as refused:
            await wellbeing.save_equality(
                setting.me, setting.rep, {**every_question_declined, question.key: "martian"}
            )
        assert list(refused.value.by_field()) == [question.key]
    mine = await wellbeing.own_equality(setting.me, setting.rep)
    assert {q.key: getattr(mine, q.key) for q in QUESTIONS} == every_question_declined

    # A lead may record answers for someone (e.g. on the phone), but never read them back.
    answers = {"religion": "buddhist", "sexual_orientation": "bisexual", "ethnicity": "mixed"}
    await wellbeing.save_equality(setting.lead, setting.rep, answers)
    with pytest.raises(NotFound):
        await wellbeing.own_equality(setting.lead, setting.rep)
    mine = await wellbeing.own_equality(setting.me, setting.rep)
    assert {q.key: getattr(mine, q.key) for q in QUESTIONS} == {
        **{q.key: None for q in QUESTIONS},
        **answers,
    }
    _, someone_else = await person(setting.lead, "Bob Byte")
    with pytest.raises(NotFound):
        await wellbeing.own_equality(someone_else, setting.rep)
    with pytest.raises(NotFound):
        await wellbeing.save_equality(someone_else, setting.rep, answers)

    # The log says that answers changed and by whom, never what they are.
    events = await AuditEvent.filter(action="equality.update").order_by("id")
    assert [(e.after, e.on_behalf_of) for e in events] == [
        ({"answered": len(QUESTIONS)}, None),
        ({"answered": 3}, "Ada Lovelace"),
    ]
    logged = await audit_text()
    for value in (*answers.values(), PREFER_NOT_TO_SAY):
        assert value not in logged

    # The answers live in their own table, not on the representative's row.
    conn = connections.get("default")
    [stored] = await conn.execute_query_dict("SELECT * FROM equality_response")
    assert stored["representative_id"] == setting.rep.id
    assert {k: stored[k] for k in answers} == answers
    [profile_row] = await conn.execute_query_dict(
        "SELECT * FROM representative WHERE id = " + str(setting.rep.id)
    )
    assert not set(profile_row) & {q.key for q in QUESTIONS}
    profile_text = " ".join(str(v) for v in profile_row.values())
    for value in answers.values():
        assert value not in profile_text

    # Withdrawing equality consent deletes the answers.
    await wellbeing.withdraw_consent(setting.me, setting.rep, "equality")
    assert await EqualityResponse.all().count() == 0
    assert await wellbeing.own_equality(setting.me, setting.rep) is None


# --------------------------------------------------------------------------- consent review


async def test_consents_due_for_review(setting):
    bob, _ = await person(setting.lead, "Bob Byte")
    cy, _ = await person(setting.lead, "Cy Withdrawn")
    long_ago = clock.today() - dt.timedelta(days=340)

    due = await consent(setting.lead, setting.rep, "health", long_ago)
    assert due.review_on == long_ago + dt.timedelta(days=365)
    fresh = await consent(setting.lead, bob, "health")
    assert fresh.given_on == clock.today() and fresh.review_on == clock.today() + dt.timedelta(
        days=365
    )
    await consent(setting.lead, cy, "contact", long_ago)
    await wellbeing.withdraw_consent(setting.lead, cy, "contact")

    listed = await wellbeing.consents_due_for_review(setting.lead)
    assert [(c.representative.full_name, c.purpose) for c in listed] == [
        ("Ada Lovelace", ConsentPurpose.HEALTH)
    ]
    # Renewing it replaces the old record, which then drops off the list.
    await consent(setting.lead, setting.rep, "health")
    assert await wellbeing.consents_due_for_review(setting.lead) == []
    assert await Consent.filter(representative=setting.rep, withdrawn_on__isnull=True).count() == 1

    with pytest.raises(ValidationFailed):
        await consent(setting.lead, bob, "health", clock.today() + dt.timedelta(days=1))
    with pytest.raises(Forbidden):
        await wellbeing.consents_due_for_review(setting.me)
