"""A day is paid once: one fee line per representative, per organisation, per England day,
across every claim that is not rejected, held by the database even when two drafts are made at
the same moment. Through the API and the pages, as people would."""

from __future__ import annotations

import asyncio
import html
from typing import Any

from coprod import clock
from coprod.models import AuditEvent, Claim, ClaimLine, FeeDay
from coprod.templating import long_date
from tests.conftest import postgres_only
from tests.test_activities_api import as_representative, with_email
from tests.test_claims_api import (
    SUMMER,
    attend,
    draft,
    fees,
    finance_of,
    held,
    local,
    second_lead,
)
from tests.test_representatives_api import errors_of, lead_of

HALF_DAY = [(SUMMER.isoformat(), 120, "half_day", 7000, False)]
PERIOD = {"period_start": SUMMER.isoformat(), "period_end": SUMMER.isoformat()}


def taken_message(claim_id: int) -> str:
    return (
        f"{long_date(SUMMER)} is already on claim {claim_id}, and a day is paid only once. "
        "Use that claim, or ask for it to be rejected first"
    )


async def ann_attended(client: Any, world: Any) -> tuple[Any, dict[str, Any], int]:
    org = await lead_of(world, client)
    ann = await with_email(client, "Ann Able", "ann@people.example")
    booking_id = await held(client, ann["id"], local(SUMMER, 10))
    await attend(client, booking_id)
    return org, ann, booking_id


async def test_a_day_stays_on_one_claim_until_that_claim_is_rejected(client, make_client, world):
    org, ann, booking_id = await ann_attended(client, world)
    first = await draft(client, ann["id"])
    assert fees(first) == HALF_DAY

    # Ann's own draft for the same dates finds the day already taken.
    ann_client = await as_representative(make_client, "ann@people.example")
    second = await draft(ann_client, None)
    assert second["lines"] == [] and second["totals"]["fees_pence"] == 0

    # Sent back, the first claim gives the day up, and a new claim can take it...
    assert (await client.api("POST", f"/api/v1/claims/{first['id']}/submit", {})).is_success
    other_lead = await second_lead(world, make_client, org)
    rejected = await other_lead.api(
        "POST", f"/api/v1/claims/{first['id']}/reject", {"reason": "Wrong dates"}
    )
    assert rejected.status_code == 200, rejected.text
    retaken = await draft(ann_client, None)
    assert fees(retaken) == HALF_DAY

    # ...so sending the rejected claim again would pay the day twice: refused, naming the claim
    # that has it, and the rejected claim is left as it was.
    resent = await client.api("POST", f"/api/v1/claims/{first['id']}/submit", {})
    assert resent.status_code == 409
    assert errors_of(resent) == {"claim": taken_message(retaken["id"])}
    still = (await client.get(f"/api/v1/claims/{first['id']}")).json()
    assert still["status"] == "rejected" and still["rejection_reason"] == "Wrong dates"
    assert await AuditEvent.filter(action="claim.submit", entity_id=str(first["id"])).count() == 1

    # On the claim's page the lead sees the same, as an error against the claim.
    page = await client.post_form(
        f"/claims/{first['id']}/submit", {}, token_from=f"/claims/{first['id']}"
    )
    assert page.status_code == 409
    assert taken_message(retaken["id"]) in html.unescape(page.text)

    # Once the new claim is itself rejected, the first can be sent again and takes the day back.
    assert (await ann_client.api("POST", f"/api/v1/claims/{retaken['id']}/submit", {})).is_success
    assert (
        await client.api("POST", f"/api/v1/claims/{retaken['id']}/reject", {"reason": "Duplicate"})
    ).is_success
    resent = await client.api("POST", f"/api/v1/claims/{first['id']}/submit", {})
    assert resent.status_code == 200, resent.text
    assert resent.json()["status"] == "submitted"
    assert [d.claim_id for d in await FeeDay.filter(day=SUMMER)] == [first["id"]]

    # With the day on a submitted claim, attendance that day can no longer change.
    changed = await client.api(
        "POST", f"/api/v1/bookings/{booking_id}/attendance", {"attended": "no"}
    )
    assert changed.status_code == 409


async def test_a_claim_page_refuses_a_day_another_claim_took_first(client, make_client, world):
    org, ann, _ = await ann_attended(client, world)
    first = await draft(client, ann["id"])
    assert (await client.api("POST", f"/api/v1/claims/{first['id']}/submit", {})).is_success
    other_lead = await second_lead(world, make_client, org)
    await other_lead.api("POST", f"/api/v1/claims/{first['id']}/reject", {"reason": "Check"})

    # Ann makes a new claim from her claims page: it takes the day her rejected claim gave up.
    ann_client = await as_representative(make_client, "ann@people.example")
    made = await ann_client.post_form("/my/claims", PERIOD)
    assert made.status_code == 303
    mine = (await Claim.filter(representative_id=ann["id"]).order_by("-id").first()).id
    assert made.headers["location"] == f"/my/claims/{mine}?done=created"
    assert [(d.claim_id, d.day) for d in await FeeDay.all()] == [(mine, SUMMER)]

    # Sending the rejected claim again from its page is refused, in plain words, with status 409.
    page = await ann_client.post_form(
        f"/claims/{first['id']}/submit", {}, token_from=f"/my/claims/{first['id']}"
    )
    assert page.status_code == 409
    assert taken_message(mine) in html.unescape(page.text)
    assert (await Claim.get(id=first["id"])).status.value == "rejected"


async def test_a_correction_is_never_refused_as_a_day_already_paid(client, make_client, world):
    """A paid day is put right with an adjustment: it takes no day, so nothing blocks it."""
    org, ann, _ = await ann_attended(client, world)
    ann_client = await as_representative(make_client, "ann@people.example")
    await ann_client.post_form(
        "/my/payments", {"payout_method": "payroll", "payroll_reference": "PR-7"}
    )
    claim = await draft(ann_client, None)
    assert (await ann_client.api("POST", f"/api/v1/claims/{claim['id']}/submit", {})).is_success
    assert (await client.api("POST", f"/api/v1/claims/{claim['id']}/approve", {})).is_success
    ni = {"national_insurance_number": "AB123456C"}
    payroll = {"payout_method": "payroll", "payroll_reference": "PR-7"} | ni
    url = f"/api/v1/representatives/{ann['id']}/payout-method"
    assert (await client.api("PUT", url, payroll)).status_code == 200
    finance = await finance_of(world, make_client, org, "finance@trust.example")
    pay_day = {"payment_date": clock.today().isoformat()}
    assert (await finance.api("POST", "/api/v1/payroll-exports", pay_day)).status_code == 201

    corrected = await client.post_form(
        f"/claims/{claim['id']}/correct",
        {"amount_pence": "7000", "reason": "It was a full day"},
        token_from=f"/claims/{claim['id']}",
    )
    assert corrected.status_code == 303, corrected.text
    correction = (await Claim.filter(representative_id=ann["id"]).order_by("-id").first()).id
    shown = (await client.get(f"/api/v1/claims/{correction}")).json()
    assert [(x["kind"], x["day"], x["amount_pence"]) for x in shown["lines"]] == [
        ("adjustment", SUMMER.isoformat(), 7000)
    ]
    submitted = await client.api("POST", f"/api/v1/claims/{correction}/submit", {})
    assert submitted.status_code == 200, submitted.text
    assert [d.claim_id for d in await FeeDay.all()] == [claim["id"]]


# ---------------------------------------------------------------------------- at the same moment


async def _tokens(client: Any, url: str) -> str:
    token: str = await client.csrf(url)
    return token


@postgres_only
async def test_two_drafts_made_at_the_same_moment_cannot_both_take_the_day(
    client, make_client, world
):
    await lead_of(world, client)
    for round_ in range(5):
        # Each round a new person, who attended one day: the lead and the person both ask for
        # a claim at once.
        email = f"person{round_}@people.example"
        rep = await with_email(client, f"Person {round_}", email)
        await attend(client, await held(client, rep["id"], local(SUMMER, 10)))
        rep_client = await as_representative(make_client, email)
        lead_token = await _tokens(client, "/")
        rep_token = await _tokens(rep_client, "/")
        lead_made, rep_made = await asyncio.gather(
            client.http.post(
                "/api/v1/claims",
                json={**PERIOD, "representative_id": rep["id"]},
                headers={"X-CSRF-Token": lead_token},
            ),
            rep_client.http.post(
                "/api/v1/claims", json=PERIOD, headers={"X-CSRF-Token": rep_token}
            ),
        )
        made = [r for r in (lead_made, rep_made) if r.status_code == 201]
        refused = [r for r in (lead_made, rep_made) if r.status_code == 409]
        assert len(made) + len(refused) == 2, [lead_made.text, rep_made.text]
        # The day is on exactly one claim, and a refused request left nothing behind.
        holders = await ClaimLine.filter(claim__representative_id=rep["id"], day=SUMMER)
        assert len(holders) == 1 and holders[0].amount_pence == 7000
        assert await Claim.filter(representative_id=rep["id"]).count() == len(made)
        for response in refused:
            assert errors_of(response) == {"period_start": taken_message(holders[0].claim_id)}


@postgres_only
async def test_two_claim_pages_sent_at_the_same_moment_pay_the_day_once(client, make_client, world):
    await lead_of(world, client)
    rep = await with_email(client, "Ann Able", "ann@people.example")
    await attend(client, await held(client, rep["id"], local(SUMMER, 10)))
    ann_client = await as_representative(make_client, "ann@people.example")
    lead_token = await _tokens(client, "/claims")
    ann_token = await _tokens(ann_client, "/my/claims")
    lead_page, ann_page = await asyncio.gather(
        client.http.post(
            "/claims",
            data={**PERIOD, "representative_id": str(rep["id"]), "csrf_token": lead_token},
        ),
        ann_client.http.post("/my/claims", data={**PERIOD, "csrf_token": ann_token}),
    )
    statuses = sorted([lead_page.status_code, ann_page.status_code])
    assert statuses in ([303, 303], [303, 409]), statuses
    holders = await ClaimLine.filter(claim__representative_id=rep["id"], day=SUMMER)
    assert len(holders) == 1
    for response in (lead_page, ann_page):
        if response.status_code == 409:
            assert taken_message(holders[0].claim_id) in html.unescape(response.text)
            assert "There is a problem" in response.text
