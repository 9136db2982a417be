"""A local stand-in for Stripe's API, for tests.

Stripe is the only outside service the tests replace. The real `stripe` library talks to this
server over real HTTP (point `StripeGateway(api_base=standin.url)`, or
`stripe.StripeClient(key, base_addresses={"api": standin.url})`, at it), so the request
encoding, headers, retries, timeouts and error classes under test are the library's own.

What it covers, shaped from Stripe's own example objects (tests/fixtures/stripe/fixtures3.json:
every key of Stripe's object is present in the stand-in's):

- accounts (`POST /v1/accounts`, `GET /v1/accounts/{id}`), Express onboarding via
  `POST /v1/account_links` and `complete_onboarding()`, and later changes by Stripe
  (`update_account()`: payouts on or off, the `transfers` capability active, inactive or
  pending, with `requirements` to match);
- transfers (`POST /v1/transfers`, `GET /v1/transfers/{id}`, `GET /v1/transfers` filtered by
  `transfer_group`, `destination` and `created[gt|gte|lt|lte]`);
- reversals (`POST` and `GET /v1/transfers/{id}/reversals`, `GET .../reversals/{id}`, and the
  `reverse_transfer()` helper, which goes the same way);
- the connected account's money: each transfer makes a payment (`py_`, the transfer's
  `destination_payment`) and a `payment` balance transaction in the destination account;
  `pay_out()` makes Stripe's automatic payout of the account's balance, paid or failed;
  `GET /v1/payouts[/{id}]` and `GET /v1/balance_transactions[/{id}]` (filtered by `payout`,
  `type`, `source`, `created`) with the account in `Stripe-Account`; without it, the
  platform's own balance transactions (`transfer`, `transfer_refund`);
- events (`GET /v1/events/{id}`, `GET /v1/events`) and signed webhook deliveries.

Behaviour copied from Stripe, because the code under test relies on it:

- Transfers are refused (400 `insufficient_capabilities_for_transfer`) only when the
  destination's `transfers` capability is not active. With payouts disabled they are
  accepted, and the money waits in the account's Stripe balance.
- Idempotency-Key (per API key): the first response is saved once the endpoint starts work
  and replayed for the same method, path and parameters (with `Idempotent-Replayed: true`);
  the same key with anything different is a 400 `idempotency_error`. As on Stripe, malformed
  parameters and injected faults are not saved, so a retry runs afresh; business failures
  (an unknown destination, one without the capability) are saved and replayed, so a payer must
  use a new key for a genuinely new attempt. A second request arriving while the first with the
  same key is still running gets a 409, which stripe-python retries. Stripe forgets a key
  24 hours after its first use: the same key and parameters then make a NEW object. The
  stand-in has a clock for this (`now()`, `advance(seconds)`); every `created` uses it.
- Lists: `limit` 1 to 100 (default 10), `starting_after` / `ending_before`, newest first with
  a true `has_more`, so the library's `auto_paging_iter()` walks them both ways. A bad limit is
  a 400 `parameter_invalid_integer`; a cursor naming nothing, a 404 `resource_missing`.
- Reversals: the whole of what is left by default; `amount_reversed` adds up, `reversed` only
  once it is all reversed, and the transfer embeds its reversals. The money returns to the
  platform (`transfer_refund`) and leaves the connected account as a refund of the transfer's
  payment (`payment_refund`, from the reversal's `destination_payment_refund`, `pyr_`). Each
  records `transfer.reversed`. The stand-in does not check that the connected account can
  cover a reversal: its balance may go below zero.
- Payouts: an automatic payout covers every balance transaction not yet paid out; listing
  balance transactions by `payout` gives those and the payout's own (`payout`). A paid payout
  records `payout.paid`; a failed one records `payout.failed` with Stripe's `failure_code` and
  a `failure_message`, returns the money in a `payout_failure` balance transaction (which the
  next payout covers; the original ones stay with the failed payout), and switches the
  account's payouts off (`account.updated`: `external_account` past due).
- `Authorization: Bearer <key>` must match the stand-in's key (401 otherwise).
- Events, payouts and balance transactions of a connected account carry or belong to that
  account, and are only visible with it in the `Stripe-Account` header (404 otherwise).
- Webhooks: helpers (`complete_onboarding`, `update_account`, `pay_out`, `reverse_transfer`)
  deliver their events to the target, if set, before they return (`*_async` variants for a
  target served in-process or on the test's loop). Events made by API requests (a reversal)
  are delivered in the background, as Stripe does; `wait_deliveries[_async]()` waits for
  them. Signatures use real time, not the stand-in's clock, as receivers check them against
  theirs.

Not covered (not needed yet): `transfer.created`, `payout.created` and `balance.available`
events, pending funds, instant or manual payouts, charges.

Faults on demand, for any endpoint (by path prefix, optionally by method):
`fail_next()` (500, 429, ... before the endpoint runs, so nothing is saved) and `hang_next()`
(a stalled reply, to trip client timeouts).

Where it lives, one module per concern: `wire` (Stripe's wire conventions: error bodies, form
decoding, integer and `created` parameters, paging, ids, fixture templates, small records),
`state` (the objects it holds, its lock and clock), `events` (events and webhook delivery),
`accounts` (accounts and onboarding), `money` (transfers, reversals, balance transactions,
payouts) and `server` (`StripeStandIn` itself: lifecycle, faults, idempotency, routing, the
HTTP handler). The resource modules are mixins of the one `StripeStandIn` class.
"""

from tests.stripe_standin.money import PAYOUT_FAILURES
from tests.stripe_standin.server import StripeStandIn, running_standin
from tests.stripe_standin.wire import (
    DEFAULT_API_KEY,
    DEFAULT_LIST_LIMIT,
    DEFAULT_WEBHOOK_SECRET,
    FIXTURES,
    IDEMPOTENCY_KEY_LIFETIME,
    MAX_LIST_LIMIT,
    PLATFORM_CURRENCY,
    Delivery,
    RequestRecord,
    decode_form,
)

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_LIST_LIMIT",
    "DEFAULT_WEBHOOK_SECRET",
    "FIXTURES",
    "IDEMPOTENCY_KEY_LIFETIME",
    "MAX_LIST_LIMIT",
    "PAYOUT_FAILURES",
    "PLATFORM_CURRENCY",
    "Delivery",
    "RequestRecord",
    "StripeStandIn",
    "decode_form",
    "running_standin",
]
