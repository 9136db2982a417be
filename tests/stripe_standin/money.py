"""Money moving: transfers, their reversals, the balance transactions on each side, and the
connected accounts' payouts."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from tests.stripe_standin.accounts import change_account
from tests.stripe_standin.events import EventsMixin
from tests.stripe_standin.wire import (
    DEFAULT_LIST_LIMIT,
    PLATFORM_CURRENCY,
    Refused,
    Reply,
    created_between,
    error_body,
    missing,
    new_id,
    no_such,
    page,
    positive_integer,
)

# Stripe's payout failure codes (https://docs.stripe.com/api/payouts/failures), with the kind of
# message Stripe puts in `failure_message`.
PAYOUT_FAILURES = {
    "account_closed": "The bank account has been closed.",
    "account_frozen": "The bank account has been frozen.",
    "bank_account_restricted": (
        "The bank account has restrictions on either the type or the number of payouts "
        "allowed. This normally indicates that the bank account is a savings or other "
        "non-current account."
    ),
    "bank_ownership_changed": (
        "The destination bank account is no longer valid because its branch has changed ownership."
    ),
    "could_not_process": "The bank could not process this payout.",
    "debit_not_authorized": "Debit transactions are not approved on the bank account.",
    "declined": "The bank has declined this payout. Please contact the bank before retrying.",
    "incorrect_account_holder_name": (
        "The bank notified Stripe that the bank account holder name on file is incorrect."
    ),
    "insufficient_funds": "The Stripe account has insufficient funds to cover the payout.",
    "invalid_account_number": ("The sort code seems correct, but the account number is invalid."),
    "invalid_currency": ("The bank was unable to process this payout because of its currency."),
    "no_account": (
        "The bank account details on file are probably incorrect. No bank account could be "
        "located with those details."
    ),
}


class MoneyMixin(EventsMixin):
    """Transfers, reversals, balance transactions and payouts, mixed into `StripeStandIn`."""

    # ------------------------------------------------------------------ test helpers

    def transfers_to(self, account_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [t for t in self.transfers.values() if t["destination"] == account_id]

    def transfers_in_group(self, group: str) -> list[dict[str, Any]]:
        with self._lock:
            return [t for t in self.transfers.values() if t["transfer_group"] == group]

    def balance_of(self, account_id: str) -> int:
        """What the connected account holds in Stripe and has not yet paid out, in pence."""
        with self._lock:
            return sum(t["amount"] for t in self._unpaid(account_id))

    def _unpaid(self, account_id: str) -> list[dict[str, Any]]:
        return [
            t
            for t in self.balance_transactions.values()
            if self._txn_account[t["id"]] == account_id and t["id"] not in self._txn_payout
        ]

    def reverse_transfer(self, transfer_id: str, amount: int | None = None) -> dict[str, Any]:
        """Reverse a transfer (the whole of what is left by default), as the Dashboard would,
        through the same code as `POST /v1/transfers/{id}/reversals`. Returns the
        `transfer.reversed` event, delivered over real HTTP if the webhook target is a URL.
        With an in-process client target it is left undelivered, for the test to deliver (or
        replay) itself; `reverse_transfer_async` delivers to any target."""
        with self._lock:
            _, event = self._reverse(transfer_id, amount, {})
        if self._webhook_url is not None and self._webhook_client is None:
            self.deliver(event["id"])
        return event

    async def reverse_transfer_async(
        self, transfer_id: str, amount: int | None = None
    ) -> dict[str, Any]:
        with self._lock:
            _, event = self._reverse(transfer_id, amount, {})
        if self._webhook_url is not None:
            await self.deliver_async(event["id"])
        return event

    def _reverse(
        self, transfer_id: str, amount: int | None, metadata: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Returns the reversal and the `transfer.reversed` event; raises Refused."""
        transfer = self.transfers.get(transfer_id)
        if transfer is None:
            raise Refused(no_such("transfer", transfer_id))
        left = transfer["amount"] - transfer["amount_reversed"]
        if left == 0:
            raise Refused(
                Reply(400, error_body(f"Transfer {transfer_id} has already been fully reversed."))
            )
        amount = left if amount is None else amount
        if amount > left:
            raise Refused(
                Reply(
                    400,
                    error_body(
                        f"You cannot reverse {amount} of transfer {transfer_id}: only {left} "
                        "has not been reversed.",
                        param="amount",
                    ),
                )
            )
        reversal_id = new_id("trr")
        refund_id = new_id("pyr")
        # The money comes back to the platform and leaves the connected account, where the
        # reversal shows as a refund of the payment the transfer made.
        returned = self._add_balance_transaction(
            None,
            type="transfer_refund",
            amount=amount,
            source=reversal_id,
            category="transfer_reversal",
        )
        self._add_balance_transaction(
            transfer["destination"],
            type="payment_refund",
            amount=-amount,
            source=refund_id,
            category="refund",
        )
        reversal = copy.deepcopy(self._templates["transfer_reversal"])
        reversal.update(
            id=reversal_id,
            amount=amount,
            balance_transaction=returned["id"],
            created=self.now(),
            currency=transfer["currency"],
            destination_payment_refund=refund_id,
            metadata=metadata,
            source_refund=None,
            transfer=transfer_id,
        )
        self.reversals[reversal_id] = reversal
        previous: dict[str, Any] = {"amount_reversed": transfer["amount_reversed"]}
        transfer["amount_reversed"] += amount
        if transfer["amount_reversed"] == transfer["amount"]:
            previous["reversed"] = False
            transfer["reversed"] = True
        transfer["reversals"] = self._embedded_reversals(transfer_id)
        event = self.record_event("transfer.reversed", transfer, previous_attributes=previous)
        return copy.deepcopy(reversal), event

    def _embedded_reversals(self, transfer_id: str) -> dict[str, Any]:
        # A transfer carries its first page of reversals, as Stripe's does.
        mine = [r for r in self.reversals.values() if r["transfer"] == transfer_id]
        newest_first = list(reversed(mine))
        return {
            "data": copy.deepcopy(newest_first[:DEFAULT_LIST_LIMIT]),
            "has_more": len(newest_first) > DEFAULT_LIST_LIMIT,
            "object": "list",
            "url": f"/v1/transfers/{transfer_id}/reversals",
        }

    def _add_balance_transaction(
        self, account: str | None, *, type: str, amount: int, source: str, category: str
    ) -> dict[str, Any]:
        """Money moving in (positive) or out of an account's balance (None: the platform's).
        Everything here is available at once: the stand-in has no pending funds."""
        txn = copy.deepcopy(self._templates["balance_transaction"])
        now = self.now()
        txn.update(
            id=new_id("txn"),
            amount=amount,
            available_on=now,
            created=now,
            currency=PLATFORM_CURRENCY,
            description=None,
            exchange_rate=None,
            fee=0,
            fee_details=[],
            net=amount,
            reporting_category=category,
            source=source,
            status="available",
            type=type,
        )
        self.balance_transactions[txn["id"]] = txn
        self._txn_account[txn["id"]] = account
        return txn

    def pay_out(self, account_id: str, *, fail_with: str | None = None) -> dict[str, Any]:
        """Stripe's automatic payout of the account's whole balance to its bank account.

        Without `fail_with` the payout is paid (`payout.paid`); with a payout failure code
        (see PAYOUT_FAILURES) it fails (`payout.failed`), the money returns to the account's
        balance, and Stripe switches the account's payouts off (`account.updated`) until its
        bank details are fixed. The events are on the connected account and go to the webhook
        target, if set, over real HTTP (`pay_out_async` for an in-process target). Returns the
        payout. Raises ValueError if the account's payouts are off or it has nothing to pay.
        """
        payout, events = self._pay_out(account_id, fail_with)
        if self._webhook_url is not None:
            for event in events:
                self.deliver(event["id"])
        return payout

    async def pay_out_async(
        self, account_id: str, *, fail_with: str | None = None
    ) -> dict[str, Any]:
        payout, events = self._pay_out(account_id, fail_with)
        if self._webhook_url is not None:
            for event in events:
                await self.deliver_async(event["id"])
        return payout

    def _pay_out(
        self, account_id: str, fail_with: str | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if fail_with is not None and fail_with not in PAYOUT_FAILURES:
            raise ValueError(f"{fail_with!r} is not a Stripe payout failure code")
        with self._lock:
            account = self.accounts.get(account_id)
            if account is None:
                raise ValueError(f"no account {account_id}")
            if not account["payouts_enabled"]:
                raise ValueError(f"{account_id} has payouts disabled: Stripe pays nothing out")
            covered = self._unpaid(account_id)
            amount = sum(t["amount"] for t in covered)
            if amount <= 0:
                raise ValueError(f"{account_id} has nothing to pay out (balance {amount})")
            payout_id = new_id("po")
            spent = self._add_balance_transaction(
                account_id, type="payout", amount=-amount, source=payout_id, category="payout"
            )
            # Listing balance transactions by payout gives what it covered and the payout's own.
            for txn in [*covered, spent]:
                self._txn_payout[txn["id"]] = payout_id
            now = self.now()
            payout = copy.deepcopy(self._templates["payout"])
            payout.update(
                id=payout_id,
                amount=amount,
                arrival_date=now + 24 * 3600,
                automatic=True,
                balance_transaction=spent["id"],
                created=now,
                currency=PLATFORM_CURRENCY,
                description="STRIPE PAYOUT",
                destination=self._bank_accounts[account_id],
                failure_balance_transaction=None,
                failure_code=None,
                failure_message=None,
                metadata={},
                method="standard",
                reconciliation_status="completed",
                source_type="card",
                status="paid",
                type="bank_account",
                trace_id={"status": "supported", "value": secrets.token_hex(8).upper()},
            )
            self.payouts[payout_id] = payout
            self._payout_account[payout_id] = account_id
            if fail_with is None:
                return copy.deepcopy(payout), [
                    self.record_event("payout.paid", payout, account=account_id)
                ]
            # The bank sends the money back: it is in the balance again, for a later payout.
            returned = self._add_balance_transaction(
                account_id,
                type="payout_failure",
                amount=amount,
                source=payout_id,
                category="payout_reversal",
            )
            payout.update(
                status="failed",
                failure_balance_transaction=returned["id"],
                failure_code=fail_with,
                failure_message=PAYOUT_FAILURES[fail_with],
                trace_id={"status": "unsupported", "value": None},
            )
            failed = self.record_event("payout.failed", payout, account=account_id)
            previous = change_account(account, payouts_enabled=False, transfers=None)
            updated = self.record_event(
                "account.updated", account, account=account_id, previous_attributes=previous
            )
            return copy.deepcopy(payout), [failed, updated]

    # ------------------------------------------------------------------ endpoints

    def _create_transfer(self, params: dict[str, Any], context: str | None) -> Reply:
        for required in ("amount", "currency", "destination"):
            if not params.get(required):
                return missing(required)
        amount = positive_integer("amount", params["amount"])
        if params["currency"].lower() != PLATFORM_CURRENCY:
            return Reply(
                400,
                error_body(
                    f"Invalid currency: {params['currency']}. This platform only holds a "
                    "GBP balance.",
                    code="parameter_invalid_string",
                    param="currency",
                ),
                save=False,
            )
        destination = self.accounts.get(params["destination"])
        if destination is None:
            return no_such("destination", params["destination"], param="destination")
        # Only the capability matters: with payouts off the money waits in the account's
        # Stripe balance until a payout can be made.
        if destination["capabilities"].get("transfers") != "active":
            return Reply(
                400,
                error_body(
                    "Your destination account needs to have at least one of the following "
                    "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                    code="insufficient_capabilities_for_transfer",
                    param="destination",
                ),
            )
        transfer = copy.deepcopy(self._templates["transfer"])
        transfer_id = new_id("tr")
        payment_id = new_id("py")
        spent = self._add_balance_transaction(
            None, type="transfer", amount=-amount, source=transfer_id, category="transfer"
        )
        self._add_balance_transaction(
            destination["id"], type="payment", amount=amount, source=payment_id, category="charge"
        )
        transfer.update(
            id=transfer_id,
            amount=amount,
            amount_reversed=0,
            currency=PLATFORM_CURRENCY,
            description=params.get("description"),
            destination=destination["id"],
            destination_payment=payment_id,
            balance_transaction=spent["id"],
            metadata=params.get("metadata") or {},
            created=self.now(),
            reversed=False,
            transfer_group=params.get("transfer_group"),
            source_type="card",
        )
        self.transfers[transfer_id] = transfer
        transfer["reversals"] = self._embedded_reversals(transfer_id)
        return Reply(200, copy.deepcopy(transfer))

    def _get_transfer(self, params: dict[str, Any], context: str | None, ident: str) -> Reply:
        if ident not in self.transfers:
            return no_such("transfer", ident)
        return Reply(200, copy.deepcopy(self.transfers[ident]))

    def _list_transfers(self, params: dict[str, Any], context: str | None) -> Reply:
        universe = list(self.transfers.values())
        items = created_between(universe, params)
        for name in ("destination", "transfer_group"):
            if params.get(name):
                items = [t for t in items if t[name] == params[name]]
        return page("/v1/transfers", "transfer", universe, items, params)

    def _create_reversal(
        self, params: dict[str, Any], context: str | None, transfer_id: str
    ) -> Reply:
        amount = None
        if params.get("amount") not in (None, ""):
            amount = positive_integer("amount", params["amount"])
        reversal, event = self._reverse(transfer_id, amount, params.get("metadata") or {})
        self._deliver_in_background(event["id"])
        return Reply(200, copy.deepcopy(reversal))

    def _transfer_reversals(self, transfer_id: str) -> list[dict[str, Any]]:
        if transfer_id not in self.transfers:
            raise Refused(no_such("transfer", transfer_id))
        return [r for r in self.reversals.values() if r["transfer"] == transfer_id]

    def _list_reversals(
        self, params: dict[str, Any], context: str | None, transfer_id: str
    ) -> Reply:
        universe = self._transfer_reversals(transfer_id)
        url = f"/v1/transfers/{transfer_id}/reversals"
        return page(url, "transfer_reversal", universe, universe, params)

    def _get_reversal(
        self, params: dict[str, Any], context: str | None, transfer_id: str, ident: str
    ) -> Reply:
        found = [r for r in self._transfer_reversals(transfer_id) if r["id"] == ident]
        if not found:
            return no_such("transfer_reversal", ident)
        return Reply(200, copy.deepcopy(found[0]))

    def _account_payouts(self, context: str | None) -> list[dict[str, Any]]:
        return [p for p in self.payouts.values() if self._payout_account[p["id"]] == context]

    def _list_payouts(self, params: dict[str, Any], context: str | None) -> Reply:
        universe = self._account_payouts(context)
        items = created_between(universe, params)
        if params.get("status"):
            items = [p for p in items if p["status"] == params["status"]]
        return page("/v1/payouts", "payout", universe, items, params)

    def _get_payout(self, params: dict[str, Any], context: str | None, ident: str) -> Reply:
        # A connected account's payout is only found with that account in Stripe-Account.
        if ident not in self.payouts or self._payout_account[ident] != context:
            return no_such("payout", ident)
        return Reply(200, copy.deepcopy(self.payouts[ident]))

    def _list_balance_transactions(self, params: dict[str, Any], context: str | None) -> Reply:
        universe = [
            t for t in self.balance_transactions.values() if self._txn_account[t["id"]] == context
        ]
        items = created_between(universe, params)
        payout = params.get("payout")
        if payout:
            if payout not in self.payouts or self._payout_account[payout] != context:
                return no_such("payout", payout, param="payout")
            items = [t for t in items if self._txn_payout.get(t["id"]) == payout]
        for name in ("type", "source", "currency"):
            if params.get(name):
                items = [t for t in items if t[name] == params[name]]
        return page("/v1/balance_transactions", "balance_transaction", universe, items, params)

    def _get_balance_transaction(
        self, params: dict[str, Any], context: str | None, ident: str
    ) -> Reply:
        if ident not in self.balance_transactions or self._txn_account[ident] != context:
            return no_such("balance transaction", ident)
        return Reply(200, copy.deepcopy(self.balance_transactions[ident]))
