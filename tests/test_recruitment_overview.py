"""The lead's Recruitment page and its API twin: opportunities open and in draft, people at
each step (spam apart), this financial year's outreach, and courses; only the organisation's
own, and only for involvement leads."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from coprod import clock
from coprod.domain.reporting import financial_year, financial_year_of
from coprod.models import Opportunity, Outreach, Role
from tests import recruitment_rows as rows
from tests.conftest import sign_in


async def _recruiting(org_id: int) -> None:
    today = clock.today()
    start = financial_year(financial_year_of(today)).start
    published = dt.datetime.now(dt.UTC)
    common: dict[str, Any] = {
        "organisation_id": org_id,
        "involves": "Interviews",
        "time_commitment": "Half a day",
        "pay": "£70",
        "modes": ["video"],
        "accessibility": "Large print",
    }
    await Opportunity.create(title="Open", published_at=published, **common)
    await Opportunity.create(title="Draft", **common)
    await Opportunity.create(
        title="Closed", published_at=published, closes_on=today - dt.timedelta(days=1), **common
    )
    await Opportunity.create(
        title="Withdrawn", published_at=published, withdrawn_at=published, **common
    )
    for status in ("new", "new", "new", "chatted", "welcome_booked", "ready", "closed"):
        await rows.interest(org_id, status=status)
    await rows.interest(org_id, "Buy now", held_as_spam=True)
    for held_on, reached in ((start, 30), (today, 12), (start - dt.timedelta(days=1), 500)):
        await Outreach.create(
            organisation_id=org_id,
            kind="online",
            held_on=held_on,
            place="Web",
            people_reached=reached,
        )
    await rows.course(org_id, "Induction")


async def test_the_lead_sees_recruitment_at_a_glance_on_the_page_and_in_the_api(client, world):
    org = await world.org("Northshire NHS Trust")
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    other = await world.org("Southshire NHS Trust")
    await _recruiting(org.id)
    await _recruiting(other.id)  # another organisation's counts nothing here
    await sign_in(client, "lead@trust.example")

    page = await client.get("/recruitment")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "1 open, 1 in draft." in text
    assert "3 new, 1 chatted, 1 with a welcome session booked, 1 held as possible spam." in text
    assert "2 this financial year, reaching 42 people." in text
    assert "1 courses" in text
    assert f'href="/join/{org.slug}"' in text
    # The Recruitment item stays current on the pages it leads to.
    interests = await client.get("/interests")
    current = re.search(r'<a[^>]*aria-current="true"[^>]*>(.*?)</a>', interests.text, re.S)
    assert current and "Recruitment" in current.group(1)

    home = re.sub(r"\s+", " ", (await client.get("/")).text)
    assert "3 people interested in getting involved, waiting for a first chat" in home

    reply = await client.api("GET", "/api/v1/recruitment")
    assert reply.status_code == 200
    assert reply.json() == {
        "public_path": f"/join/{org.slug}",
        "open_opportunities": 1,
        "draft_opportunities": 1,
        "interest": {"new": 3, "chatted": 1, "welcome_booked": 1, "ready": 1, "closed": 1},
        "held_as_spam": 1,
        "outreach_this_year": 2,
        "people_reached_this_year": 42,
        "courses": 1,
    }


async def test_only_involvement_leads_see_it(client, world):
    org = await world.org("Northshire NHS Trust")
    await world.user(org, "finance@trust.example", Role.FINANCE_OFFICER)
    await sign_in(client, "finance@trust.example")
    assert (await client.get("/recruitment")).status_code == 403
    assert (await client.api("GET", "/api/v1/recruitment")).status_code == 403
