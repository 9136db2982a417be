"""Connected accounts: creating them, Express onboarding, and Stripe's later changes to them."""

from __future__ import annotations

import copy
import re
import secrets
from typing import Any

from tests.stripe_standin.events import EventsMixin
from tests.stripe_standin.wire import Reply, error_body, missing, new_id, no_such

# What a connected account must still provide, by the part of it that is switched off.
_PAYOUTS_DUE = "external_account"
_TRANSFERS_DUE = "individual.verification.document"


def change_account(
    account: dict[str, Any], *, payouts_enabled: bool | None, transfers: str | None
) -> dict[str, Any]:
    """Changes the account and its requirements; returns the changed fields' old values."""
    before = {
        "capabilities": copy.deepcopy(account["capabilities"]),
        "payouts_enabled": account["payouts_enabled"],
        "requirements": copy.deepcopy(account["requirements"]),
    }
    if payouts_enabled is not None:
        account["payouts_enabled"] = payouts_enabled
    if transfers is not None:
        account["capabilities"]["transfers"] = transfers
    # What Stripe would ask the representative for, given what is switched off.
    due = [] if account["payouts_enabled"] else [_PAYOUTS_DUE]
    capability = account["capabilities"].get("transfers")
    if capability == "inactive":
        due.append(_TRANSFERS_DUE)
    pending = [_TRANSFERS_DUE] if capability == "pending" else []
    disabled_reason = None
    if due:
        disabled_reason = "requirements.past_due"
    elif pending:
        disabled_reason = "requirements.pending_verification"
    account["requirements"].update(
        currently_due=list(due),
        eventually_due=list(due),
        past_due=list(due),
        pending_verification=pending,
        disabled_reason=disabled_reason,
    )
    return {name: old for name, old in before.items() if account[name] != old}


class AccountsMixin(EventsMixin):
    """Accounts, account links and onboarding, mixed into `StripeStandIn`."""

    # ------------------------------------------------------------------ test helpers

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The representative finishes Stripe's onboarding: payouts are switched on.

        Records an `account.updated` event and, if a webhook target is set, delivers it (over
        real HTTP; use `complete_onboarding_async` when the target is served from this event
        loop or is an in-process client). Returns the event.
        """
        event = self._onboard(account_id)
        if self._webhook_url is not None:
            self.deliver(event["id"])
        return event

    async def complete_onboarding_async(self, account_id: str) -> dict[str, Any]:
        event = self._onboard(account_id)
        if self._webhook_url is not None:
            await self.deliver_async(event["id"])
        return event

    def _onboard(self, account_id: str) -> dict[str, Any]:
        with self._lock:
            account = self.accounts[account_id]
            previous = {
                "capabilities": copy.deepcopy(account["capabilities"]),
                "details_submitted": account["details_submitted"],
                "payouts_enabled": account["payouts_enabled"],
                "requirements": copy.deepcopy(account["requirements"]),
            }
            account["details_submitted"] = True
            account["payouts_enabled"] = True
            account["capabilities"]["transfers"] = "active"
            for key in ("currently_due", "eventually_due", "past_due", "pending_verification"):
                account["requirements"][key] = []
            account["requirements"]["disabled_reason"] = None
            account["tos_acceptance"]["date"] = self.now()
            return self.record_event(
                "account.updated", account, account=account_id, previous_attributes=previous
            )

    def update_account(
        self,
        account_id: str,
        *,
        payouts_enabled: bool | None = None,
        transfers: str | None = None,
    ) -> dict[str, Any]:
        """Stripe changes the account: payouts on or off, the `transfers` capability `active`,
        `inactive` or `pending`; its requirements follow. Records `account.updated` with
        `previous_attributes` and delivers it over real HTTP if a webhook target is set
        (`update_account_async` for an in-process target). Returns the event."""
        event = self._update_account(account_id, payouts_enabled, transfers)
        if self._webhook_url is not None:
            self.deliver(event["id"])
        return event

    async def update_account_async(
        self,
        account_id: str,
        *,
        payouts_enabled: bool | None = None,
        transfers: str | None = None,
    ) -> dict[str, Any]:
        event = self._update_account(account_id, payouts_enabled, transfers)
        if self._webhook_url is not None:
            await self.deliver_async(event["id"])
        return event

    def _update_account(
        self, account_id: str, payouts_enabled: bool | None, transfers: str | None
    ) -> dict[str, Any]:
        if transfers not in {None, "active", "inactive", "pending"}:
            raise ValueError(f"a capability is active, inactive or pending, not {transfers!r}")
        with self._lock:
            account = self.accounts[account_id]
            previous = change_account(account, payouts_enabled=payouts_enabled, transfers=transfers)
            if not previous:
                raise ValueError(f"{account_id} is already like that: Stripe sends no event")
            return self.record_event(
                "account.updated", account, account=account_id, previous_attributes=previous
            )

    # ------------------------------------------------------------------ endpoints

    def _create_account(self, params: dict[str, Any], context: str | None) -> Reply:
        account_type = params.get("type")
        if account_type not in {"express", "standard", "custom"}:
            return Reply(
                400,
                error_body(
                    "Invalid type: must be one of express, standard, or custom.",
                    code="parameter_invalid_string",
                    param="type",
                ),
                save=False,
            )
        account = copy.deepcopy(self._templates["account"])
        account_id = new_id("acct")
        requested = [
            name
            for name, options in (params.get("capabilities") or {}).items()
            if isinstance(options, dict) and options.get("requested") == "true"
        ]
        country = params.get("country", "GB")
        account.update(
            id=account_id,
            type=account_type,
            country=country,
            default_currency="gbp" if country == "GB" else account["default_currency"],
            email=params.get("email"),
            business_type=params.get("business_type"),
            metadata=params.get("metadata") or {},
            created=self.now(),
            charges_enabled=False,
            payouts_enabled=False,
            details_submitted=False,
            capabilities={name: "inactive" for name in requested},
        )
        if account_type == "express":
            account["controller"] = {"is_controller": True, "type": "application"}
        account["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
        self.accounts[account_id] = account
        self._bank_accounts[account_id] = new_id("ba")
        return Reply(200, copy.deepcopy(account))

    def _get_account(self, params: dict[str, Any], context: str | None, ident: str) -> Reply:
        if ident not in self.accounts:
            return no_such("account", ident)
        return Reply(200, copy.deepcopy(self.accounts[ident]))

    def _create_account_link(self, params: dict[str, Any], context: str | None) -> Reply:
        for required in ("account", "type"):
            if not params.get(required):
                return missing(required)
        account_id = params["account"]
        if account_id not in self.accounts:
            return no_such("account", account_id, param="account")
        link = copy.deepcopy(self._templates["account_link"])
        now = self.now()
        link.update(
            created=now,
            expires_at=now + 300,
            url=f"{self.url}/onboarding/{account_id}/{secrets.token_urlsafe(9)}",
        )
        self.account_links.append(
            {
                **link,
                "account": account_id,
                "refresh_url": params.get("refresh_url"),
                "return_url": params.get("return_url"),
                "type": params["type"],
            }
        )
        return Reply(200, link)

    def _onboarding_page(self, path: str) -> tuple[int, bytes]:
        found = re.fullmatch(r"/onboarding/(acct_\w+)/[\w-]+", path)
        link = None
        if found:
            with self._lock:
                link = next((x for x in self.account_links if x["url"].endswith(path)), None)
        if link is None:
            return 404, b"<h1>No such onboarding link</h1>"
        page = (
            "<!doctype html><title>Stripe stand-in onboarding</title>"
            f"<h1>Onboarding for {link['account']}</h1>"
            "<p>Tests finish onboarding with <code>complete_onboarding()</code>.</p>"
            f'<p><a href="{link["return_url"]}">Return to Coprod</a></p>'
        )
        return 200, page.encode()
