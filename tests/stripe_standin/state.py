"""What the stand-in holds, which every part of it reads: Stripe's objects, the lock over
them, the clock that stamps them, and where the stand-in is served."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from pathlib import Path
from typing import Any

from tests.standin_http import HttpStandIn
from tests.stripe_standin.wire import (
    DEFAULT_API_KEY,
    DEFAULT_WEBHOOK_SECRET,
    FIXTURES,
    Delivery,
    Saved,
    load_templates,
)


class StandInState(HttpStandIn):
    """The base of `StripeStandIn` and of its resource mixins, so each of them sees the same
    stores; one lock guards them all, and every endpoint runs under it."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        fixtures: Path = FIXTURES,
        host: str = "127.0.0.1",
    ) -> None:
        self.api_key = api_key
        self._templates = load_templates(fixtures)
        self._serve_from(host)
        self._clock_offset = 0.0
        self._saved: dict[tuple[str, str], Saved] = {}
        self._in_flight: set[tuple[str, str]] = set()
        # Stripe's objects (accounts.py, money.py, events.py).
        self.accounts: dict[str, dict[str, Any]] = {}
        self.account_links: list[dict[str, Any]] = []
        self.transfers: dict[str, dict[str, Any]] = {}
        self.reversals: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.payouts: dict[str, dict[str, Any]] = {}
        self.balance_transactions: dict[str, dict[str, Any]] = {}
        # Who owns what, kept beside the objects so that they stay exactly Stripe's shape: the
        # account a payout or balance transaction belongs to (None: the platform), the payout
        # that covered a balance transaction, and each account's bank account.
        self._payout_account: dict[str, str] = {}
        self._txn_account: dict[str, str | None] = {}
        self._txn_payout: dict[str, str] = {}
        self._bank_accounts: dict[str, str] = {}
        # Webhook deliveries (events.py).
        self.deliveries: list[Delivery] = []
        self._webhook_url: str | None = None
        self._webhook_secret: str = DEFAULT_WEBHOOK_SECRET
        self._webhook_client: Any = None
        self._webhook_loop: asyncio.AbstractEventLoop | None = None
        self._background: list[threading.Thread | concurrent.futures.Future[Delivery]] = []

    def now(self) -> int:
        """The stand-in's time (Unix seconds): real time moved on by every `advance()`."""
        return int(self._clock())

    def _clock(self) -> float:
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the stand-in's clock forward: later objects are created then, and saved
        idempotency keys age (Stripe forgets them after 24 hours). Webhook signatures keep
        real time, since the receiver checks them against its own clock."""
        if seconds < 0:
            raise ValueError("Stripe's clock only goes forward")
        with self._lock:
            self._clock_offset += seconds
