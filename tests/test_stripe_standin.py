"""The real stripe library, through StripeGateway, against the Stripe stand-in.

These pin down what the payment services may rely on: idempotent transfers under retries,
timeouts and faults; plain-English failures; and webhook signatures.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from coprod.integrations.stripe_gateway import (
    PaymentFailed,
    StripeGateway,
    WebhookInvalid,
)
from tests.stripe_standin import (
    DEFAULT_WEBHOOK_SECRET,
    StripeStandIn,
    running_standin,
)

WEBHOOK_SECRET = DEFAULT_WEBHOOK_SECRET

# stripe-python 16's HTTPXClient posts its form body with httpx's deprecated `data=<str>`.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    with running_standin() as s:
        yield s


@pytest.fixture
async def make_gateway(standin: StripeStandIn) -> AsyncIterator[Any]:
    made: list[StripeGateway] = []

    def factory(**kwargs: Any) -> StripeGateway:
        options: dict[str, Any] = {
            "api_key": standin.api_key,
            "webhook_secret": WEBHOOK_SECRET,
            "api_base": standin.url,
            "timeout": 5.0,
            "retries": 2,
        }
        options.update(kwargs)
        gateway = StripeGateway(**options)
        made.append(gateway)
        return gateway

    yield factory
    for gateway in made:
        await gateway.aclose()


@pytest.fixture
async def gateway(make_gateway: Any) -> StripeGateway:
    gateway: StripeGateway = make_gateway()
    return gateway


async def onboarded_account(gateway: StripeGateway, standin: StripeStandIn) -> str:
    account_id = await gateway.create_express_account(
        email="sam@example.org", reference=f"rep-{time.monotonic_ns()}"
    )
    standin.complete_onboarding(account_id)
    return account_id


async def pay(gateway: StripeGateway, account_id: str, key: str, amount: int = 7000) -> Any:
    return await gateway.transfer(
        amount_pence=amount,
        account_id=account_id,
        idempotency_key=key,
        description="Involvement payment, claim 42",
        metadata={"claim_id": "42"},
        transfer_group="coprod-claim-42",
    )


# ------------------------------------------------------------------------- accounts


async def test_express_account_onboarding_switches_payouts_on(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    account_id = await gateway.create_express_account(email="sam@example.org", reference="rep-7")

    assert account_id.startswith("acct_")
    account = standin.accounts[account_id]
    assert account["type"] == "express"
    assert account["country"] == "GB"
    assert account["email"] == "sam@example.org"
    assert account["metadata"] == {"coprod_ref": "rep-7"}
    assert account["capabilities"] == {"transfers": "inactive"}
    assert await gateway.payouts_enabled(account_id) is False

    link = await gateway.onboarding_link(
        account_id,
        refresh_url="http://testserver/me/payments/stripe/refresh",
        return_url="http://testserver/me/payments/stripe/done",
    )
    assert link.startswith(f"{standin.url}/onboarding/{account_id}/")
    async with httpx.AsyncClient() as browser:
        page = await browser.get(link)
    assert page.status_code == 200
    assert "http://testserver/me/payments/stripe/done" in page.text

    standin.complete_onboarding(account_id)
    assert await gateway.payouts_enabled(account_id) is True


async def test_creating_an_account_twice_for_one_reference_gives_one_account(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    first = await gateway.create_express_account(email="sam@example.org", reference="rep-8")
    second = await gateway.create_express_account(email="sam@example.org", reference="rep-8")
    assert first == second
    assert len(standin.accounts) == 1


# ------------------------------------------------------------------------- transfers


async def test_same_idempotency_key_gives_the_same_transfer_once(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    account_id = await onboarded_account(gateway, standin)

    first = await pay(gateway, account_id, "claim-42-0")
    second = await pay(gateway, account_id, "claim-42-0")

    assert first == second
    assert (first.amount_pence, first.destination, first.reversed) == (7000, account_id, False)
    assert (first.transfer_group, first.metadata) == ("coprod-claim-42", {"claim_id": "42"})
    assert len(standin.transfers) == 1
    stored = standin.transfers[first.id]
    assert stored["currency"] == "gbp"
    assert stored["metadata"] == {"claim_id": "42"}
    assert [r.replayed for r in standin.requests_to("/v1/transfers")] == [False, True]
    assert await gateway.retrieve_transfer(first.id) == first


async def test_same_key_with_a_different_amount_is_refused_not_paid(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    account_id = await onboarded_account(gateway, standin)
    await pay(gateway, account_id, "claim-42-0", amount=7000)

    with pytest.raises(PaymentFailed) as failed:
        await pay(gateway, account_id, "claim-42-0", amount=14000)

    assert failed.value.retryable is False
    assert "different details" in failed.value.reason
    assert len(standin.transfers) == 1


async def test_a_500_is_retried_by_the_library_with_the_same_key(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    account_id = await onboarded_account(gateway, standin)
    standin.fail_next("/v1/transfers", 500)

    result = await pay(gateway, account_id, "claim-42-0")

    attempts = standin.requests_to("/v1/transfers")
    assert [a.status for a in attempts] == [500, 200]
    assert {a.idempotency_key for a in attempts} == {"claim-42-0"}
    assert list(standin.transfers) == [result.id]


async def test_500s_beyond_the_retries_are_retryable_and_a_retry_pays_once(
    make_gateway: Any, standin: StripeStandIn
) -> None:
    gateway = make_gateway(retries=1)
    account_id = await onboarded_account(gateway, standin)
    standin.fail_next("/v1/transfers", 500, times=2)

    with pytest.raises(PaymentFailed) as failed:
        await pay(gateway, account_id, "claim-42-0")
    assert failed.value.retryable is True
    assert "Stripe had a problem" in failed.value.reason
    assert standin.transfers == {}

    result = await pay(gateway, account_id, "claim-42-0")
    assert list(standin.transfers) == [result.id]


async def test_a_429_is_retryable_and_retrying_with_the_same_key_pays_once(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    account_id = await onboarded_account(gateway, standin)
    # stripe-python never retries a rate limit on its own: the caller sees it.
    standin.fail_next("/v1/transfers", 429)

    with pytest.raises(PaymentFailed) as failed:
        await pay(gateway, account_id, "claim-42-0")
    assert failed.value.retryable is True
    assert "busy" in failed.value.reason
    assert standin.transfers == {}

    first = await pay(gateway, account_id, "claim-42-0")
    again = await pay(gateway, account_id, "claim-42-0")
    assert first == again
    assert list(standin.transfers) == [first.id]


async def test_a_429_that_stripe_says_to_retry_is_retried_by_the_library(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    account_id = await onboarded_account(gateway, standin)
    standin.fail_next("/v1/transfers", 429, should_retry=True)

    result = await pay(gateway, account_id, "claim-42-0")

    assert [a.status for a in standin.requests_to("/v1/transfers")] == [429, 200]
    assert list(standin.transfers) == [result.id]


async def test_a_lost_reply_times_out_as_retryable_and_the_retry_finds_the_same_transfer(
    make_gateway: Any, standin: StripeStandIn
) -> None:
    gateway = make_gateway(timeout=0.5, retries=0)
    account_id = await onboarded_account(gateway, standin)
    # Stripe makes the transfer, but its reply never arrives in time.
    standin.hang_next("/v1/transfers", seconds=10, method="POST")

    started = time.monotonic()
    with pytest.raises(PaymentFailed) as failed:
        await pay(gateway, account_id, "claim-42-0")
    assert time.monotonic() - started < 3
    assert failed.value.retryable is True
    assert "may or may not have gone through" in failed.value.reason
    assert len(standin.transfers) == 1  # the money moved even though we did not hear

    standin.release_hangs()
    standin.wait_idle()
    result = await pay(gateway, account_id, "claim-42-0")
    assert list(standin.transfers) == [result.id]


async def test_the_library_retries_a_timeout_itself_with_the_same_key(
    make_gateway: Any, standin: StripeStandIn
) -> None:
    gateway = make_gateway(timeout=0.5, retries=2)
    account_id = await onboarded_account(gateway, standin)
    standin.hang_next("/v1/transfers", seconds=10, method="POST")

    result = await pay(gateway, account_id, "claim-42-0")

    attempts = standin.requests_to("/v1/transfers")
    assert len(attempts) == 2
    assert attempts[1].replayed is True
    assert list(standin.transfers) == [result.id]
    standin.release_hangs()


async def test_a_request_held_before_stripe_sees_it_still_pays_once(
    make_gateway: Any, standin: StripeStandIn
) -> None:
    gateway = make_gateway(timeout=0.3, retries=0)
    account_id = await onboarded_account(gateway, standin)
    standin.hang_next("/v1/transfers", seconds=0.8, method="POST", lose_reply=False)

    with pytest.raises(PaymentFailed) as failed:
        await pay(gateway, account_id, "claim-42-0")
    assert failed.value.retryable is True

    standin.wait_idle()  # the held request reaches Stripe late and is carried out
    result = await pay(gateway, account_id, "claim-42-0")
    assert list(standin.transfers) == [result.id]


async def test_paying_an_account_without_payouts_fails_in_plain_english(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    account_id = await gateway.create_express_account(email=None, reference="rep-9")

    with pytest.raises(PaymentFailed) as failed:
        await pay(gateway, account_id, "claim-42-0")

    assert failed.value.retryable is False
    assert failed.value.code == "insufficient_capabilities_for_transfer"
    assert failed.value.reason == (
        "The representative's Stripe account cannot receive payments yet. They need to "
        "finish setting it up with Stripe (the onboarding link)."
    )
    assert standin.transfers == {}

    # Stripe keeps that answer against the key; once onboarded, a new attempt needs a new key.
    standin.complete_onboarding(account_id)
    with pytest.raises(PaymentFailed):
        await pay(gateway, account_id, "claim-42-0")
    result = await pay(gateway, account_id, "claim-42-1")
    assert list(standin.transfers) == [result.id]


async def test_paying_an_unknown_account_fails(gateway: StripeGateway) -> None:
    with pytest.raises(PaymentFailed) as failed:
        await pay(gateway, "acct_doesnotexist", "claim-42-0")
    assert failed.value.retryable is False
    assert failed.value.code == "resource_missing"


async def test_a_wrong_api_key_fails_and_is_not_retryable(
    make_gateway: Any, standin: StripeStandIn
) -> None:
    gateway = make_gateway(api_key="sk_test_not_the_right_one")

    with pytest.raises(PaymentFailed) as failed:
        await gateway.payouts_enabled("acct_whatever")
    assert failed.value.retryable is False
    assert "API key" in failed.value.reason
    assert failed.value.http_status == 401

    with pytest.raises(PaymentFailed):
        await gateway.create_express_account(email=None, reference="rep-10")
    assert standin.accounts == {}


async def test_no_api_key_says_stripe_is_not_set_up(
    make_gateway: Any, standin: StripeStandIn
) -> None:
    gateway = make_gateway(api_key="")
    with pytest.raises(PaymentFailed) as failed:
        await gateway.payouts_enabled("acct_whatever")
    assert failed.value.retryable is False
    assert "STRIPE_API_KEY" in failed.value.reason
    assert standin.requests == []


# ------------------------------------------------------------------------- webhooks


class _Receiver:
    """A real HTTP endpoint that records what it is sent, like the app's webhook route."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((body, dict(self.headers.items())))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    yield r
    r.close()


async def test_onboarding_sends_a_signed_account_updated_event(
    gateway: StripeGateway, standin: StripeStandIn, receiver: _Receiver
) -> None:
    standin.webhook_target(receiver.url, WEBHOOK_SECRET)
    account_id = await gateway.create_express_account(email=None, reference="rep-11")

    sent = await standin.complete_onboarding_async(account_id)

    [(body, headers)] = receiver.received
    assert standin.deliveries[-1].status == 200
    assert headers["Stripe-Signature"].startswith("t=")
    event = gateway.verify_event(body, headers["Stripe-Signature"])
    assert event["id"] == sent["id"]
    assert event["type"] == "account.updated"
    assert event["account"] == account_id
    assert event["data"]["object"]["payouts_enabled"] is True
    assert event["data"]["previous_attributes"]["payouts_enabled"] is False

    # The event lives on the connected account: re-reading it needs that account.
    fresh = await gateway.retrieve_event(event["id"], account_id=account_id)
    assert fresh == event
    with pytest.raises(PaymentFailed):
        await gateway.retrieve_event(event["id"])


async def test_webhooks_to_an_in_process_client_and_replays(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    seen: list[httpx.Request] = []

    def app(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(app), base_url="http://testserver"
    ) as client:
        standin.webhook_target("/stripe/webhook", WEBHOOK_SECRET, client=client)
        first = await standin.send_event_async("transfer.created", {"id": "tr_1", "amount": 1})
        await standin.replay_async(first.event_id, times=2)

    assert [d.status for d in standin.deliveries] == [200, 200, 200]
    events = [gateway.verify_event(r.content, r.headers["stripe-signature"]) for r in seen]
    assert {e["id"] for e in events} == {first.event_id}
    assert seen[0].url.path == "/stripe/webhook"
    assert (await gateway.retrieve_event(first.event_id))["type"] == "transfer.created"


async def test_a_tampered_or_unsigned_webhook_is_rejected(
    make_gateway: Any, standin: StripeStandIn, receiver: _Receiver
) -> None:
    gateway = make_gateway()
    standin.webhook_target(receiver.url, WEBHOOK_SECRET)
    delivery = standin.send_event("transfer.created", {"id": "tr_1", "amount": 7000})
    body, header = delivery.payload, delivery.signature
    assert gateway.verify_event(body, header)["id"] == delivery.event_id

    tampered = json.loads(body)
    tampered["data"]["object"]["amount"] = 700000
    with pytest.raises(WebhookInvalid):
        gateway.verify_event(json.dumps(tampered, indent=2).encode(), header)
    with pytest.raises(WebhookInvalid):
        gateway.verify_event(body, "")
    with pytest.raises(WebhookInvalid):
        gateway.verify_event(body, "t=garbage")
    stale = standin.signature_header(body, timestamp=int(time.time()) - 3600)
    with pytest.raises(WebhookInvalid):
        gateway.verify_event(body, stale)
    with pytest.raises(WebhookInvalid):
        make_gateway(webhook_secret="whsec_someone_else").verify_event(body, header)
    with pytest.raises(WebhookInvalid):
        make_gateway(webhook_secret="").verify_event(body, header)
    not_json = b"hello"
    with pytest.raises(WebhookInvalid):
        gateway.verify_event(not_json, standin.signature_header(not_json))


async def test_retrieve_event_returns_the_stored_event(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    event = standin.record_event("transfer.reversed", {"id": "tr_9", "reversed": True})
    assert await gateway.retrieve_event(event["id"]) == event
    with pytest.raises(PaymentFailed) as failed:
        await gateway.retrieve_event("evt_nope")
    assert failed.value.code == "resource_missing"


async def test_transfer_list_and_reversal(gateway: StripeGateway, standin: StripeStandIn) -> None:
    account_id = await onboarded_account(gateway, standin)
    a = await pay(gateway, account_id, "claim-1-0", amount=7000)
    b = await pay(gateway, account_id, "claim-2-0", amount=14000)

    async with httpx.AsyncClient(base_url=standin.url) as http:
        auth = {"Authorization": f"Bearer {standin.api_key}"}
        listed = (await http.get("/v1/transfers", params={"limit": 1}, headers=auth)).json()
        assert listed["object"] == "list"
        assert [t["id"] for t in listed["data"]] == [b.id]
        assert listed["has_more"] is True
        assert (await http.get("/v1/transfers")).status_code == 401

    event = standin.reverse_transfer(a.id)
    assert event["type"] == "transfer.reversed"
    assert (await gateway.retrieve_transfer(a.id)).reversed is True
