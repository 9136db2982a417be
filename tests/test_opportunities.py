"""Opportunities through the pages: a lead writes, publishes and withdraws one; the public sees
it on the organisation's page and its networks' pages while it is open, with easy-read and
large-print prints carrying a QR code to it; who may do what; and the closing date."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
import segno
import textstat

from coprod import clock
from coprod.config import get_settings
from coprod.domain import opportunities as rules
from coprod.models import (
    AuditEvent,
    MembershipStatus,
    Network,
    NetworkMembership,
    Organisation,
    Role,
)
from coprod.models.recruitment import Interest, InterestSource, Opportunity
from tests.conftest import sign_in
from tests.test_surveys import matrix_from_svg, visible_text

LEAD = "lead@trust.example"

ROLE = {
    "title": "Member of our staff interview panels",
    "activity_kind": "interview_panel",
    "involves": "You sit on the panel that interviews people for jobs in our crisis team.",
    "easy_read": "You help us pick new staff.\nYou meet the people who want the job.\n"
    "You ask them questions.",
    "time_commitment": "Half a day, about once a month",
    "pay": "£70 for half a day, plus travel",
    "modes": ["in_person", "video"],
    "accessibility": "The room is step-free. We can send papers in large print.",
}


async def signed_in_lead(
    world: Any,
    client: Any,
    org_name: str = "Northshire NHS Trust",
    role: Role = Role.INVOLVEMENT_LEAD,
) -> Organisation:
    org = await world.org(org_name)
    email = LEAD if org_name == "Northshire NHS Trust" else f"lead@{org.slug}.example"
    await world.user(org, email, role)
    await sign_in(client, email)
    return org


def form_data(values: dict[str, Any]) -> dict[str, Any]:
    """A page's form: a date as its three boxes, the ways to take part as ticked boxes."""
    data = {k: v for k, v in values.items() if k != "closes_on"}
    day = values.get("closes_on")
    if isinstance(day, dt.date):
        data |= {
            "closes_on[day]": day.day,
            "closes_on[month]": day.month,
            "closes_on[year]": day.year,
        }
    return data


async def write(client: Any, **changes: Any) -> Opportunity:
    response = await client.post_form("/opportunities/new", form_data(ROLE | changes))
    assert response.status_code == 303, response.text
    return await Opportunity.get(id=int(response.headers["location"].split("/")[2].split("?")[0]))


async def act(client: Any, opportunity: Opportunity, action: str) -> Any:
    return await client.post_form(
        f"/opportunities/{opportunity.id}/{action}",
        {},
        token_from=f"/opportunities/{opportunity.id}",
    )


def public(org: Organisation, opportunity: Opportunity) -> str:
    return f"/join/{org.slug}/opportunities/{opportunity.id}"


# ---------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("published", "withdrawn", "closes_in", "expected"),
    [
        (False, False, None, "draft"),
        (False, False, 5, "draft"),
        (True, False, None, "open"),
        (True, False, 0, "open"),  # open through its closing day
        (True, False, -1, "closed"),
        (True, True, 5, "withdrawn"),
        (True, True, -1, "withdrawn"),
        (False, True, None, "withdrawn"),
    ],
)
def test_where_an_opportunity_stands(published, withdrawn, closes_in, expected):
    today = dt.date(2026, 6, 30)
    closes_on = None if closes_in is None else today + dt.timedelta(days=closes_in)
    found = rules.stage(published=published, withdrawn=withdrawn, closes_on=closes_on, today=today)
    assert found.value == expected


@pytest.mark.parametrize(
    ("day", "half", "words"),
    [
        (14000, 7000, "£140 a day or £70 for half a day, plus travel and other expenses"),
        (15050, 7525, "£150.50 a day or £75.25 for half a day, plus travel and other expenses"),
        (100000, 50000, "£1,000 a day or £500 for half a day, plus travel and other expenses"),
    ],
)
def test_the_standard_pay_wording(day, half, words):
    assert rules.standard_pay(day, half) == words


def test_the_closing_day_is_a_london_date():
    # 23:30 UTC on 30 June is already 1 July in London: an opportunity closing on 30 June has
    # closed for someone reading it then.
    late = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)
    found = rules.stage(
        published=True, withdrawn=False, closes_on=dt.date(2026, 6, 30), today=clock.today(late)
    )
    assert found == rules.Stage.CLOSED


# ---------------------------------------------------------------------------- leads


async def test_a_lead_writes_publishes_and_withdraws_an_opportunity(client, make_client, world):
    org = await signed_in_lead(world, client)
    blank = await client.get("/opportunities/new")
    s = get_settings()
    standard = rules.standard_pay(s.day_rate_pence, s.half_day_rate_pence)
    assert blank.status_code == 200 and html.escape(standard) in blank.text

    opportunity = await write(client, closes_on=clock.today() + dt.timedelta(days=30))
    assert opportunity.modes == ["in_person", "video"] and opportunity.published_at is None
    anyone = make_client()
    assert (await anyone.get(public(org, opportunity))).status_code == 404
    assert ROLE["title"] not in (await anyone.get(f"/join/{org.slug}")).text

    published = await act(client, opportunity, "publish")
    assert published.status_code == 303
    page = await anyone.get(public(org, opportunity))
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert ROLE["title"] in text and ROLE["accessibility"] in text
    assert "Everyone is welcome — no one will be turned away" in text
    assert f'href="/join/{org.slug}/interest?opportunity={opportunity.id}"' in page.text
    listing = await anyone.get(f"/join/{org.slug}")
    assert ROLE["title"] in html.unescape(listing.text)
    detail = await client.get(f"/opportunities/{opportunity.id}")
    assert f'href="{public(org, opportunity)}/easy-read"' in detail.text
    for shown in (
        detail,
        page,
        await client.get("/opportunities"),
        await client.get(f"/opportunities/{opportunity.id}/edit"),
        await anyone.get(f"{public(org, opportunity)}/large-print"),
        await anyone.get(f"{public(org, opportunity)}/easy-read"),
    ):
        assert shown.status_code == 200 and "None" not in visible_text(shown.text)
    assert f'href="{public(org, opportunity)}/large-print"' in detail.text

    changed = await client.post_form(
        f"/opportunities/{opportunity.id}/edit",
        form_data(ROLE | {"title": "Interview panel member", "modes": ["phone"]}),
    )
    assert changed.status_code == 303
    assert "Interview panel member" in (await anyone.get(public(org, opportunity))).text

    withdrawn = await act(client, opportunity, "withdraw")
    assert withdrawn.status_code == 303
    assert (await anyone.get(public(org, opportunity))).status_code == 404
    assert (await anyone.get(f"{public(org, opportunity)}/easy-read")).status_code == 404
    listing = await anyone.get(f"/join/{org.slug}")
    assert "Interview panel member" not in listing.text
    # Interest is never refused: the general link is there with nothing open.
    assert f'href="/join/{org.slug}/interest"' in listing.text
    assert [
        e.action for e in await AuditEvent.filter(entity_type="Opportunity").order_by("id")
    ] == [
        "opportunity.create",
        "opportunity.publish",
        "opportunity.update",
        "opportunity.withdraw",
    ]


async def test_the_form_is_checked_field_by_field_and_nothing_is_half_saved(client, world):
    await signed_in_lead(world, client)
    refused = await client.post_form(
        "/opportunities/new", {"title": "x" * 201, "activity_kind": "party", "modes": "bus"}
    )
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    for message in (
        "The role must be 200 characters or fewer",
        "Select the kind of activity",
        "Enter what the role involves",
        "Enter how much time it takes",
        "Enter what it pays",
        "Select the ways to take part from the list",
        "Enter the support you offer so that everyone can take part",
    ):
        assert message in text
    nothing = await client.post_form("/opportunities/new", form_data(ROLE | {"modes": []}))
    assert "Select at least one way to take part" in nothing.text
    past = await client.post_form(
        "/opportunities/new", form_data(ROLE | {"closes_on": clock.today() - dt.timedelta(days=1)})
    )
    assert past.status_code == 422 and rules_message("closes_on") in past.text
    half = await client.post_form("/opportunities/new", form_data(ROLE) | {"closes_on[day]": "3"})
    assert "The closing date must include a day, month and year" in half.text
    assert await Opportunity.all().count() == 0
    assert await AuditEvent.filter(entity_type="Opportunity").count() == 0


def rules_message(field: str) -> str:
    from coprod.services.opportunities import CLOSING_DATE_PASSED

    return {"closes_on": CLOSING_DATE_PASSED}[field]


async def test_a_closed_opportunity_says_so_and_still_leads_to_interest(
    client, make_client, world, monkeypatch
):
    org = await signed_in_lead(world, client)
    today = clock.today()
    opportunity = await write(client, closes_on=today)
    await act(client, opportunity, "publish")
    anyone = make_client()
    assert (await anyone.get(public(org, opportunity))).status_code == 200  # its last day

    monkeypatch.setattr(clock, "today", lambda now=None: today + dt.timedelta(days=1))
    closed = await anyone.get(public(org, opportunity))
    assert closed.status_code == 404
    assert "This opportunity has closed" in closed.text
    assert f'href="/join/{org.slug}/interest?opportunity={opportunity.id}"' in closed.text
    assert ROLE["title"] not in (await anyone.get(f"/join/{org.slug}")).text
    for what in ("easy-read", "large-print", "qr.svg"):
        assert (await anyone.get(f"{public(org, opportunity)}/{what}")).status_code == 404
    lead_list = await client.get("/opportunities")
    assert "Closed or withdrawn" in lead_list.text

    # Publishing again needs a new closing date: refused, beside the date.
    withdrawn = await act(client, opportunity, "withdraw")
    assert withdrawn.status_code == 303
    again = await act(client, opportunity, "publish")
    assert again.status_code == 422 and rules_message("closes_on") in again.text
    await opportunity.refresh_from_db()
    assert opportunity.withdrawn_at is not None
    later = today + dt.timedelta(days=10)
    moved = await client.post_form(
        f"/opportunities/{opportunity.id}/edit", form_data(ROLE | {"closes_on": later})
    )
    assert moved.status_code == 303
    assert (await act(client, opportunity, "publish")).status_code == 303
    assert (await anyone.get(public(org, opportunity))).status_code == 200


async def test_the_lead_list_counts_interest_in_each(client, world):
    org = await signed_in_lead(world, client)
    panel = await write(client)
    group = await write(client, title="Advisory group member")
    await act(client, panel, "publish")
    # Interest comes in through its own form (another part of the app): rows stand in for it.
    for name in ("Ann", "Bo", "Cy"):
        await Interest.create(
            organisation=org, opportunity=panel, source=InterestSource.ONLINE, full_name=name
        )
    listing = await client.get("/opportunities")
    assert listing.status_code == 200
    assert f'id="interest-{panel.id}">3<' in listing.text
    assert f'id="interest-{group.id}">0<' in listing.text
    assert listing.text.index("Drafts") < listing.text.index("Advisory group member")
    detail = await client.get(f"/opportunities/{panel.id}")
    assert 'id="interest-count">3<' in detail.text


async def test_another_organisations_opportunity_is_not_found_and_other_staff_are_refused(
    client, make_client, world
):
    org = await signed_in_lead(world, client)
    opportunity = await write(client)
    other = make_client()
    await signed_in_lead(world, other, "Southshire NHS Trust")
    for url in (f"/opportunities/{opportunity.id}", f"/opportunities/{opportunity.id}/edit"):
        assert (await other.get(url)).status_code == 404
    refused = await other.post_form(
        f"/opportunities/{opportunity.id}/publish", {}, token_from="/opportunities"
    )
    assert refused.status_code == 404
    # Another organisation's slug does not reach it either.
    await act(client, opportunity, "publish")
    south = await Organisation.get(name="Southshire NHS Trust")
    assert (
        await other.get(f"/join/{south.slug}/opportunities/{opportunity.id}")
    ).status_code == 404
    assert (await other.get(f"/join/{org.slug}/opportunities/{opportunity.id}")).status_code == 200

    finance = make_client()
    await world.user(org, "money@trust.example", Role.FINANCE_OFFICER)
    await sign_in(finance, "money@trust.example")
    for url in ("/opportunities", "/opportunities/new", f"/opportunities/{opportunity.id}"):
        assert (await finance.get(url)).status_code == 403
    withdraw = await finance.post_form(
        f"/opportunities/{opportunity.id}/withdraw", {}, token_from="/"
    )
    assert withdraw.status_code == 403
    await opportunity.refresh_from_db()
    assert opportunity.withdrawn_at is None

    admin = make_client()
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    await sign_in(admin, "admin@trust.example")
    made = await admin.post_form("/opportunities/new", form_data(ROLE | {"title": "Governor"}))
    assert made.status_code == 303


async def test_the_network_page_shows_open_opportunities_of_accepted_members_only(
    client, make_client, world
):
    north = await signed_in_lead(world, client)
    open_one = await write(client, title="Panel member at North")
    draft = await write(client, title="Draft role at North")
    await act(client, open_one, "publish")
    south_client, west_client = make_client(), make_client()
    south = await signed_in_lead(world, south_client, "Southshire NHS Trust")
    west = await signed_in_lead(world, west_client, "Westshire NHS Trust")
    south_one = await write(south_client, title="Governor at South")
    west_one = await write(west_client, title="Advisory group at West")
    for c, o in ((south_client, south_one), (west_client, west_one)):
        await act(c, o, "publish")
    network = await Network.create(name="Quality network", host_organisation=north)
    for org, status in (
        (north, MembershipStatus.ACCEPTED),
        (south, MembershipStatus.ACCEPTED),
        (west, MembershipStatus.INVITED),
    ):
        await NetworkMembership.create(network=network, organisation=org, status=status)

    page = await make_client().get(f"/join/networks/{network.id}")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Panel member at North" in text and "Governor at South" in text
    assert "Advisory group at West" not in text and "Draft role at North" not in text
    assert "Westshire" not in text
    assert text.index("Northshire NHS Trust") < text.index("Southshire NHS Trust")
    assert f'href="/join/{south.slug}/opportunities/{south_one.id}"' in page.text
    assert draft.id != open_one.id
    assert (await make_client().get("/join/networks/999999")).status_code == 404


# ---------------------------------------------------------------------------- printing


def drawn_matches(svg: str, url: str) -> bool:
    # Only the dark modules: an inline code also draws its light background as a path.
    drawn = matrix_from_svg(re.sub(r"<path(?![^>]*qrline)[^>]*/>", "", svg))
    want = [[int(bool(v)) for v in row] for row in segno.make(url, error="m", micro=False).matrix]
    border = 4  # segno's quiet zone
    got = [row[border : border + len(want)] for row in drawn[border : border + len(want)]]
    return got == want


@pytest.mark.parametrize("kind", ["easy-read", "large-print"])
async def test_each_print_carries_a_qr_code_to_the_public_page(client, make_client, world, kind):
    org = await signed_in_lead(world, client)
    opportunity = await write(client)
    await act(client, opportunity, "publish")
    url = f"{get_settings().base_url}{public(org, opportunity)}"
    printed = await make_client().get(f"{public(org, opportunity)}/{kind}")
    assert printed.status_code == 200
    assert f"coprod-print--{kind}" in printed.text
    svg = re.search(r'class="coprod-print__qr">\s*(<svg.*?</svg>)', printed.text, flags=re.S)
    assert svg and drawn_matches(svg.group(1), url)
    assert url in visible_text(printed.text)  # the address in words, for those without a phone
    file = await make_client().get(f"{public(org, opportunity)}/qr.svg")
    assert file.headers["content-type"].startswith("image/svg+xml")
    assert drawn_matches(file.text, url)


async def test_the_prints_are_large_enough(client):
    css = (await client.get("/static/coprod.css")).text
    for kind, least in (("large-print", 18), ("easy-read", 16)):
        sizes = re.findall(rf"coprod-print--{kind}[^{{]*\{{[^}}]*font-size:\s*(\d+)pt", css)
        assert sizes and all(int(s) >= least for s in sizes), kind


async def test_the_easy_read_print_reads_at_about_age_nine(client, make_client, world):
    org = await signed_in_lead(world, client)
    with_easy_read = await write(client, pay="We pay £70 for half a day.")
    await act(client, with_easy_read, "publish")
    printed = await make_client().get(f"{public(org, with_easy_read)}/easy-read")
    words = visible_text(printed.text).split("Or type this address")[0]
    assert ROLE["easy_read"].split("\n")[0] in words
    assert textstat.flesch_kincaid_grade(words) <= 5, words
    # Without an easy-read version, the print falls back on what the role involves.
    plain = await write(client, easy_read="", title="Reader")
    await act(client, plain, "publish")
    printed = await make_client().get(f"{public(org, plain)}/easy-read")
    assert ROLE["involves"] in html.unescape(printed.text)
