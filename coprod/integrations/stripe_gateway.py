"""Stripe Connect, as the payment services see it: Express accounts, onboarding links,
GBP transfers and signed webhooks. No database code here; the services record what happened.

Every failure from Stripe comes out as `PaymentFailed`, with a reason a finance officer can act
on and `retryable` saying whether the *same* request (same idempotency key) may be sent again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import stripe

if TYPE_CHECKING:
    from coprod.config import Settings

T = TypeVar("T")

CURRENCY = "gbp"
ACCOUNT_COUNTRY = "GB"


@dataclass(frozen=True)
class TransferResult:
    id: str
    amount_pence: int
    destination: str
    reversed: bool
    amount_reversed_pence: int = 0
    # The payment the transfer made in the connected account (py_...): what a payout of that
    # account lists among its balance transactions, so how a transfer is traced to the bank.
    destination_payment: str = ""
    transfer_group: str = ""
    created: int = 0
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountStatus:
    """What Stripe says a connected account can do: receive transfers (its `transfers`
    capability is active) and pay its balance out to the bank (payouts enabled)."""

    payouts_enabled: bool
    transfers_active: bool


@dataclass(frozen=True)
class PayoutResult:
    id: str
    status: str  # paid, failed, pending, in_transit, canceled
    arrival_date: int
    failure_code: str
    failure_message: str


class PaymentFailed(Exception):
    """Stripe refused or could not be reached.

    retryable=True: the outcome is unknown or temporary (timeout, lost connection, rate limit,
    Stripe's own fault). Send the same request again with the same idempotency key: Stripe
    either finishes it or returns the first result, so nothing is paid twice.

    retryable=False: Stripe gave a definite answer and nothing was done. Stripe remembers that
    answer against the idempotency key for about a day, so a new attempt, once the cause is
    fixed, needs a new key.
    """

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        code: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.code = code
        self.http_status = http_status


class WebhookInvalid(Exception):
    """The request did not come from Stripe, or was altered on the way: ignore it."""


# Stripe's error codes that a finance officer meets on payouts, in plain English.
_REASONS = {
    "insufficient_capabilities_for_transfer": (
        "The representative's Stripe account cannot receive payments yet. They need to finish "
        "setting it up with Stripe (the onboarding link)."
    ),
    "account_invalid": "Stripe does not recognise the representative's Stripe account.",
    "resource_missing": "Stripe has no record of that account or payment.",
    "balance_insufficient": (
        "The trust's Stripe balance is too low to make this payment. Add funds in Stripe, "
        "then try again."
    ),
    "parameter_invalid_integer": "The amount is not a whole number of pence above zero.",
    "parameter_missing": "Coprod left out something Stripe needs. Report this as a fault.",
    "account_closed": "The representative's Stripe account has been closed.",
    "transfers_not_allowed": "Stripe does not allow payments to this account.",
}


def _reason_for(exc: stripe.StripeError) -> PaymentFailed:
    code = getattr(exc, "code", None)
    status = exc.http_status
    detail = exc.user_message or str(exc) or type(exc).__name__

    def failed(reason: str, retryable: bool) -> PaymentFailed:
        return PaymentFailed(reason, retryable=retryable, code=code, http_status=status)

    if isinstance(exc, stripe.APIConnectionError):
        return failed(
            "Coprod could not reach Stripe, or Stripe did not answer in time. The payment may "
            "or may not have gone through; trying again is safe and will not pay twice.",
            True,
        )
    if isinstance(exc, stripe.RateLimitError):
        return failed("Stripe is busy and asked Coprod to slow down. Try again shortly.", True)
    if isinstance(exc, stripe.AuthenticationError):
        return failed(
            "Stripe did not accept Coprod's API key. Check the STRIPE_API_KEY setting.", False
        )
    if isinstance(exc, stripe.PermissionError):
        return failed(
            "Coprod's Stripe key is not allowed to do this. Check the key's permissions.", False
        )
    if isinstance(exc, stripe.IdempotencyError):
        # Same key, different request: a bug or a changed claim, never a reason to pay again.
        return failed(
            "Stripe already has a payment request for this claim with different details, so "
            "nothing new was sent. Check the claim before paying it again.",
            False,
        )
    if isinstance(exc, stripe.CardError | stripe.InvalidRequestError):
        return failed(_REASONS.get(code or "", f"Stripe refused the request: {detail}"), False)
    if status is not None and (status >= 500 or status == 409):
        # 409: another request with the same key is still running at Stripe.
        return failed(
            "Stripe had a problem on its side. Trying again is safe and will not pay twice.",
            True,
        )
    return failed(f"Stripe refused the request: {detail}", False)


class StripeGateway:
    """One per process (or event loop): it owns an HTTP connection pool; `aclose()` it."""

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        api_base: str = "",
        timeout: float = 20.0,
        retries: int = 2,
    ) -> None:
        self._webhook_secret = webhook_secret
        self._has_key = bool(api_key.strip())
        # A client of our own rather than stripe.api_key and friends: module globals would be
        # shared by every gateway in the process, and tests point each one at a stand-in.
        # HTTPXClient is the library's async transport; its timeout covers connect and read.
        self._http = stripe.HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            http_client=self._http,
            # The library retries connection errors, timeouts, 409s and 5xx with backoff and
            # the same Idempotency-Key; it deliberately never retries 429 itself.
            max_network_retries=retries,
        )

    @property
    def has_key(self) -> bool:
        return self._has_key

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeGateway:
        return cls(
            settings.stripe_api_key,
            settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
        )

    async def _stripe(self, call: Callable[[], Awaitable[T]]) -> T:
        if not self._has_key:
            # An empty key would otherwise surface as a confusing "could not reach Stripe".
            raise PaymentFailed(
                "Stripe payments are not set up: STRIPE_API_KEY is empty.", retryable=False
            )
        try:
            return await call()
        except stripe.StripeError as exc:
            raise _reason_for(exc) from exc

    async def aclose(self) -> None:
        await self._http.close_async()

    async def __aenter__(self) -> StripeGateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def create_express_account(
        self, *, email: str | None, reference: str, idempotency_key: str | None = None
    ) -> str:
        """A Stripe Express account for one representative; returns its id (acct_...).

        The default key ties the account to `reference`, so a double submit or a retry after a
        lost reply returns the same account instead of a second one.
        """
        params: stripe.params.AccountCreateParams = {
            "type": "express",
            "country": ACCOUNT_COUNTRY,
            "business_type": "individual",
            # Representatives are only ever paid out to; they never take card payments.
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"coprod_ref": reference},
        }
        if email:
            params["email"] = email
        key = idempotency_key or f"coprod-account-{reference}"
        account = await self._stripe(
            lambda: self._client.v1.accounts.create_async(params, {"idempotency_key": key})
        )
        return account.id

    async def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        """A single-use link to Stripe's hosted onboarding. It expires within minutes, so make
        one each time the representative asks rather than storing it."""
        link = await self._stripe(
            lambda: self._client.v1.account_links.create_async(
                {
                    "account": account_id,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                }
            )
        )
        return link.url

    async def account_status(self, account_id: str) -> AccountStatus:
        """Asks Stripe afresh: a webhook only says *something* changed, and may be forged,
        replayed or out of order."""
        account = await self._stripe(lambda: self._client.v1.accounts.retrieve_async(account_id))
        capabilities = account.capabilities
        transfers = getattr(capabilities, "transfers", None) if capabilities else None
        return AccountStatus(
            payouts_enabled=bool(account.payouts_enabled), transfers_active=transfers == "active"
        )

    async def transfer(
        self,
        *,
        amount_pence: int,
        account_id: str,
        idempotency_key: str,
        description: str,
        metadata: dict[str, str],
        transfer_group: str,
    ) -> TransferResult:
        """Move `amount_pence` of the trust's GBP balance to the representative's account.

        Stripe does the work once per `idempotency_key`: the library's own retries and any
        retry by the caller with the same key return the first transfer. Stripe forgets a key
        after about a day, so `transfer_group` (one per claim) is how a late retry finds a
        transfer already made: see `list_transfers`.
        """
        if amount_pence <= 0:
            raise PaymentFailed(
                "The amount to pay must be more than zero.",
                retryable=False,
                code="parameter_invalid_integer",
            )
        transfer = await self._stripe(
            lambda: self._client.v1.transfers.create_async(
                {
                    "amount": amount_pence,
                    "currency": CURRENCY,
                    "destination": account_id,
                    "description": description,
                    "metadata": metadata,
                    "transfer_group": transfer_group,
                },
                {"idempotency_key": idempotency_key},
            )
        )
        return _transfer_result(transfer)

    async def retrieve_transfer(self, transfer_id: str) -> TransferResult:
        transfer = await self._stripe(lambda: self._client.v1.transfers.retrieve_async(transfer_id))
        return _transfer_result(transfer)

    async def list_transfers(
        self, *, transfer_group: str | None = None, created_gte: int | None = None
    ) -> AsyncIterator[TransferResult]:
        """Every transfer (newest first) in a group, or made since a Unix time, page by page."""
        params: stripe.params.TransferListParams = {"limit": 100}
        if transfer_group:
            params["transfer_group"] = transfer_group
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        page = await self._stripe(lambda: self._client.v1.transfers.list_async(params))
        pages = page.auto_paging_iter()
        while True:
            try:
                transfer = await self._stripe(pages.__anext__)
            except StopAsyncIteration:
                return
            yield _transfer_result(transfer)

    def verify_event(self, payload: bytes, signature_header: str) -> dict[str, Any]:
        """The event in a webhook body, once its Stripe-Signature proves Stripe sent it
        (within the last five minutes, against replays of old captures).

        `payload` must be the raw body exactly as received: the signature covers the bytes.
        """
        try:
            event = self._client.construct_event(payload, signature_header, self._webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise WebhookInvalid(str(exc)) from exc
        except ValueError as exc:  # not UTF-8, not JSON, or not an event
            raise WebhookInvalid(f"The body is not a Stripe event: {exc}") from exc
        return event.to_dict(for_json=True)

    async def retrieve_event(
        self, event_id: str, *, account_id: str | None = None
    ) -> dict[str, Any]:
        """Re-read an event from Stripe. An event that happened on a connected account (it has
        an `account` field, e.g. account.updated) lives in that account: pass its id."""
        options: stripe.RequestOptions = {"stripe_account": account_id} if account_id else {}
        event = await self._stripe(
            lambda: self._client.v1.events.retrieve_async(event_id, options=options)
        )
        return event.to_dict(for_json=True)

    async def retrieve_payout(self, payout_id: str, *, account_id: str) -> PayoutResult:
        """A payout from a connected account's balance to its bank (it lives in that account)."""
        payout = await self._stripe(
            lambda: self._client.v1.payouts.retrieve_async(
                payout_id, options={"stripe_account": account_id}
            )
        )
        return PayoutResult(
            id=payout.id,
            status=str(payout.status),
            arrival_date=int(payout.arrival_date or 0),
            failure_code=str(payout.failure_code or ""),
            failure_message=str(payout.failure_message or ""),
        )

    async def payout_sources(self, payout_id: str, *, account_id: str) -> list[str]:
        """What a payout carried: the `source` of each of its balance transactions (a
        transfer's payment, py_..., or an earlier failed payout whose money it sends again)."""
        params: stripe.params.BalanceTransactionListParams = {"payout": payout_id, "limit": 100}
        options: stripe.RequestOptions = {"stripe_account": account_id}
        page = await self._stripe(
            lambda: self._client.v1.balance_transactions.list_async(params, options)
        )
        pages = page.auto_paging_iter()
        sources: list[str] = []
        while True:
            try:
                txn = await self._stripe(pages.__anext__)
            except StopAsyncIteration:
                return sources
            source = txn.source
            source_id = source if isinstance(source, str) else getattr(source, "id", "")
            if source_id and source_id != payout_id:
                sources.append(str(source_id))


def _transfer_result(transfer: stripe.Transfer) -> TransferResult:
    destination = transfer.destination
    destination_id = destination if isinstance(destination, str) else getattr(destination, "id", "")
    payment = transfer.destination_payment
    payment_id = payment if isinstance(payment, str) else getattr(payment, "id", "")
    return TransferResult(
        id=transfer.id,
        amount_pence=int(transfer.amount),
        destination=str(destination_id or ""),
        reversed=bool(transfer.reversed),
        amount_reversed_pence=int(transfer.amount_reversed or 0),
        destination_payment=str(payment_id or ""),
        transfer_group=str(transfer.transfer_group or ""),
        created=int(transfer.created or 0),
        metadata={
            str(k): str(v)
            for k, v in (transfer.metadata.to_dict() if transfer.metadata else {}).items()
        },
    )
