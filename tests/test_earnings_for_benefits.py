"""Earnings for benefits: corrections count, the limit is the figure in force for the week or
month checked, the API warns as the pages do, and a nonsense limit is a plain error. Through
attendance, claim, approval and payroll, as people would."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from typing import Any

import pytest

from coprod import clock
from coprod.config import EarningsLimit, get_settings
from coprod.models import Representative
from coprod.services import earnings
from tests.test_activities_api import as_representative, at, contracted_rep, create_activity
from tests.test_claims_api import SUMMER, attend, draft, finance_of, held, local, second_lead
from tests.test_representatives_api import errors_of, lead_of

WEEK_START = SUMMER - dt.timedelta(days=SUMMER.weekday())


async def set_limit(client: Any, rep_id: int, **body: Any) -> dict[str, Any]:
    response = await client.api("PUT", f"/api/v1/representatives/{rep_id}/earnings-limit", body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def ann_with_limit(
    client: Any, make_client: Any, world: Any, **limit: Any
) -> tuple[Any, dict[str, Any], Any]:
    org = await lead_of(world, client)
    ann = await contracted_rep(
        client, full_name="Ann Able", email="ann@people.example", contact_channels=["email"]
    )
    ann_client = await as_representative(make_client, "ann@people.example")
    await set_limit(ann_client, ann["id"], **limit)
    return org, ann, ann_client


async def test_a_correction_counts_towards_earnings_in_the_week_it_puts_right(
    client, make_client, world
):
    org, ann, ann_client = await ann_with_limit(
        client, make_client, world, earnings_limit="own", own_amount_pence=10000, own_period="week"
    )
    await attend(client, await held(client, ann["id"], local(SUMMER, 10)))
    claim = await draft(ann_client, None)
    assert claim["totals"]["fees_pence"] == 7000
    assert claim["earnings_warning"] is None and claim["warnings"] == []  # £70 of £100

    # Submitted, approved by a lead, and sent to payroll: paid.
    await ann_client.post_form(
        "/my/payments", {"payout_method": "payroll", "payroll_reference": "PR-7"}
    )
    assert (await ann_client.api("POST", f"/api/v1/claims/{claim['id']}/submit", {})).is_success
    assert (await client.api("POST", f"/api/v1/claims/{claim['id']}/approve", {})).is_success
    ni = {"national_insurance_number": "AB123456C"}
    payroll = {"payout_method": "payroll", "payroll_reference": "PR-7"} | ni
    url = f"/api/v1/representatives/{ann['id']}/payout-method"
    assert (await client.api("PUT", url, payroll)).status_code == 200
    finance = await finance_of(world, make_client, org, "finance@trust.example")
    pay_day = {"payment_date": clock.today().isoformat()}
    assert (await finance.api("POST", "/api/v1/payroll-exports", pay_day)).status_code == 201

    # A £50 correction to that day takes the week to £120, over her £100.
    corrected = await client.post_form(
        f"/claims/{claim['id']}/correct",
        {"amount_pence": "5000", "reason": "Preparation was not counted"},
        token_from=f"/claims/{claim['id']}",
    )
    assert corrected.status_code == 303, corrected.text
    correction_id = int(corrected.headers["location"].split("/")[2].split("?")[0])
    correction = (await client.get(f"/api/v1/claims/{correction_id}")).json()
    assert correction["totals"]["adjustments_pence"] == 5000
    expected = (
        f"Ann Able's earnings for the week starting {WEEK_START.strftime('%-d %B %Y')} come to "
        "£120.00, over their own limit of £100.00. This may affect their benefits. "
        "It does not stop the claim."
    )
    assert correction["earnings_warning"] == expected
    assert correction["warnings"] == [{"representative_id": ann["id"], "message": expected}]
    page = await client.get(f"/claims/{correction_id}")
    assert expected in html.unescape(page.text)

    # Sent back, the correction no longer counts; a rejected claim is not earnings.
    other_lead = await second_lead(world, make_client, org)
    assert (await client.api("POST", f"/api/v1/claims/{correction_id}/submit", {})).is_success
    rejected = await other_lead.api(
        "POST", f"/api/v1/claims/{correction_id}/reject", {"reason": "Not agreed"}
    )
    assert rejected.json()["earnings_warning"] is None
    rep = await Representative.get(id=ann["id"])
    position = await earnings.earnings_position(rep, SUMMER)
    assert position is not None and (position.earned_pence, position.over) == (7000, False)


@pytest.fixture
def dated_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ESA figure that went up the week after SUMMER: today the higher one is in force."""
    figures = (
        EarningsLimit(
            "esa_permitted_work",
            "ESA permitted work, weekly",
            "week",
            10000,
            SUMMER - dt.timedelta(days=400),
        ),
        EarningsLimit(
            "esa_permitted_work",
            "ESA permitted work, weekly",
            "week",
            50000,
            WEEK_START + dt.timedelta(days=7),
        ),
    )
    patched = dataclasses.replace(get_settings(), earnings_limits=figures)
    monkeypatch.setattr(earnings, "get_settings", lambda: patched)


async def test_the_limit_checked_is_the_one_in_force_for_that_week(
    client, make_client, world, dated_figures
):
    _, ann, ann_client = await ann_with_limit(
        client, make_client, world, earnings_limit="esa_permitted_work"
    )
    await attend(
        client, await held(client, ann["id"], local(SUMMER, 10), duration=300)
    )  # a day: £140
    claim = await draft(ann_client, None)
    assert claim["totals"]["fees_pence"] == 14000
    # £140 is under today's £500, but over the £100 that applied that week.
    assert "over ESA permitted work, weekly of £100.00" in claim["earnings_warning"]
    shown = (await ann_client.get(f"/api/v1/representatives/{ann['id']}/earnings-limit")).json()
    assert shown["earnings_limit"] == "esa_permitted_work"
    assert shown["position"]["limit_pence"] == 50000  # this week's figure
    assert shown["position"]["earned_pence"] == 0


async def test_the_api_warns_as_the_pages_do_at_invitation_booking_and_finalising(
    client, make_client, world
):
    await lead_of(world, client)
    ann = await contracted_rep(client, full_name="Ann Able")  # phone only: her lead acts for her
    await set_limit(
        client, ann["id"], earnings_limit="own", own_amount_pence=10000, own_period="week"
    )
    expected_start = clock.today() + dt.timedelta(days=14)

    # Booking onto a five-hour activity: a day's £140, over her £100.
    fixed = await create_activity(client, starts_at=at(14, 10), duration_minutes=300)
    booked = await client.api(
        "POST",
        f"/api/v1/activities/{fixed['id']}/bookings",
        {"representative_id": ann["id"], "mode": "phone"},
    )
    assert booked.status_code == 201, booked.text
    [warning] = booked.json()["warnings"]
    assert (warning["representative_id"], warning["about"]) == (ann["id"], "earnings")
    message = warning["message"]
    week = expected_start - dt.timedelta(days=expected_start.weekday())
    assert message == (
        f"This would take Ann Able's earnings for the week starting {week.strftime('%-d %B')} "
        "to £140.00, over their own limit of £100.00. This may affect their benefits. "
        "Talk with them before going ahead."
    )
    # The activity's page says the same, once she is booked as before.
    assert message in html.unescape((await client.get(f"/activities/{fixed['id']}")).text)

    # Inviting her to a second five-hour activity on another day, then finalising it.
    poll = await create_activity(client, title="Panel", duration_minutes=300)
    options = await client.api(
        "POST", f"/api/v1/activities/{poll['id']}/options", {"options": [at(21, 10), at(22, 10)]}
    )
    first_option = options.json()["items"][0]["id"]
    invited = await client.api(
        "POST", f"/api/v1/activities/{poll['id']}/invitations", {"representative_ids": [ann["id"]]}
    )
    assert invited.status_code == 201, invited.text
    [at_invitation] = invited.json()["warnings"]
    assert "to £140.00, over their own limit of £100.00" in at_invitation["message"]
    assert at_invitation["message"] in html.unescape(
        (await client.get(f"/activities/{poll['id']}")).text
    )
    await client.api(
        "POST",
        f"/api/v1/activities/{poll['id']}/answers",
        {
            "representative_id": ann["id"],
            "answers": {str(o["id"]): "yes" for o in options.json()["items"]},
            "mode": "phone",
        },
    )
    finalised = await client.api(
        "POST",
        f"/api/v1/activities/{poll['id']}/finalise",
        {"option_id": first_option, "representative_ids": [ann["id"]]},
    )
    assert finalised.status_code == 200, finalised.text
    # Booking and finalising also warn about training, so they say what each warning is about.
    assert finalised.json()["warnings"] == [
        {**w, "about": "earnings"} for w in invited.json()["warnings"]
    ]

    # Nobody over their limit, no warnings.
    bob = await contracted_rep(client, full_name="Bob Baker")
    short = await create_activity(client, title="Chat", starts_at=at(30, 10))
    plain = await client.api(
        "POST",
        f"/api/v1/activities/{short['id']}/bookings",
        {"representative_id": bob["id"], "mode": "phone"},
    )
    assert plain.status_code == 201 and plain.json()["warnings"] == []


NOT_POUNDS = "Enter your limit in pounds, like 195.50"
TOO_BIG = "Your limit must be £100,000 or less"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Infinity", NOT_POUNDS),
        ("-inf", NOT_POUNDS),
        ("nan", NOT_POUNDS),
        ("1e400", TOO_BIG),
        ("99999999999", TOO_BIG),
        ("0", NOT_POUNDS),
    ],
)
async def test_a_limit_that_is_not_a_sum_of_money_is_a_plain_error(
    client, make_client, world, typed, message
):
    await lead_of(world, client)
    ann = await contracted_rep(
        client, full_name="Ann Able", email="ann@people.example", contact_channels=["email"]
    )
    ann_client = await as_representative(make_client, "ann@people.example")
    body = {"earnings_limit": "own", "own_amount": typed, "own_period": "week"}

    page = await ann_client.post_form("/my/payments", {"action": "limit", **body})
    assert page.status_code == 422
    assert message in html.unescape(page.text) and "There is a problem" in page.text
    rep = await Representative.get(id=ann["id"])
    assert rep.earnings_limit_pence is None and rep.earnings_limit_period is None


NOT_PENCE = "Your limit in pence must be a whole number"


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("Infinity", NOT_PENCE),
        ("nan", NOT_PENCE),
        (195.5, NOT_PENCE),
        ("£195", NOT_PENCE),
        (0, "Your limit in pence must be 1 or more"),
        (-5, "Your limit in pence must be 1 or more"),
        (10_000_001, "Your limit in pence must be 10000000 or fewer"),
        (10**40, "Your limit in pence must be 10000000 or fewer"),
    ],
)
async def test_a_limit_that_is_not_whole_pence_is_a_plain_error_in_the_api(
    client, make_client, world, sent, message
):
    await lead_of(world, client)
    ann = await contracted_rep(
        client, full_name="Ann Able", email="ann@people.example", contact_channels=["email"]
    )
    ann_client = await as_representative(make_client, "ann@people.example")
    body = {"earnings_limit": "own", "own_amount_pence": sent, "own_period": "week"}
    api = await ann_client.api("PUT", f"/api/v1/representatives/{ann['id']}/earnings-limit", body)
    assert api.status_code == 422 and errors_of(api) == {"own_amount_pence": message}
    rep = await Representative.get(id=ann["id"])
    assert rep.earnings_limit_pence is None and rep.earnings_limit_period is None


async def test_a_huge_json_number_for_a_limit_is_a_plain_error(client, make_client, world):
    await lead_of(world, client)
    ann = await contracted_rep(client, full_name="Ann Able")
    token = await client.csrf("/")
    # 1e400 is a valid JSON number that Python reads as infinity.
    response = await client.http.put(
        f"/api/v1/representatives/{ann['id']}/earnings-limit",
        content=b'{"earnings_limit": "own", "own_amount_pence": 1e400, "own_period": "week"}',
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    # JSON reads it as infinity, which is no whole number.
    assert errors_of(response) == {"own_amount_pence": "Your limit in pence is not valid"}
    fine = await set_limit(
        client, ann["id"], earnings_limit="own", own_amount_pence=19550, own_period="week"
    )
    assert (fine["own_amount_pence"], fine["own_period"]) == (19550, "week")
    assert fine["position"]["limit_pence"] == 19550
