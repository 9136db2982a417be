"""Reconciliation's rule: given Stripe's transfers and what we recorded for claims, the
differences a finance officer must look at. Pure: the service gathers both sides and stores the
result."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from coprod.integrations.stripe_gateway import TransferResult
from coprod.models.reconciliation import DifferenceKind
from coprod.templating import money


@dataclass(frozen=True)
class Recorded:
    """What we hold about one claim, as reconciliation needs it."""

    claim_id: int
    organisation_id: int
    status_label: str
    paid: bool  # we show it as paid by bank transfer
    in_flight: bool  # a payment attempt is under way: the worker will settle it
    transfer_id: str | None
    amount_pence: int | None  # what we recorded paying
    account: str | None  # the representative's Stripe account now


@dataclass(frozen=True)
class Difference:
    organisation_id: int
    kind: DifferenceKind
    subject: str  # the transfer's id, or claim_subject(...) for a claim as a whole
    description: str
    transfer_id: str | None = None
    claim_id: int | None = None
    ours_pence: int | None = None
    stripe_pence: int | None = None

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.organisation_id, self.kind.value, self.subject)


def claim_subject(claim_id: int) -> str:
    return f"claim-{claim_id}"


def live(transfer: TransferResult) -> bool:
    """Money that is still with the representative: a transfer reversed in full is not."""
    return not transfer.reversed and transfer.amount_reversed_pence < transfer.amount_pence


def net_pence(transfer: TransferResult) -> int:
    return transfer.amount_pence - transfer.amount_reversed_pence


def claim_named(transfer: TransferResult) -> int | None:
    raw = transfer.metadata.get("claim_id", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def differences(
    transfers: Sequence[tuple[int, TransferResult]],
    recorded: Mapping[int, Recorded],
    checked: Iterable[int],
) -> list[Difference]:
    """`transfers` are Stripe's, each with the organisation it belongs to; `recorded` holds
    every claim they name or we recorded them against; `checked` are the claims whose transfers
    were all fetched, so a missing one really is missing."""
    by_transfer = {r.transfer_id: r for r in recorded.values() if r.transfer_id}
    found: list[Difference] = []
    live_for: dict[int, list[TransferResult]] = defaultdict(list)
    for organisation_id, t in transfers:
        if not live(t):
            continue
        named = claim_named(t)
        claim = by_transfer.get(t.id) or (recorded.get(named) if named is not None else None)
        if claim is None or claim.organisation_id != organisation_id:
            about = (
                f"It names claim {named}, which is not a claim of this organisation in Coprod."
                if named is not None
                else "It names no claim of this organisation in Coprod."
            )
            found.append(
                Difference(
                    organisation_id,
                    DifferenceKind.UNKNOWN_TRANSFER,
                    t.id,
                    f"Stripe transfer {t.id} paid {money(net_pence(t))} to Stripe account "
                    f"{t.destination}. {about} "
                    "Find out in Stripe who made it and why; if it was a mistake, reverse it "
                    "in Stripe, then mark this resolved with what you did.",
                    transfer_id=t.id,
                    stripe_pence=net_pence(t),
                )
            )
            continue
        live_for[claim.claim_id].append(t)
        if not claim.paid:
            if not claim.in_flight:
                found.append(
                    Difference(
                        organisation_id,
                        DifferenceKind.UNRECORDED_TRANSFER,
                        t.id,
                        f"Stripe transfer {t.id} paid {money(net_pence(t))} for claim "
                        f"{claim.claim_id}, but Coprod shows the claim as "
                        f"{claim.status_label.lower()}, not paid by bank transfer. Check the "
                        "claim: if it was also paid another way (payroll, say), reverse the "
                        "transfer in Stripe; otherwise tell whoever runs Coprod, as the "
                        "payment was not recorded.",
                        transfer_id=t.id,
                        claim_id=claim.claim_id,
                        stripe_pence=net_pence(t),
                    )
                )
            continue
        if claim.account and t.destination != claim.account:
            found.append(
                Difference(
                    organisation_id,
                    DifferenceKind.WRONG_ACCOUNT,
                    t.id,
                    f"Stripe transfer {t.id} for claim {claim.claim_id} went to Stripe account "
                    f"{t.destination}, but the representative's account is {claim.account}. "
                    "Check with the representative whether they received it; if not, reverse "
                    "it in Stripe and pay the claim again.",
                    transfer_id=t.id,
                    claim_id=claim.claim_id,
                    ours_pence=claim.amount_pence,
                    stripe_pence=net_pence(t),
                )
            )
    for claim_id in sorted(set(checked)):
        claim = recorded[claim_id]
        if not claim.paid:
            continue
        paid = live_for.get(claim_id, [])
        if not paid:
            found.append(
                Difference(
                    claim.organisation_id,
                    DifferenceKind.MISSING_TRANSFER,
                    claim_subject(claim_id),
                    f"Coprod shows claim {claim_id} as paid ({money(claim.amount_pence or 0)}, "
                    f"transfer {claim.transfer_id}), but Stripe has no live transfer for it: it "
                    "was reversed or never made. The representative may not have their money. "
                    "Check the transfer in Stripe and pay the claim again if it is owed.",
                    transfer_id=claim.transfer_id,
                    claim_id=claim_id,
                    ours_pence=claim.amount_pence,
                    stripe_pence=0,
                )
            )
        elif len(paid) > 1:
            ids = ", ".join(sorted(t.id for t in paid))
            found.append(
                Difference(
                    claim.organisation_id,
                    DifferenceKind.PAID_TWICE,
                    claim_subject(claim_id),
                    f"Claim {claim_id} was paid {len(paid)} times in Stripe ({ids}), "
                    f"{money(sum(net_pence(t) for t in paid))} in all for a claim of "
                    f"{money(claim.amount_pence or 0)}. Reverse the extra transfers in Stripe "
                    "(keep the one Coprod recorded), or agree the overpayment with the "
                    "representative.",
                    transfer_id=claim.transfer_id,
                    claim_id=claim_id,
                    ours_pence=claim.amount_pence,
                    stripe_pence=sum(net_pence(t) for t in paid),
                )
            )
        elif net_pence(paid[0]) != claim.amount_pence:
            t = paid[0]
            found.append(
                Difference(
                    claim.organisation_id,
                    DifferenceKind.DIFFERENT_AMOUNT,
                    t.id,
                    f"Claim {claim_id} is for {money(claim.amount_pence or 0)}, but Stripe "
                    f"transfer {t.id} now holds {money(net_pence(t))} for it"
                    f"{' after a partial reversal' if t.amount_reversed_pence else ''}. Pay the "
                    "difference or reverse the excess in Stripe, then mark this resolved.",
                    transfer_id=t.id,
                    claim_id=claim_id,
                    ours_pence=claim.amount_pence,
                    stripe_pence=net_pence(t),
                )
            )
    return found
