"""The payroll file: one row per person, pay element, tax month and cost centre, with National
Insurance numbers stored encrypted and shown masked; pay element codes and cost centres set by
finance and administrators; each claim exported once (even by two exports at the same moment);
and someone with no email and no Stripe account paid from claim to payroll file through the
pages. Claims are built as people build them: attendance, claim, approval.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import html
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from tortoise import connections

from coprod import clock
from coprod.domain.pay import tax_month_of, tax_year_label, tax_year_of
from coprod.errors import Forbidden
from coprod.models import (
    AuditEvent,
    Claim,
    ClaimStatus,
    Organisation,
    PayrollExport,
    Representative,
    Role,
    Team,
)
from coprod.services import auth, claims, payouts, payroll, people
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from tests.conftest import postgres_only, sign_in
from tests.involvement import Trust, person, took_part
from tests.test_representatives_api import errors_of

HEADER = [
    "payroll_number",
    "national_insurance_number",
    "name",
    "element_code",
    "element",
    "taxable",
    "amount",
    "tax_year",
    "tax_month",
    "payment_date",
    "cost_centre",
    "claims",
]
SAM_NI, ANN_NI = "AB123456C", "JG103771D"


def today() -> dt.date:
    return clock.today()


def ago(days: int) -> dt.date:
    return today() - dt.timedelta(days=days)


# More than a tax month ahead, so a file dated by anything but the payment date shows it.
def pay_day() -> dt.date:
    return today() + dt.timedelta(days=40)


async def export_on_page(finance: Any, when: dt.date | tuple[str, str, str]) -> Any:
    """Finance exports payroll from the finance page, the pay day typed into its three boxes."""
    day, month, year = (
        (str(when.day), str(when.month), str(when.year)) if isinstance(when, dt.date) else when
    )
    return await finance.post_form(
        "/finance",
        {
            "action": "payroll",
            "payment_date[day]": day,
            "payment_date[month]": month,
            "payment_date[year]": year,
        },
    )


def rows_of(text: str | bytes) -> list[list[str]]:
    """The file as Excel reads it: UTF-8 with a byte-order mark, and CRLF line ends."""
    raw = text.encode() if isinstance(text, str) else text
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the byte-order mark to read UTF-8"
    assert raw.count(b"\n") == raw.count(b"\r\n") > 0, "CRLF line ends"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@dataclass
class Payroll:
    t: Trust
    org: Organisation
    admin: Actor
    finance: Actor
    north: Team
    south: Team


async def payroll_trust(world: Any) -> Payroll:
    org = await world.org("Northshire NHS Trust")
    lead = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    approver = await world.user(org, "approver@trust.example", Role.INVOLVEMENT_LEAD)
    admin = await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    finance = await world.user(org, "finance@trust.example", Role.FINANCE_OFFICER)
    t = Trust(org.id, await auth.actor_for(lead, org.id), await auth.actor_for(approver, org.id))
    admin_actor = await auth.actor_for(admin, org.id)
    north = await people.create_team(admin_actor, org, "North community team")
    south = await people.create_team(admin_actor, org, "South crisis team")
    return Payroll(t, org, admin_actor, await auth.actor_for(finance, org.id), north, south)


async def on_payroll(
    p: Payroll, name: str, reference: str | None, ni: str | None
) -> Representative:
    """Someone with a phone and no email: no account, no Stripe, paid through payroll."""
    rep = await person(p.t, name, contract_from=ago(60))
    data = {"payout_method": "payroll", "payroll_reference": reference or ""}
    if ni:
        data["national_insurance_number"] = ni
    await payouts.set_payout_method(p.t.lead, rep, data)
    return await Representative.get(id=rep.id)


async def claim(
    p: Payroll, rep: Representative, first: dt.date, last: dt.date, *expenses: dict[str, str]
) -> Claim:
    """Drafted by the lead for the days attended, submitted, and approved by another lead."""
    drafted = await claims.generate_draft(
        p.t.lead, rep, {"period_start": first.isoformat(), "period_end": last.isoformat()}
    )
    for expense in expenses:
        await claims.add_expense(p.t.lead, drafted, expense)
    await claims.submit(p.t.lead, drafted)
    return await claims.approve(p.t.approver, drafted, {})


@dataclass
class Month:
    sam: Representative
    ann: Representative
    tom: Representative
    sam_first: Claim
    sam_second: Claim
    ann_claim: Claim
    tom_claim: Claim
    by_stripe: Claim


async def a_month_of_work(p: Payroll) -> Month:
    """Sam works for North and South, and once for no team, over two claims; Ann (whose name
    looks like a formula) once for South; Tom has no National Insurance number yet; Zed is paid
    by bank transfer."""
    sam = await on_payroll(p, "Sam Stone", "PR-100", "ab 12 34 56 c")
    ann = await on_payroll(p, "=Ann Formula", "PR-200", "JG 10 37 71 D")
    tom = await on_payroll(p, "Tom Thumb", "PR-300", None)
    zed = await person(p.t, "Zed Zee", contract_from=ago(60))
    await payouts.set_payout_method(p.t.lead, zed, {"payout_method": "stripe"})
    await took_part(p.t, sam, ago(20), minutes=300, team_id=p.north.id)  # a day: £140
    # Two two-hour meetings, one per team: one half day (£70), shared by minutes.
    await took_part(p.t, sam, ago(19), minutes=120, team_id=p.north.id)
    await took_part(p.t, sam, ago(19), minutes=120, team_id=p.south.id)
    await took_part(p.t, sam, ago(10), minutes=120, team_id=None)  # £70, no team
    await took_part(p.t, sam, ago(9), minutes=120, team_id=p.north.id)  # £70
    await took_part(p.t, ann, ago(19), minutes=120, team_id=p.south.id)
    await took_part(p.t, tom, ago(19), minutes=120, team_id=p.south.id)
    await took_part(p.t, zed, ago(19), minutes=120, team_id=p.south.id)
    sam_first = await claim(
        p,
        sam,
        ago(20),
        ago(19),
        {"kind": "mileage", "day": ago(20).isoformat(), "miles": "10"},
        {"kind": "subsistence", "day": ago(19).isoformat(), "amount": "5.01"},
    )
    sam_second = await claim(
        p, sam, ago(10), ago(9), {"kind": "parking", "day": ago(10).isoformat(), "amount": "3"}
    )
    return Month(
        sam,
        ann,
        tom,
        sam_first,
        sam_second,
        await claim(p, ann, ago(19), ago(19)),
        await claim(p, tom, ago(19), ago(19)),
        await claim(p, zed, ago(19), ago(19)),
    )


def expected_rows(m: Month, codes: dict[str, str], day: dt.date) -> list[list[str]]:
    year, month = tax_year_label(tax_year_of(day)), str(tax_month_of(day))
    one, two = str(m.sam_first.id), str(m.sam_second.id)

    def row(
        ref: str,
        ni: str,
        name: str,
        key: str,
        what: str,
        taxable: str,
        amount: str,
        centre: str,
        claim_ids: str,
    ) -> list[str]:
        return [
            ref,
            ni,
            name,
            codes[key],
            what,
            taxable,
            amount,
            year,
            month,
            day.isoformat(),
            centre,
            claim_ids,
        ]

    return [
        # Ann first: "=Ann Formula" sorts before "Sam Stone", and is written neutralised.
        row(
            "PR-200",
            ANN_NI,
            "'=Ann Formula",
            "fee",
            "Involvement fee",
            "yes",
            "70.00",
            "CC-S2",
            str(m.ann_claim.id),
        ),
        # Sam's fees: one row per cost centre, his two claims summed on North's row.
        row(
            "PR-100",
            SAM_NI,
            "Sam Stone",
            "fee",
            "Involvement fee",
            "yes",
            "70.00",
            "CC-DEFAULT",
            two,
        ),
        row(
            "PR-100",
            SAM_NI,
            "Sam Stone",
            "fee",
            "Involvement fee",
            "yes",
            "245.00",
            "CC-N1",
            f"{one} {two}",
        ),
        row("PR-100", SAM_NI, "Sam Stone", "fee", "Involvement fee", "yes", "35.00", "CC-S2", one),
        row("PR-100", SAM_NI, "Sam Stone", "mileage", "Mileage", "no", "4.50", "CC-N1", one),
        row("PR-100", SAM_NI, "Sam Stone", "parking", "Parking", "no", "3.00", "CC-DEFAULT", two),
        # £5.01 of food on the day shared by two teams: to the penny, the odd one last.
        row(
            "PR-100",
            SAM_NI,
            "Sam Stone",
            "subsistence",
            "Food and drink",
            "no",
            "2.50",
            "CC-N1",
            one,
        ),
        row(
            "PR-100",
            SAM_NI,
            "Sam Stone",
            "subsistence",
            "Food and drink",
            "no",
            "2.51",
            "CC-S2",
            one,
        ),
    ]


async def cost_centres(p: Payroll, client: Any) -> None:
    """Set by an administrator on the teams page and through the API."""
    await sign_in(client, "admin@trust.example")
    saved = await client.post_form(
        "/admin/teams", {"team_id": str(p.north.id), "cost_centre": "CC-N1"}
    )
    assert saved.status_code == 303, saved.text
    put = await client.api(
        "PUT", f"/api/v1/teams/{p.south.id}/cost-centre", {"cost_centre": "CC-S2"}
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"id": p.south.id, "name": "South crisis team", "cost_centre": "CC-S2"}
    teams = (await client.get("/api/v1/teams")).json()["items"]
    assert {t["name"]: t["cost_centre"] for t in teams} == {
        "North community team": "CC-N1",
        "South crisis team": "CC-S2",
    }


CODES = {
    "fee": "SESS-FEE",
    "mileage": "R-MILES",
    "public_transport": "R-TRAVEL",
    "taxi": "R-TAXI",
    "parking": "R-PARK",
    "care_cover": "R-CARE",
    "subsistence": "R-FOOD",
}


# ---------------------------------------------------------------------------- the file


async def test_the_payroll_file_has_a_row_per_person_element_tax_month_and_cost_centre(
    client, make_client, world
):
    p = await payroll_trust(world)
    await cost_centres(p, client)
    m = await a_month_of_work(p)
    finance = make_client()
    await sign_in(finance, "finance@trust.example")
    put = await finance.api(
        "PUT", "/api/v1/payroll/pay-elements", {**CODES, "default_cost_centre": "CC-DEFAULT"}
    )
    assert put.status_code == 200, put.text

    made = await finance.api(
        "POST", "/api/v1/payroll-exports", {"payment_date": pay_day().isoformat()}
    )

    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["claim_count"], body["payment_date"]) == (3, pay_day().isoformat())
    header, *rows = rows_of(body["csv"])
    assert header == HEADER
    assert rows == expected_rows(m, CODES, pay_day())
    # The download is the same file, and the one way to read it again: it is audited.
    file = await finance.get(f"/api/v1/payroll-exports/{body['id']}/csv")
    assert file.status_code == 200 and file.headers["content-type"].startswith("text/csv")
    assert rows_of(file.content) == [header, *rows]
    page_file = await finance.get(f"/finance/exports/{body['id']}.csv")
    assert rows_of(page_file.content) == [header, *rows]
    assert await AuditEvent.filter(action="payroll.download").count() == 2
    # Tom waits for his National Insurance number; Zed is paid by bank transfer.
    states = {c.id: c.status for c in await Claim.all()}
    assert states[m.tom_claim.id] == states[m.by_stripe.id] == ClaimStatus.APPROVED
    sent = [m.sam_first.id, m.sam_second.id, m.ann_claim.id]
    assert all(states[i] == ClaimStatus.SENT_TO_PAYROLL for i in sent)
    # The file is stored encrypted, like the numbers in it, and a list shows no file.
    stored = await PayrollExport.get(id=body["id"])
    assert SAM_NI not in stored.csv + (stored.file_encrypted or "")
    listed = (await finance.get("/api/v1/payroll-exports")).json()["items"]
    assert [(e["id"], e["csv"]) for e in listed] == [(body["id"], None)]


async def test_default_codes_and_no_cost_centre_when_none_is_set(world):
    p = await payroll_trust(world)
    ann = await on_payroll(p, "Ann Able", "PR-1", "AB123456A")
    await took_part(p.t, ann, ago(5), minutes=120, team_id=p.north.id)
    await claim(
        p, ann, ago(5), ago(5), {"kind": "care_cover", "day": ago(5).isoformat(), "amount": "12.40"}
    )

    export = await payroll.export_payroll(p.finance, {"payment_date": today().isoformat()})

    _, fee, care = rows_of(payroll.file_text(export))
    assert [fee[3], fee[6], fee[10], care[3], care[5], care[6], care[10]] == [
        *("FEE", "70.00", ""),
        *("EXP-CARE-COVER", "no", "12.40", ""),
    ]


async def test_the_payment_date_is_required_and_not_long_past(client, make_client, world):
    p = await payroll_trust(world)
    ann = await on_payroll(p, "Ann Able", "PR-1", "AB123456A")
    await took_part(p.t, ann, ago(5), minutes=120)
    await claim(p, ann, ago(5), ago(5))
    finance = make_client()
    await sign_in(finance, "finance@trust.example")

    cases = [
        ({}, "Enter the payment date"),
        (
            {"payment_date": ago(8).isoformat()},
            "The payment date must be today, in the future or in the last 7 days",
        ),
        (
            {"payment_date": (today() + dt.timedelta(days=367)).isoformat()},
            "The payment date must be within a year from today",
        ),
    ]
    for body, message in cases:
        refused = await finance.api("POST", "/api/v1/payroll-exports", body)
        assert refused.status_code == 422
        assert errors_of(refused) == {"payment_date": message}
    page = await export_on_page(finance, ("31", "2", str(today().year + 1)))
    assert page.status_code == 422
    assert "The payment date must be a real date" in html.unescape(page.text)
    assert await Claim.filter(status=ClaimStatus.SENT_TO_PAYROLL).count() == 0

    # A supplementary run for a pay day a week ago is still allowed.
    late = await finance.api(
        "POST", "/api/v1/payroll-exports", {"payment_date": ago(7).isoformat()}
    )
    assert late.status_code == 201, late.text
    assert rows_of(late.json()["csv"])[1][9] == ago(7).isoformat()


# ---------------------------------------------------------------------------- each claim once


async def test_each_claim_is_exported_once_and_a_reexport_is_audited_with_the_same_rows(world):
    p = await payroll_trust(world)
    m = await a_month_of_work(p)
    data = {"payment_date": pay_day().isoformat()}

    with pytest.raises(Forbidden):
        await payroll.export_payroll(p.t.lead, data)
    export = await payroll.export_payroll(p.finance, data)

    assert export.claim_count == 3
    first = await AuditEvent.get(action="payroll.export")
    assert sorted(first.after["claims"]) == sorted(
        [m.sam_first.id, m.sam_second.id, m.ann_claim.id]
    )
    assert first.after["payment_date"] == pay_day().isoformat()
    # Each claim goes once: a second export finds only Tom's, who is not ready.
    with pytest.raises(ValidationFailed) as nothing:
        await payroll.export_payroll(p.finance, data)
    assert nothing.value.by_field()["claims"].startswith("No approved payroll claims can be")

    # A re-export of the same claims needs a reason, is audited, and changes no status.
    with pytest.raises(ValidationFailed) as no_reason:
        await payroll.export_payroll(p.finance, {"export_id": str(export.id)})
    assert set(no_reason.value.by_field()) == {"reason"}
    with pytest.raises(Forbidden):
        await payroll.export_payroll(p.t.lead, {"export_id": export.id, "reason": "Lost it"})
    before = {c.id: (c.status, c.paid_at, c.payroll_export_id) for c in await Claim.all()}

    # Even with today's date sent, a re-export keeps the pay day of the first.
    again = await payroll.export_payroll(
        p.finance,
        {"export_id": str(export.id), "reason": "Payroll lost the file", **{"payment_date": ""}},
    )

    assert again.id != export.id and again.reason == "Payroll lost the file"
    assert again.payment_date == pay_day()
    assert rows_of(payroll.file_text(again)) == rows_of(payroll.file_text(export))
    assert {c.id: (c.status, c.paid_at, c.payroll_export_id) for c in await Claim.all()} == before
    reexport = await AuditEvent.get(action="payroll.reexport")
    assert reexport.after["reason"] == "Payroll lost the file"
    assert sorted(reexport.after["claims"]) == sorted(first.after["claims"])
    assert await AuditEvent.filter(action="payroll.export").count() == 1


@postgres_only
async def test_two_exports_at_the_same_moment_export_each_claim_once(world):
    p = await payroll_trust(world)
    reps = [await on_payroll(p, f"Person {i}", f"PR-{i}", "AB123456C") for i in range(6)]
    for rep in reps:
        await took_part(p.t, rep, ago(5), minutes=120)
        await claim(p, rep, ago(5), ago(5))
    # Open several pooled connections first, so the two exports really do overlap.
    db = connections.get("default")
    await asyncio.gather(*(db.execute_query("SELECT pg_sleep(0.05)") for _ in range(6)))
    data = {"payment_date": today().isoformat()}

    outcomes = await asyncio.gather(
        payroll.export_payroll(p.finance, data),
        payroll.export_payroll(p.finance, data),
        return_exceptions=True,
    )

    exports = [o for o in outcomes if isinstance(o, PayrollExport)]
    refused = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert (len(exports), len(refused)) == (1, 1), outcomes
    in_files = [
        row[11]
        for export in await PayrollExport.all()
        for row in rows_of(payroll.file_text(export))[1:]
    ]
    claim_ids = sorted(c.id for c in await Claim.all())
    assert sorted(int(i) for i in in_files) == claim_ids  # each claim in exactly one file
    assert {c.payroll_export_id for c in await Claim.all()} == {exports[0].id}


# ---------------------------------------------------------------------------- NI numbers


async def test_a_national_insurance_number_is_encrypted_masked_and_audited(
    client, make_client, world
):
    p = await payroll_trust(world)
    sam = await person(p.t, "Sam Stone", contract_from=ago(60))
    lead = make_client()
    await sign_in(lead, "lead@trust.example")
    url = f"/api/v1/representatives/{sam.id}/payout-method"

    bad = await lead.api(
        "PUT",
        url,
        {
            "payout_method": "payroll",
            "payroll_reference": "PR-1",
            "national_insurance_number": "QQ 12 34 56 C",
        },
    )
    assert bad.status_code == 422
    assert errors_of(bad) == {
        "national_insurance_number": "Enter a National Insurance number in the correct format, "
        "like QQ 12 34 56 C"
    }
    set_up = await lead.api(
        "PUT",
        url,
        {
            "payout_method": "payroll",
            "payroll_reference": "PR-1",
            "national_insurance_number": " ab 12 34 56 c ",
        },
    )

    assert set_up.status_code == 200, set_up.text
    assert set_up.json()["national_insurance_number"] == "•• •• •• 56 C"
    assert (await lead.get(url)).json()["national_insurance_number"] == "•• •• •• 56 C"
    stored = await Representative.get(id=sam.id)
    assert stored.national_insurance_masked == "•• •• •• 56 C"
    assert (
        stored.national_insurance_encrypted and "123456" not in stored.national_insurance_encrypted
    )
    [columns] = await Representative.filter(id=sam.id).values()
    assert "AB123456C" not in repr(columns) and "123456" not in repr(columns)
    [changed] = await AuditEvent.filter(action="payroll.national_insurance")
    assert (changed.before, changed.after) == (
        {"national_insurance_number": None},
        {"national_insurance_number": "•• •• •• 56 C"},
    )
    assert "123456" not in repr(await AuditEvent.all().values_list("before", "after"))

    # Leaving it out keeps it; a new number replaces it, and that is audited too.
    kept = await lead.api("PUT", url, {"payout_method": "payroll", "payroll_reference": "PR-2"})
    assert kept.json()["national_insurance_number"] == "•• •• •• 56 C"
    page = await lead.post_form(
        f"/representatives/{sam.id}/payments",
        {
            "payout_method": "payroll",
            "payroll_reference": "PR-2",
            "national_insurance_number": "JG103771D",
        },
    )
    assert page.status_code == 303, page.text
    shown = html.unescape((await lead.get(f"/representatives/{sam.id}/payments")).text)
    assert "•• •• •• 71 D" in shown and "JG103771D" not in shown and "JG 10" not in shown
    assert await AuditEvent.filter(action="payroll.national_insurance").count() == 2
    # A wrong number on the page is a plain error, and is not echoed back.
    wrong = await lead.post_form(
        f"/representatives/{sam.id}/payments",
        {
            "payout_method": "payroll",
            "payroll_reference": "PR-2",
            "national_insurance_number": "BG123456C",
        },
    )
    assert wrong.status_code == 422
    assert "Enter a National Insurance number in the correct format" in html.unescape(wrong.text)
    assert "BG123456C" not in wrong.text

    # Finance may set it; the person themselves, and other organisations, may not.
    finance = make_client()
    await sign_in(finance, "finance@trust.example")
    assert (await finance.get(f"/representatives/{sam.id}/payments")).status_code == 200
    other = await world.org("Southshire NHS Trust")
    await world.user(other, "lead@south.example", Role.INVOLVEMENT_LEAD)
    stranger = make_client()
    await sign_in(stranger, "lead@south.example")
    assert (await stranger.get(f"/representatives/{sam.id}/payments")).status_code == 404
    assert (await stranger.api("PUT", url, {"payout_method": "payroll"})).status_code == 404


async def test_claims_missing_payroll_details_wait_with_the_reason_and_the_rest_export(
    client, make_client, world
):
    p = await payroll_trust(world)
    m = await a_month_of_work(p)
    finance = make_client()
    await sign_in(finance, "finance@trust.example")

    waiting = (await finance.get("/api/v1/payroll/not-ready")).json()["items"]
    assert [(w["claim_id"], w["reason"]) for w in waiting] == [
        (m.tom_claim.id, "Add Tom's National Insurance number")
    ]
    page = html.unescape((await finance.get("/finance")).text)
    assert "Add Tom's National Insurance number" in page

    exported = await export_on_page(finance, pay_day())

    assert exported.status_code == 303, exported.text
    export_id = int(re.search(r"exported=(\d+)", exported.headers["location"]).group(1))
    file = rows_of((await finance.get(f"/finance/exports/{export_id}.csv")).content)
    assert {row[2] for row in file[1:]} == {"Sam Stone", "'=Ann Formula"}
    assert (await Claim.get(id=m.tom_claim.id)).status == ClaimStatus.APPROVED
    # Once Tom's number is added, his claim goes in the next file.
    await payouts.set_payout_method(
        p.t.lead,
        m.tom,
        {
            "payout_method": "payroll",
            "payroll_reference": "PR-300",
            "national_insurance_number": "CE 00 00 00 A",
        },
    )
    after = (await finance.get("/api/v1/payroll/not-ready")).json()["items"]
    assert after == []
    nxt = await finance.api(
        "POST", "/api/v1/payroll-exports", {"payment_date": pay_day().isoformat()}
    )
    assert nxt.status_code == 201, nxt.text
    [tom_row] = rows_of(nxt.json()["csv"])[1:]
    assert tom_row[:3] == ["PR-300", "CE000000A", "Tom Thumb"]
    assert tom_row[-1] == str(m.tom_claim.id)


# ---------------------------------------------------------------------------- settings


async def test_finance_sets_pay_element_codes_on_the_page_and_in_the_api(
    client, make_client, world
):
    p = await payroll_trust(world)
    finance = make_client()
    await sign_in(finance, "finance@trust.example")

    defaults = (await finance.get("/api/v1/payroll/pay-elements")).json()
    assert [(e["key"], e["code"], e["taxable"]) for e in defaults["elements"]] == [
        ("fee", "FEE", True),
        ("mileage", "EXP-MILEAGE", False),
        ("public_transport", "EXP-PUBLIC-TRANSPORT", False),
        ("taxi", "EXP-TAXI", False),
        ("parking", "EXP-PARKING", False),
        ("care_cover", "EXP-CARE-COVER", False),
        ("subsistence", "EXP-SUBSISTENCE", False),
    ]
    assert defaults["default_cost_centre"] is None

    bad = await finance.post_form(
        "/finance/pay-elements",
        {**CODES, "fee": "", "mileage": "R MILES", "taxi": "T" * 21, "default_cost_centre": "=1"},
    )
    assert bad.status_code == 422
    text = html.unescape(bad.text)
    for message in (
        "Enter the code for involvement fee",
        "The code for mileage can only include letters, numbers and hyphens",
        "The code for taxi (agreed beforehand) must be 20 characters or fewer",
        "The default cost centre can only include letters, numbers and hyphens",
    ):
        assert message in text
    api_bad = await finance.api("PUT", "/api/v1/payroll/pay-elements", {**CODES, "fee": "A_B"})
    assert errors_of(api_bad) == {
        "fee": "The code for involvement fee can only include letters, numbers and hyphens"
    }
    assert await AuditEvent.filter(action="payroll.pay_elements").count() == 0

    saved = await finance.post_form(
        "/finance/pay-elements", {**CODES, "default_cost_centre": "CC-1"}
    )
    assert saved.status_code == 303, saved.text
    now = (await finance.get("/api/v1/payroll/pay-elements")).json()
    assert {e["key"]: e["code"] for e in now["elements"]} == CODES
    assert now["default_cost_centre"] == "CC-1"
    [event] = await AuditEvent.filter(action="payroll.pay_elements")
    assert event.before["codes"]["fee"] == "FEE" and event.after["codes"]["fee"] == "SESS-FEE"
    page = html.unescape((await finance.get("/finance/pay-elements")).text)
    assert 'value="SESS-FEE"' in page and 'value="CC-1"' in page

    # Finance only, and each organisation has its own codes.
    lead = make_client()
    await sign_in(lead, "lead@trust.example")
    assert (await lead.get("/finance/pay-elements")).status_code == 403
    assert (await lead.get("/api/v1/payroll/pay-elements")).status_code == 403
    other = await world.org("Southshire NHS Trust")
    await world.user(other, "finance@south.example", Role.FINANCE_OFFICER)
    theirs = make_client()
    await sign_in(theirs, "finance@south.example")
    codes = (await theirs.get("/api/v1/payroll/pay-elements")).json()["elements"]
    assert codes[0]["code"] == "FEE"
    assert p.org.id != other.id


async def test_a_team_cost_centre_is_checked_and_audited(client, make_client, world):
    p = await payroll_trust(world)
    await sign_in(client, "admin@trust.example")

    bad = await client.post_form(
        "/admin/teams", {"team_id": str(p.north.id), "cost_centre": "CC 1"}
    )
    assert bad.status_code == 422
    assert "The cost centre can only include letters, numbers and hyphens" in html.unescape(
        bad.text
    )
    # The error summary's link leads to the team's field.
    assert 'href="#cost_centre"' in bad.text and 'id="cost_centre"' in bad.text
    too_long = await client.api(
        "PUT", f"/api/v1/teams/{p.north.id}/cost-centre", {"cost_centre": "C" * 21}
    )
    assert too_long.status_code == 422
    await cost_centres(p, client)
    [north] = await AuditEvent.filter(action="team.cost_centre", entity_id=str(p.north.id))
    assert (north.before, north.after) == ({"cost_centre": None}, {"cost_centre": "CC-N1"})
    cleared = await client.api("PUT", f"/api/v1/teams/{p.south.id}/cost-centre", {})
    assert cleared.json()["cost_centre"] is None
    finance = make_client()
    await sign_in(finance, "finance@trust.example")
    assert (
        await finance.api("PUT", f"/api/v1/teams/{p.south.id}/cost-centre", {"cost_centre": "X"})
    ).status_code == 403
    other = await world.org("Southshire NHS Trust")
    await world.user(other, "admin@south.example", Role.ORG_ADMIN)
    stranger = make_client()
    await sign_in(stranger, "admin@south.example")
    assert (
        await stranger.api("PUT", f"/api/v1/teams/{p.north.id}/cost-centre", {"cost_centre": "X"})
    ).status_code == 404


# ---------------------------------------------------------------------------- the journey


async def test_someone_with_no_email_and_no_stripe_is_paid_through_payroll_by_the_pages(
    client, make_client, world
):
    p = await payroll_trust(world)
    rep = await person(p.t, "Pat Post", contract_from=ago(60))
    assert rep.email is None and rep.user_id is None and rep.stripe_account_id is None
    await took_part(p.t, rep, ago(4), minutes=300, team_id=p.north.id)
    lead = make_client()
    await sign_in(lead, "lead@trust.example")
    approver = make_client()
    await sign_in(approver, "approver@trust.example")
    finance = make_client()
    await sign_in(finance, "finance@trust.example")

    # The lead sets up payroll for Pat, who never signs in.
    missing = await lead.post_form(
        f"/representatives/{rep.id}/payments", {"payout_method": "payroll"}
    )
    assert missing.status_code == 422
    assert "Enter their payroll reference" in html.unescape(missing.text)
    set_up = await lead.post_form(
        f"/representatives/{rep.id}/payments",
        {
            "payout_method": "payroll",
            "payroll_reference": "PR-77",
            "national_insurance_number": "ce 12 34 56 b",
        },
    )
    assert set_up.status_code == 303, set_up.text
    # The claim: drafted and submitted by the lead, approved by another lead.
    drafted = await lead.post_form(
        "/claims",
        {
            "representative_id": str(rep.id),
            "period_start[day]": str(ago(4).day),
            "period_start[month]": str(ago(4).month),
            "period_start[year]": str(ago(4).year),
            "period_end[day]": str(ago(4).day),
            "period_end[month]": str(ago(4).month),
            "period_end[year]": str(ago(4).year),
        },
    )
    assert drafted.status_code == 303, drafted.text
    claim_id = int(drafted.headers["location"].split("/")[2].split("?")[0])
    added = await lead.post_form(
        f"/claims/{claim_id}/expenses",
        {"kind": "mileage", "day": ago(4).isoformat(), "miles": "12"},
        token_from=f"/claims/{claim_id}",
    )
    assert added.status_code == 303, added.text
    submitted = await lead.post_form(
        f"/claims/{claim_id}/submit", {}, token_from=f"/claims/{claim_id}"
    )
    assert submitted.status_code == 303, submitted.text
    approved = await approver.post_form(
        f"/claims/{claim_id}/approve", {}, token_from=f"/claims/{claim_id}"
    )
    assert approved.status_code == 303, approved.text

    # Finance exports it from the finance page and downloads the file.
    finance_page = html.unescape((await finance.get("/finance")).text)
    assert "Pat Post, paid by payroll" in finance_page
    exported = await export_on_page(finance, today())
    assert exported.status_code == 303, exported.text
    export_id = int(re.search(r"exported=(\d+)", exported.headers["location"]).group(1))
    listed = html.unescape((await finance.get(exported.headers["location"])).text)
    assert f"/finance/exports/{export_id}.csv" in listed
    _, fee, mileage = rows_of((await finance.get(f"/finance/exports/{export_id}.csv")).content)
    year, month = tax_year_label(tax_year_of(today())), str(tax_month_of(today()))
    common = [year, month, today().isoformat(), ""]
    assert fee == [
        "PR-77",
        "CE123456B",
        "Pat Post",
        "FEE",
        "Involvement fee",
        "yes",
        "140.00",
        *common,
        str(claim_id),
    ]
    assert mileage == [
        "PR-77",
        "CE123456B",
        "Pat Post",
        "EXP-MILEAGE",
        "Mileage",
        "no",
        "5.40",
        *common,
        str(claim_id),
    ]
    assert (await Claim.get(id=claim_id)).status == ClaimStatus.SENT_TO_PAYROLL
    assert "CE123456B" not in html.unescape((await finance.get(f"/claims/{claim_id}")).text)
    assert await AuditEvent.filter(action="payroll.download").count() == 1
