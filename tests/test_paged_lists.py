"""Long page lists are paged: 25 rows a page, a "Next" link, and anything odd is page 1."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from coprod import clock
from coprod.models import (
    AccessArrangement,
    Activity,
    ActivityStatus,
    AttemptStatus,
    Booking,
    BookingStatus,
    Claim,
    ClaimStatus,
    Consent,
    ConsentPurpose,
    Kind,
    PaymentAttempt,
    Representative,
    RepresentativeType,
    Role,
)
from tests.conftest import sign_in


async def _rep(org: Any, name: str, user: Any = None) -> Representative:
    return await Representative.create(
        organisation=org, full_name=name, representative_type=RepresentativeType.PATIENT, user=user
    )


async def _assert_paged(client: Any, url: str, pattern: str, total: int) -> None:
    """Page 1 has 25 of `pattern` and a Next link; page 2 has the rest; `page=abc` is page 1."""
    joiner = "&" if "?" in url else "?"
    first = await client.get(url)
    assert first.status_code == 200
    assert len(re.findall(pattern, first.text)) == 25
    assert "nhsuk-pagination" in first.text and "Next" in first.text
    second = await client.get(f"{url}{joiner}page=2")
    assert len(re.findall(pattern, second.text)) == total - 25
    assert "Previous" in second.text
    # The two pages hold different rows, so ordering is deterministic and nothing repeats.
    assert not set(re.findall(pattern, first.text)) & set(re.findall(pattern, second.text))
    odd = await client.get(f"{url}{joiner}page=abc")
    assert odd.status_code == 200
    assert re.findall(pattern, odd.text) == re.findall(pattern, first.text)


async def test_my_claims_are_paged(client, world):
    org = await world.org()
    user = await world.user(org, "sam@example.org", Role.REPRESENTATIVE)
    rep = await _rep(org, "Sam", user)
    start = dt.date(2026, 1, 5)
    # Every claim has the same period, so only the id tie-break orders them.
    await Claim.bulk_create(
        [
            Claim(organisation=org, representative=rep, period_start=start, period_end=start)
            for _ in range(30)
        ]
    )
    await sign_in(client, "sam@example.org")
    await _assert_paged(client, "/my/claims", r'href="/my/claims/(\d+)"', 30)


async def test_consents_for_review_are_paged(client, world):
    org = await world.org()
    await world.user(org, "lead@example.org", Role.INVOLVEMENT_LEAD)
    reps = [await _rep(org, f"Person {i}") for i in range(28)]
    due = clock.today()
    await Consent.bulk_create(
        [
            Consent(representative=r, purpose=ConsentPurpose.CONTACT, given_on=due, review_on=due)
            for r in reps
        ]
    )
    await sign_in(client, "lead@example.org")
    await _assert_paged(client, "/consents/review", r'href="/representatives/(\d+)"', 28)


async def test_finance_lists_are_paged(client, world):
    org = await world.org()
    await world.user(org, "fin@example.org", Role.FINANCE_OFFICER)
    rep = await _rep(org, "Sam")
    day = dt.date(2026, 1, 5)
    await Claim.bulk_create(
        [
            Claim(
                organisation=org,
                representative=rep,
                period_start=day + dt.timedelta(days=i % 3),
                period_end=day + dt.timedelta(days=3),
                status=ClaimStatus.APPROVED,
            )
            for i in range(27)
        ]
    )
    failed = await Claim.create(
        organisation=org,
        representative=rep,
        period_start=day,
        period_end=day,
        status=ClaimStatus.FAILED,
    )
    for n, reason in enumerate(["The card was declined.", "The account is closed."]):
        await PaymentAttempt.create(
            claim=failed,
            idempotency_key=f"claim-{failed.id}-{n}",
            amount_pence=100,
            status=AttemptStatus.FAILED,
            failure_reason=reason,
        )
    await sign_in(client, "fin@example.org")
    # Only approved claims link "Claim N</a>: Sam, paid by"; the failed one is listed apart.
    await _assert_paged(client, "/finance", r'href="/claims/(\d+)">Claim \d+</a>: Sam, paid', 27)
    text = (await client.get("/finance")).text
    # The latest failed attempt says why, on the first page of failed payments.
    assert f'href="/claims/{failed.id}"' in text and "The account is closed." in text


async def test_overdue_arrangements_are_paged(client, world):
    org = await world.org()
    await world.user(org, "lead@example.org", Role.INVOLVEMENT_LEAD)
    activity = await Activity.create(
        organisation=org, title="Panel", kind=Kind.MEETING, duration_minutes=60, capacity=40
    )
    starts = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    reps = [await _rep(org, f"Person {i}") for i in range(26)]
    await Booking.bulk_create(
        [
            Booking(
                activity=activity,
                representative=r,
                status=BookingStatus.CONFIRMED,
                mode="in_person",
                uid=f"booking-{r.id}",
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=1),
            )
            for r in reps
        ]
    )
    overdue = clock.today() - dt.timedelta(days=2)
    await AccessArrangement.bulk_create(
        [
            AccessArrangement(booking=b, kind="interpreter", label="Interpreter", due_on=overdue)
            for b in await Booking.filter(activity=activity)
        ]
    )
    await sign_in(client, "lead@example.org")
    await _assert_paged(client, "/arrangements/overdue", r'href="/bookings/(\d+)"', 26)


async def test_activities_are_paged(client, world):
    org = await world.org()
    await world.user(org, "lead@example.org", Role.INVOLVEMENT_LEAD)
    # All at the same time, so only the id tie-break orders them.
    starts = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    await Activity.bulk_create(
        [
            Activity(
                organisation=org,
                title=f"Panel {i}",
                kind=Kind.MEETING,
                duration_minutes=60,
                capacity=40,
                status=ActivityStatus.SCHEDULED,
                starts_at=starts,
            )
            for i in range(27)
        ]
    )
    first = await Activity.filter(organisation=org).order_by("id").first()
    assert first is not None
    await Booking.create(
        activity=first,
        representative=await _rep(org, "Sam"),
        status=BookingStatus.CONFIRMED,
        mode="in_person",
        uid="booking-1",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
    )
    await sign_in(client, "lead@example.org")
    await _assert_paged(client, "/activities", r'href="/activities/(\d+)"', 27)
    text = (await client.get("/activities")).text
    # Places taken are still counted from the page's own bookings.
    assert "1 of 40" in text and text.count("0 of 40") == 24


async def test_representatives_are_paged_and_keep_their_filters(client, world):
    org = await world.org()
    await world.user(org, "lead@example.org", Role.INVOLVEMENT_LEAD)
    # Names differ only in case, so the order is by name and then by id.
    await Representative.bulk_create(
        [
            Representative(
                organisation=org,
                full_name="alex" if i % 2 else "Alex",
                representative_type=RepresentativeType.CARER,
                preferred_modes=["video"] if i < 27 else [],
            )
            for i in range(30)
        ]
        + [
            Representative(
                organisation=org,
                full_name="Pat",
                representative_type=RepresentativeType.PATIENT,
                preferred_modes=["video"],
            )
        ]
    )
    await sign_in(client, "lead@example.org")
    url = "/representatives?type=carer&mode=video"
    await _assert_paged(client, url, r'href="/representatives/(\d+)">[Aa]lex<', 27)
    first = (await client.get(url)).text
    # The Next link keeps the filters, and the count is of every match, not the page.
    assert "/representatives?type=carer&amp;mode=video&amp;page=2" in first
    assert "27 representatives." in first
    assert "Pat<" not in first
    everyone = await client.get("/representatives?page=2")
    assert len(re.findall(r'href="/representatives/(\d+)">', everyone.text)) == 6
