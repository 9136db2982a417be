"""Paying claims through the organisation's own payroll: National Insurance numbers, pay element
codes, cost centres, and the payroll file.

The file has one row per person, pay element, tax month and cost centre. Fees (with any
corrections) are taxable pay; each expense type is a non-taxable reimbursement. Each claim is
exported once: the claims are locked while the export is written, so two exports at the same
moment cannot both take one. National Insurance numbers are stored encrypted and shown masked;
only the payroll file holds them in full, so the file itself is stored encrypted, and every
export, re-export and download of it is audited.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.crypto import decrypt_json, encrypt_json
from coprod.domain import pay
from coprod.errors import Forbidden, NotFound
from coprod.integrations import csv_files
from coprod.integrations.csv_files import Money
from coprod.models import (
    Claim,
    ClaimLine,
    ClaimStatus,
    Expense,
    Involvement,
    Organisation,
    PayElement,
    PayrollExport,
    Representative,
    Role,
    Team,
)
from coprod.services import audit
from coprod.services.access import is_lead
from coprod.services.actor import Actor
from coprod.services.attendance import share
from coprod.validation import Checker, ValidationFailed, record_id

CSV_HEADER = [
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

# A payroll that has just run can still take a late supplementary run, and HMRC accepts a
# correction for a pay day a few days gone; older than this is almost surely a typing mistake.
PAYMENT_DATE_DAYS_BACK = 7
PAYMENT_DATE_DAYS_AHEAD = 366

NI_FIELD = "national_insurance_number"
NI_FORMAT = "Enter a National Insurance number in the correct format, like QQ 12 34 56 C"
CODE_FORMAT = "can only include letters, numbers and hyphens"


def _finance(actor: Actor) -> None:
    if not actor.has(Role.FINANCE_OFFICER):
        raise Forbidden


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- NI numbers


def national_insurance_from(c: Checker, actor: Actor) -> str | None:
    """The National Insurance number in a payment set-up form, normalised, or None when the
    form leaves it as it is. Only finance and involvement leads may set one."""
    raw = c.raw(NI_FIELD)
    if not raw:
        return None
    if not (is_lead(actor) or actor.has(Role.FINANCE_OFFICER)):
        c.fail(NI_FIELD, "Ask finance or your involvement lead to add a National Insurance number")
        return None
    number = pay.national_insurance_number(raw)
    if number is None:
        c.fail(NI_FIELD, NI_FORMAT)
    return number


async def store_national_insurance(actor: Actor, rep: Representative, number: str) -> None:
    """Within the caller's transaction. The audit event holds the masked number only."""
    before = rep.national_insurance_masked
    rep.national_insurance_encrypted = encrypt_json({"number": number})
    rep.national_insurance_masked = pay.masked_national_insurance(number)
    await rep.save(update_fields=["national_insurance_encrypted", "national_insurance_masked"])
    await audit.record(
        actor,
        "payroll.national_insurance",
        rep,
        before={"national_insurance_number": before},
        after={"national_insurance_number": rep.national_insurance_masked},
        on_behalf_of=rep.full_name,
    )


def _full_national_insurance(rep: Representative) -> str:
    if not rep.national_insurance_encrypted:
        return ""
    return str(decrypt_json(rep.national_insurance_encrypted)["number"])


# --------------------------------------------------------------------------- settings


def _code(c: Checker, name: str, label: str, *, required: bool) -> str:
    value = c.text(name, label, required=required, max_length=20)
    if value and not pay.PAY_ELEMENT_CODE.fullmatch(value):
        c.fail(name, f"{label[0].upper()}{label[1:]} {CODE_FORMAT}")
    return value


@dataclass(frozen=True)
class PaySettings:
    codes: dict[str, str]  # by pay element key, defaults filled in
    default_cost_centre: str | None


async def pay_settings(organisation_id: int | None) -> PaySettings:
    own = {e.key: e.code for e in await PayElement.filter(organisation_id=organisation_id)}
    org = await Organisation.get(id=organisation_id)
    return PaySettings(
        codes={e.key: own.get(e.key, e.default_code) for e in pay.PAY_ELEMENTS},
        default_cost_centre=org.payroll_cost_centre,
    )


async def set_pay_settings(actor: Actor, data: Mapping[str, Any]) -> PaySettings:
    """Finance sets the code payroll knows each pay element by, and the cost centre for money
    earned outside a team with its own. Every field is sent: the form shows them all."""
    _finance(actor)
    c = Checker(data)
    codes = {
        e.key: _code(c, e.key, f"the code for {e.description.lower()}", required=True)
        for e in pay.PAY_ELEMENTS
    }
    default = _code(c, "default_cost_centre", "the default cost centre", required=False)
    c.done()
    async with in_transaction():
        before = await pay_settings(actor.organisation_id)
        existing = {
            e.key: e for e in await PayElement.filter(organisation_id=actor.organisation_id)
        }
        for key, code in codes.items():
            row = existing.get(key)
            if row is None:
                await PayElement.create(organisation_id=actor.organisation_id, key=key, code=code)
            elif row.code != code:
                row.code = code
                await row.save(update_fields=["code"])
        await Organisation.filter(id=actor.organisation_id).update(
            payroll_cost_centre=default or None
        )
        after = PaySettings(codes=codes, default_cost_centre=default or None)
        await audit.record(
            actor,
            "payroll.pay_elements",
            ("Organisation", actor.organisation_id),
            before={"codes": before.codes, "default_cost_centre": before.default_cost_centre},
            after={"codes": after.codes, "default_cost_centre": after.default_cost_centre},
        )
    return after


async def team_for(actor: Actor, team_id: int) -> Team:
    team = await Team.get_or_none(id=team_id, organisation_id=actor.organisation_id)
    if team is None:
        raise NotFound
    return team


async def set_cost_centre(actor: Actor, team: Team, data: Mapping[str, Any]) -> Team:
    """The cost centre payroll charges for money earned for this team (empty for none)."""
    if not actor.has(Role.ORG_ADMIN):
        raise Forbidden
    if team.organisation_id != actor.organisation_id:
        raise NotFound
    c = Checker(data)
    code = _code(c, "cost_centre", "the cost centre", required=False)
    c.done()
    async with in_transaction():
        before = team.cost_centre
        team.cost_centre = code or None
        await team.save(update_fields=["cost_centre"])
        await audit.record(
            actor,
            "team.cost_centre",
            team,
            before={"cost_centre": before},
            after={"cost_centre": team.cost_centre},
        )
    return team


# --------------------------------------------------------------------------- who is ready


def first_name(rep: Representative) -> str:
    return rep.full_name.split()[0] if rep.full_name.split() else rep.full_name


def not_ready_reason(rep: Representative) -> str | None:
    """Why this person's claims cannot go to payroll yet, or None when they can."""
    return pay.payroll_details_missing(
        first_name(rep),
        has_reference=bool((rep.payroll_reference or "").strip()),
        has_ni=bool(rep.national_insurance_encrypted),
    )


def not_ready(organisation_id: int | None) -> QuerySet[Claim]:
    """Approved claims of people paid through payroll that an export would leave out, because
    a payroll number or National Insurance number is missing. The person comes in the same
    query, for the reason each needs."""
    return Claim.filter(
        Q(representative__payroll_reference__isnull=True)
        | Q(representative__payroll_reference="")
        | Q(representative__national_insurance_encrypted__isnull=True),
        organisation_id=organisation_id,
        status=ClaimStatus.APPROVED,
        representative__payout_method="payroll",
        payroll_export_id__isnull=True,
    ).select_related("representative")


# --------------------------------------------------------------------------- the file


@dataclass
class _Row:
    rep: Representative
    element: pay.PayElement
    cost_centre: str
    pence: int = 0
    claim_ids: set[int] = field(default_factory=set)


ELEMENTS = {e.key: e for e in pay.PAY_ELEMENTS}
ORDER = {e.key: i for i, e in enumerate(pay.PAY_ELEMENTS)}


def _element(key: str) -> pay.PayElement:
    # An expense type no longer offered still pays, under a code made from its name.
    return ELEMENTS.get(key) or pay.PayElement(key, key.upper()[:20], key, taxable=False)


async def _rows(organisation_id: int | None, chosen: list[Claim]) -> list[_Row]:
    """Each fee day, correction and expense is charged to the team it was earned for. A day's
    money is spread over that day's involvements by minutes, exactly as reports cost it
    (attendance.cost_involvements); an expense for one booking goes to that booking's team.
    Money with no team goes to the organisation's default cost centre."""
    ids = [c.id for c in chosen]
    by_claim = {c.id: c for c in chosen}
    lines = await ClaimLine.filter(claim_id__in=ids)
    expenses = await Expense.filter(claim_id__in=ids)
    rep_ids = {c.representative_id for c in chosen}
    days = {x.day for x in lines if x.day is not None} | {e.day for e in expenses}
    bookings = [e.booking_id for e in expenses if e.booking_id is not None]
    involvements = await Involvement.filter(
        Q(representative_id__in=rep_ids, day__in=days) | Q(booking_id__in=bookings or [0]),
        organisation_id=organisation_id,
    ).order_by("id")
    on_day: dict[tuple[int, dt.date], list[Involvement]] = defaultdict(list)
    by_booking: dict[int, Involvement] = {}
    for row in involvements:
        on_day[(row.representative_id, row.day)].append(row)
        if row.booking_id is not None:
            by_booking[row.booking_id] = row
    teams = {
        t.id: t.cost_centre
        for t in await Team.filter(
            id__in={i.team_id for i in involvements if i.team_id is not None} or {0}
        )
    }
    settings = await pay_settings(organisation_id)
    default_centre = settings.default_cost_centre or ""

    def centre(team_id: int | None) -> str:
        return (teams.get(team_id) if team_id is not None else None) or default_centre

    rows: dict[tuple[int, str, str], _Row] = {}

    def add(claim_id: int, key: str, pence: int, where: list[Involvement]) -> None:
        claim = by_claim[claim_id]
        spread: list[Involvement | None] = list(where) or [None]
        weights = [i.minutes if i else 1 for i in spread]
        for involvement, part in zip(spread, share(pence, weights), strict=True):
            cost_centre = centre(involvement.team_id if involvement else None)
            row = rows.setdefault(
                (claim.representative_id, key, cost_centre),
                _Row(claim.representative, _element(key), cost_centre),
            )
            row.pence += part
            row.claim_ids.add(claim_id)

    for line in lines:
        rep_id = by_claim[line.claim_id].representative_id
        where = on_day.get((rep_id, line.day), []) if line.day else []
        add(line.claim_id, pay.FEE_ELEMENT, line.amount_pence, where)
    for e in expenses:
        rep_id = by_claim[e.claim_id].representative_id
        booked = by_booking.get(e.booking_id) if e.booking_id is not None else None
        where = [booked] if booked else on_day.get((rep_id, e.day), [])
        paid = e.approved_pence if e.approved_pence is not None else e.amount_pence
        add(e.claim_id, e.kind, paid, where)
    # Someone who declined payment has fee days worth nothing: payroll needs no row for them.
    kept = [r for r in rows.values() if r.pence != 0]
    return sorted(
        kept,
        key=lambda r: (
            r.rep.full_name.lower(),
            r.rep.id,
            ORDER.get(r.element.key, 99),
            r.cost_centre,
        ),
    )


def _file(rows: Iterable[_Row], codes: Mapping[str, str], payment_date: dt.date) -> str:
    year = pay.tax_year_of(payment_date)
    return csv_files.write(
        CSV_HEADER,
        [
            [
                row.rep.payroll_reference or "",
                _full_national_insurance(row.rep),
                row.rep.full_name,
                codes.get(row.element.key, row.element.default_code),
                row.element.description,
                "yes" if row.element.taxable else "no",
                Money(row.pence),
                pay.tax_year_label(year),
                pay.tax_month_of(payment_date),
                payment_date,
                row.cost_centre,
                " ".join(str(i) for i in sorted(row.claim_ids)),
            ]
            for row in rows
        ],
    )


def file_text(export: PayrollExport) -> str:
    """The file as written. Exports from before National Insurance numbers were kept plain."""
    if export.file_encrypted:
        return str(decrypt_json(export.file_encrypted)["csv"])
    return export.csv


async def download(actor: Actor, export_id: int) -> tuple[PayrollExport, str]:
    """The file of an export, for finance. It holds National Insurance numbers in full, so each
    download is audited."""
    _finance(actor)
    export = await PayrollExport.get_or_none(id=export_id, organisation_id=actor.organisation_id)
    if export is None:
        raise NotFound
    async with in_transaction():
        await audit.record(actor, "payroll.download", export)
    return export, file_text(export)


def _payment_date(c: Checker) -> dt.date | None:
    day = c.date("payment_date", "the payment date")
    today = clock.today()
    if day is not None and day < today - dt.timedelta(days=PAYMENT_DATE_DAYS_BACK):
        c.fail(
            "payment_date",
            f"The payment date must be today, in the future or in the last "
            f"{PAYMENT_DATE_DAYS_BACK} days",
        )
    elif day is not None and day > today + dt.timedelta(days=PAYMENT_DATE_DAYS_AHEAD):
        c.fail("payment_date", "The payment date must be within a year from today")
    return day


async def export_payroll(actor: Actor, data: Mapping[str, Any] | None = None) -> PayrollExport:
    """A payroll file of the approved claims of people paid through payroll, each exported
    once, for the pay day given as `payment_date`; people missing a payroll number or National
    Insurance number wait (see `not_ready`). With `export_id` and a reason, the same claims are
    exported again for the same pay day, and that is audited."""
    _finance(actor)
    data = data or {}
    again = str(data.get("export_id") or "")
    async with in_transaction():
        if again:
            previous = (
                await PayrollExport.get_or_none(
                    id=record_id(again), organisation_id=actor.organisation_id
                )
                if record_id(again) is not None
                else None
            )
            if previous is None:
                raise NotFound
            c = Checker(data)
            reason = c.text("reason", "why it needs exporting again", max_length=500)
            c.done()
            payment_date = previous.payment_date or clock.today(previous.created_at)
            chosen = await Claim.filter(payroll_export=previous).prefetch_related("representative")
        else:
            c = Checker(data)
            day = _payment_date(c)
            c.done()
            assert day is not None  # required: done() raised otherwise
            reason, payment_date = "", day
            waiting = (
                await Claim.filter(
                    organisation_id=actor.organisation_id,
                    status=ClaimStatus.APPROVED,
                    representative__payout_method="payroll",
                    payroll_export_id__isnull=True,
                )
                .select_for_update()
                .prefetch_related("representative")
            )
            if not waiting:
                raise ValidationFailed.one(
                    "claims", "There are no approved payroll claims to export"
                )
            chosen = [claim for claim in waiting if not_ready_reason(claim.representative) is None]
            if not chosen:
                raise ValidationFailed.one(
                    "claims",
                    "No approved payroll claims can be exported yet: add the missing details "
                    "listed under claims not ready for payroll",
                )
        if not chosen:
            raise ValidationFailed.one("claims", "There are no approved payroll claims to export")
        rows = await _rows(actor.organisation_id, chosen)
        codes = (await pay_settings(actor.organisation_id)).codes
        export = await PayrollExport.create(
            organisation_id=actor.organisation_id,
            created_by=actor.user,
            csv="",
            file_encrypted=encrypt_json({"csv": _file(rows, codes, payment_date)}),
            payment_date=payment_date,
            claim_count=len(chosen),
            reason=reason or None,
        )
        if not again:
            # One UPDATE for the whole export, not one per claim.
            paid_at = _now()
            await Claim.filter(id__in=[c.id for c in chosen]).update(
                status=ClaimStatus.SENT_TO_PAYROLL, payroll_export_id=export.id, paid_at=paid_at
            )
            for claim in chosen:
                claim.status = ClaimStatus.SENT_TO_PAYROLL
                claim.payroll_export = export
                claim.paid_at = paid_at
        await audit.record(
            actor,
            "payroll.reexport" if again else "payroll.export",
            export,
            after={
                "claims": [c.id for c in chosen],
                "payment_date": payment_date.isoformat(),
                "reason": reason or None,
            },
        )
    return export
