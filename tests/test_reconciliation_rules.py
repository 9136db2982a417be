"""Reconciliation's rule, as a table: Stripe's transfers and what we recorded, and the
differences finance must look at."""

from __future__ import annotations

import pytest

from coprod.domain.reconciliation import Recorded, differences, live
from coprod.integrations.stripe_gateway import TransferResult
from coprod.models import DifferenceKind as K

ORG, OTHER = 1, 2


def paid(
    claim_id: int = 10, transfer_id: str = "tr_a", pence: int = 7000, **kw: object
) -> Recorded:
    fields: dict[str, object] = {
        "claim_id": claim_id,
        "organisation_id": ORG,
        "status_label": "Paid",
        "paid": True,
        "in_flight": False,
        "transfer_id": transfer_id,
        "amount_pence": pence,
        "account": "acct_ada",
    }
    fields.update(kw)
    return Recorded(**fields)  # type: ignore[arg-type]


def unpaid(claim_id: int = 10, **kw: object) -> Recorded:
    return paid(claim_id, status_label="Approved", paid=False, transfer_id=None, **kw)


def tr(
    id: str = "tr_a",
    pence: int = 7000,
    claim: int | None = 10,
    to: str = "acct_ada",
    reversed_pence: int = 0,
) -> TransferResult:
    return TransferResult(
        id=id,
        amount_pence=pence,
        destination=to,
        reversed=reversed_pence >= pence,
        amount_reversed_pence=reversed_pence,
        metadata={"claim_id": str(claim)} if claim is not None else {},
    )


CASES = [
    ("all agree", [tr()], [paid()], []),
    ("no transfer at all", [], [paid()], [(K.MISSING_TRANSFER, "claim-10")]),
    ("reversed in full", [tr(reversed_pence=7000)], [paid()], [(K.MISSING_TRANSFER, "claim-10")]),
    ("reversed in part", [tr(reversed_pence=500)], [paid()], [(K.DIFFERENT_AMOUNT, "tr_a")]),
    ("a different amount", [tr(pence=7100)], [paid()], [(K.DIFFERENT_AMOUNT, "tr_a")]),
    ("paid twice", [tr(), tr("tr_b")], [paid()], [(K.PAID_TWICE, "claim-10")]),
    ("second one reversed", [tr(), tr("tr_b", reversed_pence=7000)], [paid()], []),
    ("to another account", [tr(to="acct_eve")], [paid()], [(K.WRONG_ACCOUNT, "tr_a")]),
    ("names no claim", [tr(claim=None)], [], [(K.UNKNOWN_TRANSFER, "tr_a")]),
    ("names a claim we lack", [tr(claim=99)], [], [(K.UNKNOWN_TRANSFER, "tr_a")]),
    (
        "names another organisation's claim",
        [tr(claim=10)],
        [unpaid(organisation_id=OTHER)],
        [(K.UNKNOWN_TRANSFER, "tr_a")],
    ),
    ("a claim we show unpaid", [tr()], [unpaid()], [(K.UNRECORDED_TRANSFER, "tr_a")]),
    ("the worker is paying it now", [tr()], [unpaid(in_flight=True)], []),
    ("a reversed stray", [tr(claim=None, reversed_pence=7000)], [], []),
    ("found by recorded id, no metadata", [tr(claim=None)], [paid()], []),
]


@pytest.mark.parametrize(
    ("transfers", "recorded", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_differences(
    transfers: list[TransferResult],
    recorded: list[Recorded],
    expected: list[tuple[K, str]],
) -> None:
    by_id = {r.claim_id: r for r in recorded}
    found = differences([(ORG, t) for t in transfers], by_id, [r.claim_id for r in recorded])
    assert sorted((d.kind, d.subject) for d in found) == sorted(expected)
    assert all(d.organisation_id == ORG for d in found)


def test_a_claim_not_checked_is_not_called_missing() -> None:
    # Its transfers were not all fetched (paid before the window), so absence proves nothing.
    assert differences([], {10: paid()}, []) == []


@pytest.mark.parametrize(
    ("pence", "reversed_pence", "is_live"),
    [(7000, 0, True), (7000, 6999, True), (7000, 7000, False)],
)
def test_live(pence: int, reversed_pence: int, is_live: bool) -> None:
    assert live(tr(pence=pence, reversed_pence=reversed_pence)) is is_live
