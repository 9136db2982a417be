"""The claims and payments API: attendance, pay bands, the rate card, expenses and receipts,
approval with separation of duties, pay runs, payroll and annual statements. Real database, the
app in-process, real sign-in."""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as dt
import io
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from coprod import clock
from coprod.config import ROOT, get_settings
from coprod.models import (
    Activity,
    AttemptStatus,
    AuditEvent,
    Booking,
    Claim,
    ClaimStatus,
    Expense,
    PaymentAttempt,
    RateCard,
    Representative,
    Role,
    User,
)
from coprod.services import claims as claims_service
from coprod.validation import Checker
from tests.conftest import sign_in
from tests.openapi_doc import assert_described, resolve
from tests.test_activities_api import (
    as_representative,
    at,
    booked,
    contracted_rep,
    create_activity,
    with_email,
)
from tests.test_representatives_api import errors_of, lead_of

LONDON = ZoneInfo("Europe/London")
# A summer day safely in the past: England is an hour ahead of UTC, so its days and UTC's differ.
SUMMER = dt.date(clock.today().year - 1, 7, 15)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(50)
PDF = b"%PDF-1.7\n" + bytes(50)
NOT_A_RECEIPT = "The receipt must be a PDF, JPEG or PNG file"


@pytest.fixture(autouse=True)
def receipts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Receipts for these tests go to a temporary folder rather than the project's var/."""
    folder = tmp_path / "receipts"
    patched = dataclasses.replace(get_settings(), receipts_dir=str(folder))
    monkeypatch.setattr(claims_service, "get_settings", lambda: patched)
    return folder


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


async def held(
    client: Any, rep_id: int, starts: dt.datetime, *, duration: int = 120, title: str = "Panel"
) -> int:
    """Book someone onto a fixed-time activity a few days ahead, then move it to `starts` (a past
    time in England): attendance can be recorded only once an activity has started."""
    ahead = at(5, starts.hour, starts.minute)
    activity = await create_activity(
        client, title=title, starts_at=ahead, duration_minutes=duration
    )
    booking = await booked(client, activity["id"], rep_id)
    start = starts.replace(tzinfo=LONDON).astimezone(dt.UTC)
    await Activity.filter(id=activity["id"]).update(starts_at=start)
    await Booking.filter(id=booking["id"]).update(
        starts_at=start, ends_at=start + dt.timedelta(minutes=duration)
    )
    return int(booking["id"])


async def attend(client: Any, booking_id: int, **body: Any) -> dict[str, Any]:
    response = await client.api(
        "POST", f"/api/v1/bookings/{booking_id}/attendance", {"attended": "yes", **body}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def draft(
    client: Any, rep_id: int | None, start: dt.date = SUMMER, end: dt.date = SUMMER
) -> dict[str, Any]:
    body: dict[str, Any] = {"period_start": start.isoformat(), "period_end": end.isoformat()}
    if rep_id is not None:
        body["representative_id"] = rep_id
    response = await client.api("POST", "/api/v1/claims", body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def fees(claim: dict[str, Any]) -> list[tuple[str, int, str, int, bool]]:
    return [
        (line["day"], line["minutes"], line["band"], line["amount_pence"], line["needs_review"])
        for line in claim["lines"]
        if line["kind"] == "fee"
    ]


async def add_expense(client: Any, claim_id: int, **body: Any) -> Any:
    return await client.api(
        "POST", f"/api/v1/claims/{claim_id}/expenses", {"day": SUMMER.isoformat(), **body}
    )


async def mileage(client: Any, claim_id: int, miles: str = "10") -> dict[str, Any]:
    response = await add_expense(client, claim_id, kind="mileage", miles=miles)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def claim_with_mileage(client: Any, rep_id: int | None, miles: str = "10") -> dict[str, Any]:
    claim = await draft(client, rep_id)
    await mileage(client, claim["id"], miles)
    return claim


async def second_lead(world: Any, make_client: Any, org: Any) -> Any:
    await world.user(org, "second@trust.example", Role.INVOLVEMENT_LEAD)
    other = make_client()
    await sign_in(other, "second@trust.example")
    return other


async def finance_of(world: Any, make_client: Any, org: Any, email: str) -> Any:
    await world.user(org, email, Role.FINANCE_OFFICER)
    finance = make_client()
    await sign_in(finance, email)
    return finance


# ---------------------------------------------------------------------------- pay rules


async def test_two_two_hour_sessions_on_one_england_day_are_one_half_day(client, world):
    await lead_of(world, client)
    rep = await contracted_rep(client, full_name="Ann Able")
    # 00:30 in England in summer is 23:30 the evening before in UTC: the day is England's.
    early = await held(client, rep["id"], local(SUMMER, 0, 30), title="Early panel")
    late = await held(client, rep["id"], local(SUMMER, 19), title="Evening panel")
    early_start = (await Booking.get(id=early)).starts_at.astimezone(dt.UTC)
    assert early_start.date() == SUMMER - dt.timedelta(days=1)

    for booking_id in (early, late):
        shown = await attend(client, booking_id)
        assert shown["id"] == booking_id and shown["status"] == "attended"
        assert shown["attended_minutes"] == 120 and shown["preparation_minutes"] == 0
        assert shown["attendance_recorded_at"]
    assert await AuditEvent.filter(action="booking.attendance").count() == 2

    claim = await draft(client, rep["id"], SUMMER.replace(day=1), SUMMER.replace(day=31))
    assert claim["status"] == "draft" and claim["representative_id"] == rep["id"]
    assert fees(claim) == [(SUMMER.isoformat(), 240, "half_day", 7000, False)]
    assert "Early panel" in claim["lines"][0]["description"]
    assert claim["totals"] == {
        "fees_pence": 7000,
        "expenses_pence": 0,
        "adjustments_pence": 0,
        "total_pence": 7000,
    }
    assert (await client.get(f"/api/v1/claims/{claim['id']}")).json() == claim
    # A day already on a claim is never claimed again.
    again = await draft(client, rep["id"], SUMMER.replace(day=1), SUMMER.replace(day=31))
    assert again["lines"] == [] and again["totals"]["total_pence"] == 0


async def test_over_four_hours_is_a_day_and_over_eight_is_flagged(client, world):
    await lead_of(world, client)
    bob = await contracted_rep(client, full_name="Bob Baker")
    for hour in (9, 12, 15):
        await attend(client, await held(client, bob["id"], local(SUMMER, hour)))
    bob_claim = await draft(client, bob["id"])
    assert fees(bob_claim) == [(SUMMER.isoformat(), 360, "day", 14000, False)]

    cy = await contracted_rep(client, full_name="Cy Young")
    long = await held(client, cy["id"], local(SUMMER, 9))
    short = await held(client, cy["id"], local(SUMMER, 16))
    shown = await attend(client, long, attended_minutes=300, preparation_minutes=60)
    assert (shown["attended_minutes"], shown["preparation_minutes"]) == (300, 60)
    await attend(client, short, preparation_minutes=30)
    cy_claim = await draft(client, cy["id"])
    assert fees(cy_claim) == [(SUMMER.isoformat(), 510, "day", 14000, True)]
    fetched = (await client.get(f"/api/v1/claims/{cy_claim['id']}")).json()
    assert fetched["lines"][0]["needs_review"] is True


async def test_a_day_is_paid_at_the_rates_in_force_that_day(client, world):
    org = await lead_of(world, client)
    await RateCard.create(
        organisation_id=org.id,
        effective_from=dt.date(2000, 1, 1),
        day_pence=14000,
        half_day_pence=7000,
    )
    await RateCard.create(
        organisation_id=org.id, effective_from=SUMMER, day_pence=15000, half_day_pence=7500
    )
    rep = await contracted_rep(client, full_name="Dee Dale")
    before = SUMMER - dt.timedelta(days=1)
    after = SUMMER + dt.timedelta(days=1)
    await attend(client, await held(client, rep["id"], local(before, 10)))
    await attend(client, await held(client, rep["id"], local(SUMMER, 10)))
    await attend(client, await held(client, rep["id"], local(after, 10)), attended_minutes=300)
    claim = await draft(client, rep["id"], before, after)
    assert fees(claim) == [
        (before.isoformat(), 120, "half_day", 7000, False),
        (SUMMER.isoformat(), 120, "half_day", 7500, False),
        (after.isoformat(), 300, "day", 15000, False),
    ]
    assert claim["totals"]["total_pence"] == 29500


async def test_declining_payment_keeps_the_minutes_and_a_no_show_is_not_a_day(client, world):
    await lead_of(world, client)
    rep = await contracted_rep(client, full_name="Eve Fox", payment_preference="decline")
    await attend(client, await held(client, rep["id"], local(SUMMER, 10)))
    missed = await held(client, rep["id"], local(SUMMER + dt.timedelta(days=1), 10))
    no_show = await attend(client, missed, attended="no")
    assert no_show["status"] == "no_show" and no_show["attended_minutes"] == 0
    claim = await draft(client, rep["id"], SUMMER, SUMMER + dt.timedelta(days=1))
    assert fees(claim) == [(SUMMER.isoformat(), 120, "half_day", 0, False)]
    assert "(payment declined)" in claim["lines"][0]["description"]
    assert claim["totals"]["fees_pence"] == 0


async def test_an_earnings_limit_gives_a_warning_on_the_claim(client, world):
    await lead_of(world, client)
    rep = await contracted_rep(client, full_name="Fay Green")
    await Representative.filter(id=rep["id"]).update(
        earnings_limit_pence=5000, earnings_limit_period="week"
    )
    await attend(client, await held(client, rep["id"], local(SUMMER, 10)))
    claim = await draft(client, rep["id"])
    assert claim["totals"]["fees_pence"] == 7000
    assert "over their own limit of £50.00" in claim["earnings_warning"]
    assert "It does not stop the claim" in claim["earnings_warning"]


async def test_attendance_is_recorded_by_a_lead_once_the_activity_has_started(
    client, make_client, world
):
    await lead_of(world, client)
    rep = await with_email(client, "Gus Hale", "gus@people.example")
    activity = await create_activity(client, starts_at=at(4, 10))
    future = await booked(client, activity["id"], rep["id"])
    early = await client.api(
        "POST", f"/api/v1/bookings/{future['id']}/attendance", {"attended": "yes"}
    )
    assert early.status_code == 409
    assert errors_of(early) == {
        "attended": "Attendance can be recorded once the activity has started"
    }

    past = await held(client, rep["id"], local(SUMMER, 10))
    wrong = await client.api(
        "POST",
        f"/api/v1/bookings/{past}/attendance",
        {"attended": "maybe", "attended_minutes": "lots"},
    )
    assert wrong.status_code == 422
    assert set(errors_of(wrong)) == {"attended", "attended_minutes"}
    gus = await as_representative(make_client, "gus@people.example")
    own = await gus.api("POST", f"/api/v1/bookings/{past}/attendance", {"attended": "yes"})
    assert own.status_code == 403
    assert (await Booking.get(id=past)).attendance_recorded_at is None

    await attend(client, past)
    claim = await draft(client, rep["id"])
    submitted = await client.api("POST", f"/api/v1/claims/{claim['id']}/submit", {})
    assert submitted.status_code == 200, submitted.text
    # Once the day is on a submitted claim, attendance is corrected by an adjustment instead.
    late = await client.api("POST", f"/api/v1/bookings/{past}/attendance", {"attended": "no"})
    assert late.status_code == 409
    assert (await Booking.get(id=past)).status == "attended"


# ---------------------------------------------------------------------------- expenses


async def test_expenses_and_their_receipts(client, make_client, world, receipts):
    await lead_of(world, client)
    rep = await contracted_rep(client, full_name="Hana Ito")
    claim = await draft(client, rep["id"])
    cid = claim["id"]

    miles = await add_expense(
        client, cid, kind="mileage", miles="12.5", description="Home to the hospital and back"
    )
    assert miles.status_code == 201, miles.text
    assert miles.json()["amount_pence"] == 563  # 12.5 miles at 45p is 562.5p, rounded half up
    assert miles.json()["miles"] == "12.5" and miles.json()["receipt"] is None
    as_number = await add_expense(client, cid, kind="mileage", miles=12.5)
    assert as_number.status_code == 201 and as_number.json()["amount_pence"] == 563

    no_receipt = await add_expense(client, cid, kind="public_transport", amount_pence=380)
    assert no_receipt.status_code == 422
    assert errors_of(no_receipt) == {"receipt": "Add a photo or scan of the receipt or ticket"}

    ticket = await add_expense(
        client,
        cid,
        kind="public_transport",
        amount_pence=380,
        receipt={"filename": "ticket.png", "content_base64": b64(PNG)},
    )
    assert ticket.status_code == 201, ticket.text
    shown = ticket.json()
    assert shown["amount_pence"] == 380
    assert shown["receipt"] == {
        "name": "ticket.png",
        "type": "image/png",
        "url": f"/api/v1/expenses/{shown['id']}/receipt",
    }
    stored = await Expense.get(id=shown["id"])
    assert stored.receipt_path is not None
    path = receipts / stored.receipt_path
    assert path.read_bytes() == PNG
    # Receipts live outside the web root, by default and here.
    web_roots = [ROOT / "coprod" / "web" / "static", ROOT / "node_modules"]
    for folder in (path, ROOT / get_settings().receipts_dir):
        assert not any(folder.resolve().is_relative_to(root.resolve()) for root in web_roots)

    for content in (b"MZ\x90\x00" + bytes(60), b"\x7fELF\x02\x01\x01" + bytes(60)):
        disguised = await add_expense(
            client,
            cid,
            kind="public_transport",
            amount_pence=380,
            receipt={"filename": "receipt.pdf", "content_base64": b64(content)},
        )
        assert disguised.status_code == 422
        assert errors_of(disguised) == {"receipt": NOT_A_RECEIPT}
    too_big = await add_expense(
        client,
        cid,
        kind="public_transport",
        amount_pence=380,
        receipt={"filename": "big.png", "content_base64": b64(PNG + bytes(5 * 1024 * 1024))},
    )
    assert too_big.status_code == 422
    assert errors_of(too_big) == {"receipt": "The receipt must be smaller than 5 MB"}
    garbled = await add_expense(
        client,
        cid,
        kind="parking",
        amount_pence=200,
        receipt={"filename": "x.png", "content_base64": "not base64!"},
    )
    assert garbled.status_code == 422 and set(errors_of(garbled)) == {"receipt"}

    taxi_receipt = {"filename": "taxi.pdf", "content_base64": b64(PDF)}
    unagreed = await add_expense(client, cid, kind="taxi", amount_pence=1200, receipt=taxi_receipt)
    assert unagreed.status_code == 422
    assert errors_of(unagreed) == {
        "agreed_beforehand": "Taxis are paid only if agreed with your lead beforehand"
    }
    taxi = await add_expense(
        client, cid, kind="taxi", amount_pence=1200, agreed_beforehand=True, receipt=taxi_receipt
    )
    assert taxi.status_code == 201, taxi.text
    assert taxi.json()["receipt"]["type"] == "application/pdf"

    parking = await add_expense(client, cid, kind="parking", amount_pence=250)
    assert parking.status_code == 201 and parking.json()["amount_pence"] == 250
    nothing = await add_expense(client, cid, kind="parking", amount_pence=0)
    assert errors_of(nothing) == {"amount_pence": "Enter an amount more than £0"}
    # Money is whole pence in the API: pounds, fractions and nonsense are refused by field.
    pounds = await add_expense(client, cid, kind="parking", amount="2.50")
    assert errors_of(pounds) == {"amount": "Remove this field: it is not one this takes"}
    for amount in ("NaN", "Infinity", 2.5, "lots"):
        odd = await add_expense(client, cid, kind="parking", amount_pence=amount)
        assert odd.status_code == 422, (amount, odd.text)
        assert errors_of(odd) == {"amount_pence": "The amount in pence must be a whole number"}
    too_much = await add_expense(client, cid, kind="parking", amount_pence=10**30)
    assert errors_of(too_much) == {"amount_pence": "The amount in pence must be 1000000 or fewer"}
    for miles in ("NaN", "lots", [1]):
        odd = await add_expense(client, cid, kind="mileage", miles=miles)
        assert odd.status_code == 422 and set(errors_of(odd)) == {"miles"}, (miles, odd.text)
    outside = await add_expense(
        client,
        cid,
        kind="parking",
        amount_pence=200,
        day=(SUMMER + dt.timedelta(days=1)).isoformat(),
    )
    assert outside.status_code == 422 and set(errors_of(outside)) == {"day"}

    listed = (await client.get(f"/api/v1/claims/{cid}/expenses")).json()["items"]
    assert [e["amount_pence"] for e in listed] == [563, 563, 380, 1200, 250]
    assert await Expense.all().count() == 5
    assert len([f for f in receipts.rglob("*") if f.is_file()]) == 2  # refused files not kept
    detail = (await client.get(f"/api/v1/claims/{cid}")).json()
    assert detail["totals"]["expenses_pence"] == 563 + 563 + 380 + 1200 + 250

    # The receipt is served to the claimant's lead, and to nobody in another organisation.
    # The API serves it as the page does, under the same rules.
    for url in (f"/receipts/{shown['id']}", shown["receipt"]["url"]):
        served = await client.get(url)
        assert served.status_code == 200 and served.content == PNG, url
        assert served.headers["content-type"] == "image/png"
        assert served.headers["cache-control"] == "private, no-store"
    without = (await Expense.get(claim_id=cid, kind="parking")).id
    assert (await client.get(f"/api/v1/expenses/{without}/receipt")).status_code == 404
    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    assert (await other.get(f"/receipts/{shown['id']}")).status_code == 404
    assert (await other.get(shown["receipt"]["url"])).status_code == 404
    assert (await other.get(f"/api/v1/claims/{cid}/expenses")).status_code == 404
    theirs = await add_expense(other, cid, kind="mileage", miles="1")
    assert theirs.status_code == 404


# ---------------------------------------------------------------------------- workflow


async def test_approval_needs_someone_other_than_the_claimant_or_submitter(
    client, make_client, world
):
    org = await lead_of(world, client)
    lead2 = await second_lead(world, make_client, org)
    rep = await with_email(client, "Ida Jones", "ida@people.example")
    ida = await as_representative(make_client, "ida@people.example")
    ida_user = await User.get(email="ida@people.example")

    # Ida makes and submits her own claim.
    own = await claim_with_mileage(ida, None, "10")
    assert own["representative_id"] == rep["id"]
    submitted = await ida.api("POST", f"/api/v1/claims/{own['id']}/submit", {})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_by_id"] == ida_user.id
    assert (await ida.api("POST", f"/api/v1/claims/{own['id']}/approve", {})).status_code == 403

    expense_id = (await Expense.get(claim_id=own["id"])).id
    unexplained = await client.api(
        "POST",
        f"/api/v1/claims/{own['id']}/approve",
        {"adjustments": [{"expense_id": expense_id, "approved_pence": 300}]},
    )
    assert unexplained.status_code == 422
    assert errors_of(unexplained) == {"adjustments.0.reason": "Enter the reason for the change"}
    no_amount = await client.api(
        "POST",
        f"/api/v1/claims/{own['id']}/approve",
        {"adjustments": [{"expense_id": expense_id, "reason": "Shorter route"}]},
    )
    assert errors_of(no_amount) == {
        "adjustments.0.approved_pence": "Enter the approved amount in pence"
    }
    too_much = await client.api(
        "POST",
        f"/api/v1/claims/{own['id']}/approve",
        {"adjustments": [{"expense_id": expense_id, "approved_pence": 451, "reason": "x"}]},
    )
    assert too_much.status_code == 422
    assert errors_of(too_much) == {
        "adjustments.0.approved_pence": "The approved amount must be £4.50 or less"
    }
    not_whole = await client.api(
        "POST",
        f"/api/v1/claims/{own['id']}/approve",
        {"adjustments": [{"expense_id": expense_id, "approved_pence": 3.5, "reason": "x"}]},
    )
    assert errors_of(not_whole) == {
        "adjustments.0.approved_pence": "The approved amount in pence must be a whole number"
    }
    stranger = await client.api(
        "POST",
        f"/api/v1/claims/{own['id']}/approve",
        {"adjustments": [{"expense_id": expense_id + 999, "approved_pence": 1, "reason": "x"}]},
    )
    assert stranger.status_code == 422
    assert errors_of(stranger) == {"adjustments.0.expense_id": "This expense is not on the claim"}
    assert (await Claim.get(id=own["id"])).status == ClaimStatus.SUBMITTED

    approved = await client.api(
        "POST",
        f"/api/v1/claims/{own['id']}/approve",
        {
            "adjustments": [
                {"expense_id": expense_id, "approved_pence": 300, "reason": "Shorter route"}
            ]
        },
    )
    assert approved.status_code == 200, approved.text
    shown = approved.json()
    assert shown["status"] == "approved" and shown["decided_at"]
    assert shown["expenses"][0]["approved_pence"] == 300
    assert shown["expenses"][0]["adjustment_reason"] == "Shorter route"
    assert shown["totals"]["expenses_pence"] == 300

    # The lead who submitted a claim for Ida cannot decide it; another lead can.
    for_her = await claim_with_mileage(client, rep["id"])
    behalf = await client.api("POST", f"/api/v1/claims/{for_her['id']}/submit", {})
    assert behalf.status_code == 200, behalf.text
    own_approval = await client.api("POST", f"/api/v1/claims/{for_her['id']}/approve", {})
    assert own_approval.status_code == 409
    assert errors_of(own_approval) == {
        "claim": "Another involvement lead must decide this claim, not the person who made it"
    }
    own_rejection = await client.api(
        "POST", f"/api/v1/claims/{for_her['id']}/reject", {"reason": "No"}
    )
    assert own_rejection.status_code == 409

    no_reason = await lead2.api("POST", f"/api/v1/claims/{for_her['id']}/reject", {"reason": " "})
    assert no_reason.status_code == 422
    assert errors_of(no_reason) == {"reason": "Enter the reason, so they can put it right"}
    rejected = await lead2.api(
        "POST", f"/api/v1/claims/{for_her['id']}/reject", {"reason": "Wrong dates"}
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    seen = (await ida.get(f"/api/v1/claims/{for_her['id']}")).json()
    assert seen["status"] == "rejected" and seen["rejection_reason"] == "Wrong dates"

    # Put right and submitted again by Ida, the first lead may now approve it.
    await mileage(ida, for_her["id"], "2")
    again = await ida.api("POST", f"/api/v1/claims/{for_her['id']}/submit", {})
    assert again.status_code == 200 and again.json()["rejection_reason"] is None
    decided = await client.api("POST", f"/api/v1/claims/{for_her['id']}/approve", {})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    assert decided.json()["totals"]["expenses_pence"] == 450 + 90

    # A paid claim never changes.
    paid = await claim_with_mileage(client, rep["id"])
    await Claim.filter(id=paid["id"]).update(
        status=ClaimStatus.PAID, paid_at=dt.datetime.now(dt.UTC)
    )
    attempts = [
        await ida.api("POST", f"/api/v1/claims/{paid['id']}/submit", {}),
        await add_expense(ida, paid["id"], kind="mileage", miles="1"),
        await lead2.api("POST", f"/api/v1/claims/{paid['id']}/approve", {}),
        await lead2.api("POST", f"/api/v1/claims/{paid['id']}/reject", {"reason": "x"}),
    ]
    assert [r.status_code for r in attempts] == [409, 409, 409, 409]
    assert errors_of(attempts[0]) == {"status": "This claim is paid and can no longer be changed"}
    assert (await Claim.get(id=paid["id"])).status == ClaimStatus.PAID
    assert await Expense.filter(claim_id=paid["id"]).count() == 1


# ---------------------------------------------------------------------------- who sees what


async def test_who_may_see_and_change_which_claim(client, make_client, world):
    org = await lead_of(world, client)
    ann = await with_email(client, "Ann Able", "ann@people.example")
    bob = await with_email(client, "Bob Baker", "bob@people.example")
    ann_claim = await claim_with_mileage(client, ann["id"])
    bob_claim = await claim_with_mileage(client, bob["id"])
    submitted = await client.api("POST", f"/api/v1/claims/{bob_claim['id']}/submit", {})
    assert submitted.status_code == 200

    # A representative sees only their own claims.
    ann_client = await as_representative(make_client, "ann@people.example")
    listed = (await ann_client.get("/api/v1/claims")).json()["items"]
    assert [c["id"] for c in listed] == [ann_claim["id"]]
    assert listed[0]["total_pence"] == 450 and listed[0]["representative_name"] == "Ann Able"
    assert (await ann_client.get(f"/api/v1/claims/{bob_claim['id']}")).status_code == 404
    assert (await ann_client.get(f"/api/v1/claims/{bob_claim['id']}/expenses")).status_code == 404
    bobs = await ann_client.api(
        "POST",
        "/api/v1/claims",
        {"representative_id": bob["id"], "period_start": "2025-01-01", "period_end": "2025-01-31"},
    )
    assert bobs.status_code == 404
    assert (
        await add_expense(ann_client, bob_claim["id"], kind="mileage", miles="1")
    ).status_code == 404

    # Leads and finance see the organisation's, and can filter by status.
    everyone = (await client.get("/api/v1/claims")).json()["items"]
    assert {c["id"] for c in everyone} == {ann_claim["id"], bob_claim["id"]}
    finance = await finance_of(world, make_client, org, "finance@trust.example")
    waiting = (await finance.get("/api/v1/claims?status=submitted")).json()["items"]
    assert [c["id"] for c in waiting] == [bob_claim["id"]]
    assert (await finance.get("/api/v1/claims?status=lost")).status_code == 422
    assert (await finance.get(f"/api/v1/claims/{ann_claim['id']}")).status_code == 200
    made = await finance.api(
        "POST",
        "/api/v1/claims",
        {"representative_id": ann["id"], "period_start": "2025-01-01", "period_end": "2025-01-31"},
    )
    assert made.status_code == 403
    await world.user(org, "reporter@trust.example", Role.REPORTER)
    reporter = make_client()
    await sign_in(reporter, "reporter@trust.example")
    assert (await reporter.get("/api/v1/claims")).status_code == 403

    # Another organisation's lead finds nothing of ours.
    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    assert (await other.get("/api/v1/claims")).json() == {"items": [], "next_cursor": None}
    for path in (f"/api/v1/claims/{ann_claim['id']}", f"/api/v1/claims/{ann_claim['id']}/expenses"):
        assert (await other.get(path)).status_code == 404
    actions: dict[str, dict[str, Any]] = {
        "submit": {},
        "approve": {},
        "reject": {"reason": "x"},
        "correct": {"amount_pence": 100, "reason": "x"},
        "retry": {},
    }
    for action, body in actions.items():
        response = await other.api("POST", f"/api/v1/claims/{bob_claim['id']}/{action}", body)
        assert response.status_code in (403, 404), action
        assert response.status_code == 404 or action == "retry", action  # a lead is not finance
    assert (await other.get(f"/api/v1/claims/{bob_claim['id']}/expenses")).status_code == 404
    theirs = await other.api(
        "POST",
        "/api/v1/claims",
        {"representative_id": ann["id"], "period_start": "2025-01-01", "period_end": "2025-01-31"},
    )
    assert theirs.status_code == 404
    assert (await other.get(f"/api/v1/representatives/{ann['id']}/statement")).status_code == 404
    activity = await create_activity(client, starts_at=at(5, 10))
    booking = await booked(client, activity["id"], ann["id"])
    attendance = await other.api(
        "POST", f"/api/v1/bookings/{booking['id']}/attendance", {"attended": "yes"}
    )
    assert attendance.status_code == 404
    assert await Claim.all().count() == 2
    assert (await Claim.get(id=bob_claim["id"])).status == ClaimStatus.SUBMITTED


# ---------------------------------------------------------------------------- payments


async def test_pay_runs_and_payroll_exports_are_for_finance(client, make_client, world):
    org = await lead_of(world, client)
    ann = await contracted_rep(client, full_name="Ann Able")
    bob = await contracted_rep(client, full_name="Bob Baker")
    await Representative.filter(id=ann["id"]).update(payout_method="stripe")
    payroll = {"payout_method": "payroll", "payroll_reference": "PR-42"}
    ni = {"national_insurance_number": "AB 12 34 56 C"}
    set_up = await client.api(
        "PUT", f"/api/v1/representatives/{bob['id']}/payout-method", payroll | ni
    )
    assert set_up.status_code == 200, set_up.text
    ann_claim = await claim_with_mileage(client, ann["id"], "10")
    bob_claim = await claim_with_mileage(client, bob["id"], "20")
    await Claim.filter(id__in=[ann_claim["id"], bob_claim["id"]]).update(
        status=ClaimStatus.APPROVED
    )
    finance = await finance_of(world, make_client, org, "finance@trust.example")

    assert (await client.api("POST", "/api/v1/pay-runs", {})).status_code == 403
    assert (await client.get("/api/v1/pay-runs")).status_code == 403
    assert (await client.get("/api/v1/payroll-exports")).status_code == 403

    run = await finance.api("POST", "/api/v1/pay-runs", {})
    assert run.status_code == 201, run.text
    [attempt] = run.json()["items"]
    assert attempt["claim_id"] == ann_claim["id"] and attempt["representative_id"] == ann["id"]
    assert attempt["amount_pence"] == 450 and attempt["status"] == "pending"
    again = await finance.api("POST", "/api/v1/pay-runs", {})
    assert again.status_code == 201 and again.json()["items"] == []  # never queued twice

    await PaymentAttempt.filter(id=attempt["id"]).update(
        status=AttemptStatus.FAILED, failure_reason="The account was closed", retryable=False
    )
    failed = (await finance.get("/api/v1/pay-runs?status=failed")).json()["items"]
    assert [(a["id"], a["failure_reason"]) for a in failed] == [
        (attempt["id"], "The account was closed")
    ]
    assert (await finance.get("/api/v1/pay-runs?status=pending")).json()["items"] == []

    pay_day = {"payment_date": clock.today().isoformat()}
    exported = await finance.api("POST", "/api/v1/payroll-exports", pay_day)
    assert exported.status_code == 201, exported.text
    body = exported.json()
    assert body["claim_count"] == 1
    assert body["csv"].startswith("\ufeff")  # the file as finance downloads it
    rows = list(csv.reader(io.StringIO(body["csv"].removeprefix("\ufeff"))))
    assert rows[0][0] == "payroll_number"
    assert rows[1][:7] == [
        "PR-42",
        "AB123456C",
        "Bob Baker",
        "EXP-MILEAGE",
        "Mileage",
        "no",
        "9.00",
    ]
    assert rows[1][-1] == str(bob_claim["id"])
    assert (await Claim.get(id=bob_claim["id"])).status == ClaimStatus.SENT_TO_PAYROLL
    nothing = await finance.api("POST", "/api/v1/payroll-exports", pay_day)
    assert nothing.status_code == 422
    assert errors_of(nothing) == {"claims": "There are no approved payroll claims to export"}
    unexplained = await finance.api("POST", "/api/v1/payroll-exports", {"export_id": body["id"]})
    assert unexplained.status_code == 422 and set(errors_of(unexplained)) == {"reason"}
    redone = await finance.api(
        "POST", "/api/v1/payroll-exports", {"export_id": body["id"], "reason": "File was lost"}
    )
    assert redone.status_code == 201 and redone.json()["reason"] == "File was lost"
    listed = (await finance.get("/api/v1/payroll-exports")).json()["items"]
    assert {e["id"] for e in listed} == {body["id"], redone.json()["id"]}

    elsewhere = await finance_of(
        world, make_client, await world.org("Southshire NHS Trust"), "money@south.example"
    )
    nothing_here = {"items": [], "next_cursor": None}
    assert (await elsewhere.get("/api/v1/pay-runs")).json() == nothing_here
    assert (await elsewhere.get("/api/v1/payroll-exports")).json() == nothing_here
    assert (await elsewhere.api("POST", "/api/v1/pay-runs", {})).json() == {
        "items": [],
        "not_paid": [],
    }


# ---------------------------------------------------------------------------- statements


async def test_the_statement_lists_payments_made_in_the_tax_year(client, make_client, world):
    org = await lead_of(world, client)
    rep = await with_email(client, "Jo King", "jo@people.example")
    other_rep = await with_email(client, "Kim Lee", "kim@people.example")

    def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)

    paid = [
        # 23:30 UTC on 5 April is 00:30 on 6 April in England: inside tax year 2026.
        (ClaimStatus.PAID, utc(2026, 4, 5, 23, 30)),
        # 22:30 UTC on 5 April is still 5 April in England: tax year 2025.
        (ClaimStatus.PAID, utc(2026, 4, 5, 22, 30)),
        (ClaimStatus.SENT_TO_PAYROLL, utc(2027, 4, 5, 12)),
        (ClaimStatus.PAID, utc(2027, 4, 5, 23, 30)),  # 6 April 2027 in England: tax year 2027
        (ClaimStatus.APPROVED, None),  # not paid yet
    ]
    ids = []
    for status, paid_at in paid:
        claim = await claim_with_mileage(client, rep["id"], "10")
        await Claim.filter(id=claim["id"]).update(status=status, paid_at=paid_at)
        ids.append(claim["id"])

    expected = [
        {
            "claim_id": ids[0],
            "paid_on": "2026-04-06",
            "method": "Bank transfer",
            "fees_pence": 0,
            "expenses_pence": 450,
            "adjustments_pence": 0,
            "total_pence": 450,
        },
        {
            "claim_id": ids[2],
            "paid_on": "2027-04-05",
            "method": "Payroll",
            "fees_pence": 0,
            "expenses_pence": 450,
            "adjustments_pence": 0,
            "total_pence": 450,
        },
    ]
    url = f"/api/v1/representatives/{rep['id']}/statement?tax_year=2026"
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "representative_id": rep["id"],
        "tax_year": 2026,
        "starts_on": "2026-04-06",
        "ends_on": "2027-04-05",
        "items": expected,
    }
    jo = await as_representative(make_client, "jo@people.example")
    assert (await jo.get(url)).json()["items"] == expected
    finance = await finance_of(world, make_client, org, "finance@trust.example")
    assert (await finance.get(url)).json()["items"] == expected
    earlier = await client.get(f"/api/v1/representatives/{rep['id']}/statement?tax_year=2025")
    assert [r["claim_id"] for r in earlier.json()["items"]] == [ids[1]]
    assert (await client.get(f"{url[: url.index('?')]}?tax_year=soon")).status_code == 422
    assert await AuditEvent.filter(action="statement.view").count() == 4

    kim = await as_representative(make_client, "kim@people.example")
    assert (await kim.get(url)).status_code == 404
    own = await kim.get(f"/api/v1/representatives/{other_rep['id']}/statement?tax_year=2026")
    assert own.status_code == 200 and own.json()["items"] == []


# ---------------------------------------------------------------------------- OpenAPI


async def test_openapi_describes_the_claims_and_payments_operations(client):
    doc = (await client.get("/api/v1/openapi.json")).json()
    expected = {
        ("post", "/api/v1/bookings/{id}/attendance", "claims"),
        ("get", "/api/v1/claims", "claims"),
        ("post", "/api/v1/claims", "claims"),
        ("get", "/api/v1/claims/{id}", "claims"),
        ("post", "/api/v1/claims/{id}/submit", "claims"),
        ("post", "/api/v1/claims/{id}/approve", "claims"),
        ("post", "/api/v1/claims/{id}/reject", "claims"),
        ("post", "/api/v1/claims/{id}/correct", "claims"),
        ("get", "/api/v1/claims/{id}/expenses", "claims"),
        ("post", "/api/v1/claims/{id}/expenses", "claims"),
        ("post", "/api/v1/claims/{id}/retry", "payments"),
        ("get", "/api/v1/pay-runs", "payments"),
        ("post", "/api/v1/pay-runs", "payments"),
        ("get", "/api/v1/payroll-exports", "payments"),
        ("post", "/api/v1/payroll-exports", "payments"),
        ("get", "/api/v1/representatives/{id}/payout-method", "payments"),
        ("put", "/api/v1/representatives/{id}/payout-method", "payments"),
        ("post", "/api/v1/representatives/{id}/stripe-onboarding-link", "payments"),
        ("get", "/api/v1/payments/configuration", "payments"),
        ("get", "/api/v1/representatives/{id}/statement", "claims"),
        ("get", "/api/v1/representatives/{id}/earnings-limit", "claims"),
        ("put", "/api/v1/representatives/{id}/earnings-limit", "claims"),
        ("get", "/api/v1/earnings-limits", "claims"),
        ("get", "/api/v1/rate-card", "claims"),
        ("post", "/api/v1/rate-card", "claims"),
    }
    for method, path, tag in expected:
        assert doc["paths"][path][method]["tags"] == [tag], (method, path)
    assert_described(doc, [(method, path) for method, path, _ in expected])
    files = {
        "/api/v1/expenses/{id}/receipt": "application/octet-stream",
        "/api/v1/payroll-exports/{id}/csv": "text/csv",
        "/api/v1/representatives/{id}/statement/csv": "text/csv",
    }
    for path, content_type in files.items():
        assert content_type in doc["paths"][path]["get"]["responses"]["200"]["content"], path

    def body(path: str, method: str = "post") -> dict[str, Any]:
        content = doc["paths"][path][method]["requestBody"]["content"]["application/json"]
        return resolve(doc, content["schema"])

    claim = doc["paths"]["/api/v1/claims/{id}"]["get"]["responses"]["200"]["content"]
    assert {"lines", "expenses", "totals", "earnings_warning"} <= set(
        resolve(doc, claim["application/json"]["schema"])["properties"]
    )
    adjustments = body("/api/v1/claims/{id}/approve")["properties"]["adjustments"]
    item = resolve(doc, adjustments["items"])
    assert set(item["properties"]) == {"expense_id", "approved_pence", "reason"}
    expense = body("/api/v1/claims/{id}/expenses")["properties"]
    assert set(resolve(doc, expense["receipt"])["properties"]) == {"filename", "content_base64"}
    assert "amount" not in expense and "amount_pence" in expense  # money is pence
    assert (
        "own_amount_pence"
        in body("/api/v1/representatives/{id}/earnings-limit", "put")["properties"]
    )
    assert doc["paths"]["/api/v1/pay-runs"]["post"]["responses"].keys() >= {"201", "403"}


TOO_PRECISE = "The approved amount must be in pounds and pence, like 12.50, not smaller amounts"


@pytest.mark.parametrize(
    ("typed", "pence", "message"),
    [
        ("12.50", 1250, None),
        ("£12.5", 1250, None),
        ("7", 700, None),
        ("0.10", 10, None),
        (".5", 50, None),
        ("1,012.00", 101200, None),
        ("0", 0, None),
        ("12.345", None, TOO_PRECISE),
        ("abc", None, "Enter the approved amount in pounds, like 12.50"),
        ("1e3", None, "Enter the approved amount in pounds, like 12.50"),
        ("Infinity", None, "Enter the approved amount in pounds, like 12.50"),
        ("", None, "Enter the approved amount in pounds, like 12.50"),
        ("-1", -100, "The approved amount must be £0.00 or more"),
        ("2,000.01", 200001, "The approved amount must be £2,000.00 or less"),
    ],
)
def test_pounds_as_typed_become_exact_pence(typed: str, pence: int | None, message: str | None):
    c = Checker({"amount": typed})
    assert c.pounds("amount", "the approved amount", minimum=0, maximum=200_000) == pence
    assert [e.message for e in c.errors] == ([message] if message else [])


async def test_an_approver_adjusts_an_expense_in_pounds_on_the_page(client, make_client, world):
    org = await lead_of(world, client)
    lead2 = await second_lead(world, make_client, org)
    rep = await with_email(client, "Ida Jones", "ida@people.example")
    claim = await claim_with_mileage(client, rep["id"], "10")  # £4.50
    assert (await client.api("POST", f"/api/v1/claims/{claim['id']}/submit", {})).status_code == 200
    expense = await Expense.get(claim_id=claim["id"])
    page = await lead2.get(f"/claims/{claim['id']}")
    assert "Approved amount in pounds" in page.text and "in pence" not in page.text
    for typed, message in (
        ("12.345", "must be in pounds and pence, like 12.50"),
        ("abc", "Enter the approved amount in pounds, like 12.50"),
        ("-1", "The approved amount must be £0.00 or more"),
        ("5", "The approved amount must be £4.50 or less"),
    ):
        refused = await lead2.post_form(
            f"/claims/{claim['id']}/approve",
            {f"approved_{expense.id}": typed, f"reason_{expense.id}": "Shorter route"},
            token_from=f"/claims/{claim['id']}",
        )
        assert refused.status_code == 422 and message in refused.text, typed
        assert (await Claim.get(id=claim["id"])).status == ClaimStatus.SUBMITTED
    approved = await lead2.post_form(
        f"/claims/{claim['id']}/approve",
        {f"approved_{expense.id}": "3.80", f"reason_{expense.id}": "Shorter route"},
        token_from=f"/claims/{claim['id']}",
    )
    assert approved.status_code == 303
    await expense.refresh_from_db()
    assert expense.approved_pence == 380 and expense.adjustment_reason == "Shorter route"
