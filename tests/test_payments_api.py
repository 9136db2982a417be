"""The API twins of the claim, payment and rate-card pages: correcting a paid claim, retrying a
failed payment, choosing how someone is paid, the Stripe onboarding link, the rate card, the
files finance and representatives download, and paging. Real database, the app in-process,
the Stripe stand-in for Stripe."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod import clock
from coprod.config import get_settings
from coprod.models import (
    AttemptStatus,
    AuditEvent,
    Claim,
    ClaimLine,
    ClaimStatus,
    LineKind,
    Organisation,
    PaymentAttempt,
    RateCard,
    Representative,
    Role,
)
from coprod.services import payouts
from tests.conftest import sign_in
from tests.stripe_standin import StripeStandIn
from tests.test_activities_api import as_representative
from tests.test_payouts import (  # noqa: F401  (fixtures)
    claim_of,
    gateway,
    new_rep,
    standin,
    trust,
    use_gateway,
)
from tests.test_representatives_api import errors_of

NOT_SET_UP_FOR_YOU = (
    "Payment set-up is not available yet. Your involvement lead will tell you how you will be paid."
)


async def signed_in(make_client: Any, email: str) -> Any:
    c = make_client()
    await sign_in(c, email)
    return c


async def other_trust_member(world: Any, make_client: Any, email: str, *roles: Role) -> Any:
    org = await Organisation.get_or_none(name="Southshire NHS Trust") or await world.org(
        "Southshire NHS Trust"
    )
    await world.user(org, email, *roles)
    return await signed_in(make_client, email)


# ---------------------------------------------------------------------------- corrections


async def test_a_lead_corrects_a_paid_claim_in_pence(world, client, make_client):
    t = await trust(world)
    rep = await new_rep(t, "Ada Able")
    paid = await claim_of(rep, status=ClaimStatus.PAID)
    still_open = await claim_of(rep, status=ClaimStatus.SUBMITTED)
    await sign_in(client, "lead@trust.example")
    url = f"/api/v1/claims/{paid.id}/correct"

    wrong = await client.api("POST", url, {"amount_pence": "twelve"})
    assert wrong.status_code == 422
    assert errors_of(wrong) == {
        "amount_pence": "The correction in pence (negative to take back) must be a whole number",
        "reason": "Enter the reason for the correction",
    }
    nothing = await client.api("POST", url, {"amount_pence": 0, "reason": "Overpaid"})
    assert errors_of(nothing) == {"amount_pence": "Enter a correction other than 0"}
    not_paid = await client.api(
        "POST", f"/api/v1/claims/{still_open.id}/correct", {"amount_pence": 100, "reason": "x"}
    )
    assert not_paid.status_code == 409 and set(errors_of(not_paid)) == {"status"}
    assert await Claim.all().count() == 2

    made = await client.api("POST", url, {"amount_pence": -1250, "reason": "Overpaid"})
    assert made.status_code == 201, made.text
    correction = made.json()
    assert correction["id"] not in (paid.id, still_open.id)
    assert correction["status"] == "draft" and correction["representative_id"] == rep.id
    assert correction["totals"]["adjustments_pence"] == -1250
    [line] = correction["lines"]
    assert line["kind"] == "adjustment" and line["amount_pence"] == -1250
    assert line["description"] == f"Correction to claim {paid.id}: Overpaid"
    assert (await Claim.get(id=paid.id)).status == ClaimStatus.PAID  # a paid claim never changes
    event = await AuditEvent.get(action="claim.correct")
    assert event.before == {"claim_id": paid.id} and event.entity_id == str(correction["id"])

    finance = await signed_in(make_client, "finance@trust.example")
    body = {"amount_pence": 100, "reason": "x"}
    assert (await finance.api("POST", url, body)).status_code == 403
    other = await other_trust_member(
        world, make_client, "lead@south.example", Role.INVOLVEMENT_LEAD
    )
    assert (await other.api("POST", url, body)).status_code == 404
    assert await ClaimLine.filter(kind=LineKind.ADJUSTMENT).count() == 1


# ---------------------------------------------------------------------------- retries


async def test_finance_retries_a_failed_payment(world, client, make_client):
    t = await trust(world)
    rep = await new_rep(t, "Ada Able", payout_method="stripe")
    failed = await claim_of(rep, status=ClaimStatus.FAILED)
    first = await PaymentAttempt.create(
        claim=failed,
        idempotency_key=payouts.idempotency_key(failed, 0),
        amount_pence=7000,
        status=AttemptStatus.FAILED,
        failure_reason="Stripe could not be reached",
        retryable=True,
    )
    url = f"/api/v1/claims/{failed.id}/retry"
    await sign_in(client, "lead@trust.example")
    assert (await client.api("POST", url, {})).status_code == 403
    finance = await signed_in(make_client, "finance@trust.example")
    assert errors_of(await finance.api("POST", url, {"now": True})) == {
        "now": "Remove this field: it is not one this takes"
    }
    assert await PaymentAttempt.all().count() == 1

    retried = await finance.api("POST", url, {})
    assert retried.status_code == 201, retried.text
    attempt = retried.json()
    assert attempt["id"] != first.id and attempt["claim_id"] == failed.id
    assert attempt["status"] == "pending" and attempt["amount_pence"] == 7000
    assert attempt["representative_id"] == rep.id
    assert (await Claim.get(id=failed.id)).status == ClaimStatus.APPROVED
    # A passing failure keeps the key, so Stripe can never pay it twice.
    assert (await PaymentAttempt.get(id=attempt["id"])).idempotency_key == first.idempotency_key
    assert (await AuditEvent.get(action="payment.retry")).after == {"attempt_id": attempt["id"]}

    again = await finance.api("POST", url, {})
    assert again.status_code == 409
    assert errors_of(again) == {"claim": "Only a claim whose payment failed can be tried again"}
    elsewhere = await other_trust_member(
        world, make_client, "money@south.example", Role.FINANCE_OFFICER
    )
    await Claim.filter(id=failed.id).update(status=ClaimStatus.FAILED)
    assert (await elsewhere.api("POST", url, {})).status_code == 404
    assert await PaymentAttempt.all().count() == 2


# ---------------------------------------------------------------------------- payment set-up


async def test_choosing_how_someone_is_paid(world, client, make_client):
    t = await trust(world)
    ada = await new_rep(t, "Ada Able", "ada@people.example")
    await new_rep(t, "Bob Baker", "bob@people.example")
    ada_client = await as_representative(make_client, "ada@people.example")
    url = f"/api/v1/representatives/{ada.id}/payout-method"

    shown = await ada_client.get(url)
    assert shown.status_code == 200, shown.text
    assert shown.json() == {
        "representative_id": ada.id,
        "payout_method": None,
        "payroll_reference": None,
        "national_insurance_number": None,
        "stripe_account": False,
        "stripe_payouts_enabled": False,
        "stripe_transfers_active": False,
        "stripe_ready": False,
    }
    # Finance and leads add a National Insurance number, not the person themselves.
    own_ni = await ada_client.api(
        "PUT",
        url,
        {
            "payout_method": "payroll",
            "payroll_reference": "PR-9",
            "national_insurance_number": "AB123456C",
        },
    )
    assert own_ni.status_code == 422
    assert errors_of(own_ni) == {
        "national_insurance_number": "Ask finance or your involvement lead to add a National "
        "Insurance number"
    }
    unnamed = await ada_client.api("PUT", url, {"payout_method": "payroll"})
    assert unnamed.status_code == 422
    assert errors_of(unnamed) == {"payroll_reference": "Enter their payroll reference"}
    cash = await ada_client.api("PUT", url, {"payout_method": "cash"})
    assert errors_of(cash) == {"payout_method": "Select how they are paid"}
    assert (await Representative.get(id=ada.id)).payout_method is None

    chosen = await ada_client.api(
        "PUT", url, {"payout_method": "payroll", "payroll_reference": " PR-9 "}
    )
    assert chosen.status_code == 200, chosen.text
    assert (chosen.json()["payout_method"], chosen.json()["payroll_reference"]) == (
        "payroll",
        "PR-9",
    )
    stored = await Representative.get(id=ada.id)
    assert (stored.payout_method, stored.payroll_reference) == ("payroll", "PR-9")
    event = await AuditEvent.get(action="payout.method")
    assert event.after == {"payout_method": "payroll", "payroll_reference": "PR-9"}

    # Her lead and finance may see and change it too; nobody else can find it.
    await sign_in(client, "lead@trust.example")
    assert (await client.get(url)).json()["payout_method"] == "payroll"
    finance = await signed_in(make_client, "finance@trust.example")
    switched = await finance.api("PUT", url, {"payout_method": "stripe"})
    assert switched.json()["payout_method"] == "stripe"
    assert switched.json()["payroll_reference"] == "PR-9"  # kept for a switch back
    bob = await as_representative(make_client, "bob@people.example")
    assert (await bob.get(url)).status_code == 404
    assert (await bob.api("PUT", url, {"payout_method": "payroll"})).status_code == 404
    other = await other_trust_member(
        world, make_client, "lead@south.example", Role.INVOLVEMENT_LEAD
    )
    assert (await other.get(url)).status_code == 404
    reporter = await other_trust_member(world, make_client, "rep@south.example", Role.REPORTER)
    assert (await reporter.get(url)).status_code == 403
    assert (await Representative.get(id=ada.id)).payout_method == "stripe"

    # Without Stripe set up, the person gets the kind message and staff the set-up problem.
    link = f"/api/v1/representatives/{ada.id}/stripe-onboarding-link"
    refused = await ada_client.api("POST", link, {})
    assert refused.status_code == 409
    assert errors_of(refused) == {"stripe": NOT_SET_UP_FOR_YOU}
    assert "STRIPE_API_KEY" in errors_of(await finance.api("POST", link, {}))["stripe"]
    assert (await Representative.get(id=ada.id)).stripe_account_id is None
    admin_org = await Organisation.get(id=t.organisation_id)
    await world.user(admin_org, "admin@trust.example", Role.ORG_ADMIN)
    admin = await signed_in(make_client, "admin@trust.example")
    configuration = (await admin.get("/api/v1/payments/configuration")).json()
    assert configuration["stripe_ready"] is False
    assert "STRIPE_API_KEY" in configuration["problems"][0]
    assert (await ada_client.get("/api/v1/payments/configuration")).status_code == 403


async def test_the_onboarding_link_comes_from_stripe_while_they_wait(
    world: Any,
    make_client: Any,
    standin: StripeStandIn,  # noqa: F811  (the fixture)
    gateway: Any,  # noqa: F811
) -> None:
    t = await trust(world)
    ada = await new_rep(t, "Ada Able", "ada@people.example")
    ada_client = await as_representative(make_client, "ada@people.example")
    url = f"/api/v1/representatives/{ada.id}/stripe-onboarding-link"

    standin.fail_next("/v1/account_links", 400)
    down = await ada_client.api("POST", url, {})
    assert down.status_code == 409
    assert errors_of(down)["stripe"].startswith("Bank transfer could not be set up just now")

    made = await ada_client.api("POST", url, {})
    assert made.status_code == 200, made.text
    stored = await Representative.get(id=ada.id)
    account_id = stored.stripe_account_id
    assert account_id is not None and list(standin.accounts) == [account_id]
    assert made.json()["url"].startswith(f"{standin.url}/onboarding/{account_id}/")
    assert stored.payout_method == "stripe"
    assert await AuditEvent.filter(action="payout.stripe_account").count() == 1
    shown = (await ada_client.get(f"/api/v1/representatives/{ada.id}/payout-method")).json()
    assert shown["stripe_account"] is True and shown["stripe_ready"] is True


# ---------------------------------------------------------------------------- the rate card


async def test_finance_and_administrators_keep_the_rate_card(world, client, make_client):
    t = await trust(world)
    org = await Organisation.get(id=t.organisation_id)
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    settings = get_settings()
    finance = await signed_in(make_client, "finance@trust.example")
    standard = {
        "effective_from": "2000-01-01",
        "day_pence": settings.day_rate_pence,
        "half_day_pence": settings.half_day_rate_pence,
        "half_day_max_minutes": settings.half_day_max_minutes,
        "day_max_minutes": settings.day_max_minutes,
    }
    assert (await finance.get("/api/v1/rate-card")).json() == {
        "items": [standard],
        "next_cursor": None,
    }

    wrong = await finance.api("POST", "/api/v1/rate-card", {"day_pence": "lots"})
    assert wrong.status_code == 422
    assert errors_of(wrong) == {
        "effective_from": "Enter the date the new rates start",
        "day_pence": "The day rate in pence must be a whole number",
        "half_day_pence": "Enter the half-day rate in pence",
    }
    rates = {"day_pence": 15000, "half_day_pence": 7500}
    past = await finance.api(
        "POST", "/api/v1/rate-card", {"effective_from": clock.today().isoformat(), **rates}
    )
    assert errors_of(past) == {
        "effective_from": "New rates must start in the future, so that no past day changes"
    }
    assert await RateCard.all().count() == 0

    start = clock.today() + dt.timedelta(days=30)
    added = await finance.api(
        "POST", "/api/v1/rate-card", {"effective_from": start.isoformat(), **rates}
    )
    assert added.status_code == 201, added.text
    assert added.json() == {**standard, "effective_from": start.isoformat(), **rates}
    assert (await AuditEvent.get(action="rate_card.add")).after["day_pence"] == 15000

    admin = await signed_in(make_client, "admin@trust.example")
    first = (await admin.get("/api/v1/rate-card?limit=1")).json()
    assert first["items"] == [standard] and first["next_cursor"]
    second = (await admin.get(f"/api/v1/rate-card?limit=1&cursor={first['next_cursor']}")).json()
    assert [r["effective_from"] for r in second["items"]] == [start.isoformat()]
    assert second["next_cursor"] is None

    await sign_in(client, "lead@trust.example")
    assert (await client.get("/api/v1/rate-card")).status_code == 403
    later = {"effective_from": (start + dt.timedelta(days=1)).isoformat(), **rates}
    assert (await client.api("POST", "/api/v1/rate-card", later)).status_code == 403
    elsewhere = await other_trust_member(
        world, make_client, "money@south.example", Role.FINANCE_OFFICER
    )
    assert (await elsewhere.get("/api/v1/rate-card")).json()["items"] == [standard]
    assert await RateCard.filter(organisation_id=t.organisation_id).count() == 2


# ---------------------------------------------------------------------------- files and lists


async def test_the_files_are_those_the_pages_give(world, client, make_client):
    t = await trust(world)
    ada = await new_rep(t, "Ada Able")
    await payouts.set_payout_method(
        t.lead,
        ada,
        {
            "payout_method": "payroll",
            "payroll_reference": "PR-1",
            "national_insurance_number": "AB123456C",
        },
    )
    await claim_of(ada, expense=380)
    finance = await signed_in(make_client, "finance@trust.example")
    pay_day = {"payment_date": clock.today().isoformat()}
    export = (await finance.api("POST", "/api/v1/payroll-exports", pay_day)).json()

    url = f"/api/v1/payroll-exports/{export['id']}/csv"
    file = await finance.get(url)
    page = await finance.get(f"/finance/exports/{export['id']}.csv")
    assert file.status_code == 200 and file.content == page.content
    assert file.headers["content-type"].startswith("text/csv")
    assert f"payroll-{export['id']}.csv" in file.headers["content-disposition"]
    assert "PR-1" in file.text
    await sign_in(client, "lead@trust.example")
    assert (await client.get(url)).status_code == 403
    elsewhere = await other_trust_member(
        world, make_client, "money@south.example", Role.FINANCE_OFFICER
    )
    assert (await elsewhere.get(url)).status_code == 404

    year = (await Claim.get(representative_id=ada.id)).paid_at
    assert year is not None
    tax_year = year.year if (year.month, year.day) >= (4, 6) else year.year - 1
    statement = f"/api/v1/representatives/{ada.id}/statement/csv?tax_year={tax_year}"
    file = await client.get(statement)
    page = await client.get(f"/representatives/{ada.id}/statement?format=csv&tax_year={tax_year}")
    assert file.status_code == 200 and file.content == page.content
    assert file.headers["content-type"].startswith("text/csv")
    assert "Payroll" in file.text and "73.80" in file.text
    assert await AuditEvent.filter(action="statement.view").count() == 2  # an audited read
    bad = await client.get(f"/api/v1/representatives/{ada.id}/statement/csv?tax_year=1066")
    assert errors_of(bad) == {"tax_year": "The tax year must be 2000 or more"}
    assert (await elsewhere.get(statement)).status_code == 404


async def test_lists_page_by_cursor_and_limits_are_published(world, client, make_client):
    t = await trust(world)
    ada = await new_rep(t, "Ada Able", "ada@people.example")
    made = [await claim_of(ada, status=ClaimStatus.DRAFT) for _ in range(3)]
    await sign_in(client, "lead@trust.example")

    first = (await client.get("/api/v1/claims?limit=2")).json()
    second = (await client.get(f"/api/v1/claims?limit=2&cursor={first['next_cursor']}")).json()
    assert second["next_cursor"] is None
    seen = [c["id"] for c in first["items"] + second["items"]]
    assert sorted(seen) == sorted(c.id for c in made) and len(first["items"]) == 2
    mine = await as_representative(make_client, "ada@people.example")
    assert len((await mine.get(f"/api/v1/claims?representative_id={ada.id}")).json()["items"]) == 3
    for query, field in (("limit=0", "limit"), ("cursor=forged", "cursor"), ("status=x", "status")):
        refused = await client.get(f"/api/v1/claims?{query}")
        assert refused.status_code == 422 and set(errors_of(refused)) == {field}, query

    limits = (await mine.get("/api/v1/earnings-limits")).json()["items"]
    assert [lim["code"] for lim in limits] == [lim.code for lim in get_settings().earnings_limits]
    assert all(isinstance(lim["amount_pence"], int) for lim in limits)
