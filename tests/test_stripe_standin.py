"""The real stripe library, through StripeGateway and through a bare StripeClient, against the
Stripe stand-in.

These pin down what the payment services may rely on: idempotent transfers under retries,
timeouts and faults (and keys that Stripe forgets after a day); plain-English failures; webhook
signatures; and the Stripe behaviour the stand-in copies: transfers refused only for the
`transfers` capability, lists paged as Stripe pages them, reversals, the connected account's
balance and payouts, and account changes. Shapes are checked against Stripe's own fixtures.
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
import stripe

from coprod.integrations.stripe_gateway import (
    AccountStatus,
    PaymentFailed,
    StripeGateway,
    WebhookInvalid,
)
from tests.stripe_standin import (
    DEFAULT_WEBHOOK_SECRET,
    FIXTURES,
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
    assert await gateway.account_status(account_id) == AccountStatus(
        payouts_enabled=False, transfers_active=False
    )

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
    assert await gateway.account_status(account_id) == AccountStatus(
        payouts_enabled=True, transfers_active=True
    )


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
        await gateway.account_status("acct_whatever")
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
        await gateway.account_status("acct_whatever")
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


# ------------------------------------------------------------ the bare library, as Stripe


@pytest.fixture
async def make_client(standin: StripeStandIn) -> AsyncIterator[Any]:
    """stripe.StripeClient on the stand-in: what any code using the library would see."""
    made: list[stripe.HTTPXClient] = []

    def factory(*, retries: int = 0, timeout: float = 5.0) -> stripe.StripeClient:
        http = stripe.HTTPXClient(timeout=timeout)
        made.append(http)
        return stripe.StripeClient(
            standin.api_key,
            base_addresses={"api": standin.url},
            http_client=http,
            max_network_retries=retries,
        )

    yield factory
    for http in made:
        await http.close_async()


@pytest.fixture
async def client(make_client: Any) -> stripe.StripeClient:
    made: stripe.StripeClient = make_client()
    return made


def fixture_keys(name: str) -> set[str]:
    return set(json.loads(FIXTURES.read_text())["resources"][name])


async def ready_account(client: stripe.StripeClient, standin: StripeStandIn) -> str:
    account = await client.v1.accounts.create_async(
        {"type": "express", "country": "GB", "capabilities": {"transfers": {"requested": True}}}
    )
    standin.complete_onboarding(account.id)
    return account.id


async def transfer(
    client: stripe.StripeClient,
    account_id: str,
    amount: int = 7000,
    *,
    group: str | None = None,
    key: str | None = None,
) -> stripe.Transfer:
    params: dict[str, Any] = {
        "amount": amount,
        "currency": "gbp",
        "destination": account_id,
        "metadata": {"claim_id": "42"},
    }
    if group is not None:
        params["transfer_group"] = group
    options: dict[str, Any] = {"idempotency_key": key} if key else {}
    made: stripe.Transfer = await client.v1.transfers.create_async(params, options)  # type: ignore[arg-type]
    return made


async def test_a_transfer_needs_only_the_transfers_capability_not_payouts(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    account_id = await ready_account(client, standin)
    standin.update_account(account_id, payouts_enabled=False)
    assert (await client.v1.accounts.retrieve_async(account_id)).payouts_enabled is False

    made = await transfer(client, account_id, 7000, group="claim-42")

    assert made.destination == account_id and made.amount == 7000
    assert made.transfer_group == "claim-42"
    assert made.metadata.to_dict() == {"claim_id": "42"}
    assert set(made.to_dict()) >= fixture_keys("transfer")
    # The money waits in the representative's Stripe balance until payouts are back on.
    assert standin.balance_of(account_id) == 7000

    standin.update_account(account_id, transfers="inactive")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await transfer(client, account_id, 7000, group="claim-43")
    assert refused.value.http_status == 400
    assert refused.value.code == "insufficient_capabilities_for_transfer"
    assert standin.transfers_in_group("claim-43") == []
    assert [t["id"] for t in standin.transfers_in_group("claim-42")] == [made.id]


async def test_auto_paging_walks_more_than_a_hundred_transfers_of_a_group_newest_first(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    account_id = await ready_account(client, standin)
    made = []
    for n in range(105):
        made.append((await transfer(client, account_id, 100 + n, group="run-1")).id)
        if n % 40 == 0:
            await transfer(client, account_id, 1, group="run-2")

    walked = [
        t.id
        async for t in (
            await client.v1.transfers.list_async({"transfer_group": "run-1", "limit": 100})
        ).auto_paging_iter()
    ]

    assert walked == made[::-1]
    assert len(standin.requests_to("/v1/transfers", "GET")) == 2  # two pages of up to 100
    assert [t["id"] for t in standin.transfers_in_group("run-1")] == made

    # Paging backwards from the oldest gives the rest, oldest first (the library reverses).
    after_oldest = await client.v1.transfers.list_async(
        {"transfer_group": "run-1", "ending_before": made[0], "limit": 30}
    )
    assert [t.id async for t in after_oldest.auto_paging_iter()] == made[1:]


def test_sync_auto_paging_walks_a_destination_s_transfers(standin: StripeStandIn) -> None:
    client = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.url})
    account = client.v1.accounts.create({"type": "express"})
    other = client.v1.accounts.create({"type": "express"})
    for account_id in (account.id, other.id):
        standin.complete_onboarding(account_id)
    made = [
        client.v1.transfers.create(
            {"amount": 100 + n, "currency": "gbp", "destination": (account.id, other.id)[n % 2]}
        ).id
        for n in range(25)
    ]

    first = client.v1.transfers.list({"destination": account.id, "limit": 4})
    assert first.has_more is True
    assert [t.id for t in first.auto_paging_iter()] == made[::2][::-1]
    assert [t.id for t in client.v1.transfers.list({"limit": 25})] == made[::-1]
    assert client.v1.transfers.list({"limit": 25}).has_more is False
    assert client.v1.transfers.list({"limit": 24}).has_more is True


async def test_transfers_filter_by_when_they_were_created(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    account_id = await ready_account(client, standin)
    first = await transfer(client, account_id)
    standin.advance(3600)
    second = await transfer(client, account_id)
    standin.advance(3600)
    third = await transfer(client, account_id)
    assert third.created - first.created >= 7200

    async def ids(created: Any) -> list[str]:
        page = await client.v1.transfers.list_async({"created": created})
        return [t.id for t in page]

    assert await ids({"gt": first.created}) == [third.id, second.id]
    assert await ids({"gte": second.created, "lt": third.created}) == [second.id]
    assert await ids({"lte": second.created}) == [second.id, first.id]
    assert await ids(third.created) == [third.id]


@pytest.mark.parametrize(
    ("params", "status", "code", "param"),
    [
        ({"limit": 0}, 400, "parameter_invalid_integer", "limit"),
        ({"limit": 101}, 400, "parameter_invalid_integer", "limit"),
        ({"limit": "ten"}, 400, "parameter_invalid_integer", "limit"),
        ({"starting_after": "{prefix}_nothing"}, 404, "resource_missing", "starting_after"),
        ({"ending_before": "{prefix}_nothing"}, 404, "resource_missing", "ending_before"),
        ({"created": {"gt": "yesterday"}}, 400, "parameter_invalid_integer", "created[gt]"),
    ],
)
async def test_bad_list_parameters_are_refused_as_stripe_refuses_them(
    client: stripe.StripeClient,
    standin: StripeStandIn,
    params: dict[str, Any],
    status: int,
    code: str,
    param: str,
) -> None:
    await transfer(client, await ready_account(client, standin))
    listers: list[tuple[Any, str]] = [
        (client.v1.transfers.list_async, "tr"),
        (client.v1.events.list_async, "evt"),
    ]
    for lister, prefix in listers:
        sent = json.loads(json.dumps(params).replace("{prefix}", prefix))
        with pytest.raises(stripe.InvalidRequestError) as refused:
            await lister(sent)
        assert refused.value.http_status == status
        assert refused.value.code == code
        assert refused.value.param == param


async def test_faults_can_be_injected_on_every_endpoint(
    make_client: Any, standin: StripeStandIn
) -> None:
    client = make_client(retries=1, timeout=0.5)
    account_id = await ready_account(client, standin)
    made = await transfer(client, account_id)
    reversals = f"/v1/transfers/{made.id}/reversals"

    standin.fail_next(reversals, 503, method="GET")  # only the GET: the method matters
    standin.fail_next(reversals, 500, method="POST")
    reversal = await client.v1.transfers.reversals.create_async(made.id, {"amount": 100})
    assert [r.status for r in standin.requests_to(reversals)] == [500, 200]
    assert list(standin.reversals) == [reversal.id]
    listed_reversals = await client.v1.transfers.reversals.list_async(made.id)
    assert [r.id for r in listed_reversals] == [reversal.id]
    assert [r.status for r in standin.requests_to(reversals, "GET")] == [503, 200]

    standin.pay_out(account_id)
    standin.fail_next("/v1/payouts", 429, times=2)  # a prefix: the list and any one payout
    with pytest.raises(stripe.RateLimitError):
        await client.v1.payouts.list_async(options={"stripe_account": account_id})
    with pytest.raises(stripe.RateLimitError):
        await client.v1.payouts.retrieve_async("po_any", options={"stripe_account": account_id})

    standin.hang_next("/v1/balance_transactions", seconds=5, times=2)
    with pytest.raises(stripe.APIConnectionError):
        await client.v1.balance_transactions.list_async(options={"stripe_account": account_id})
    standin.release_hangs()
    standin.wait_idle()
    listed = await client.v1.balance_transactions.list_async(options={"stripe_account": account_id})
    # The payment the transfer made, the part reversed, and the payout of the rest.
    assert [t.type for t in listed] == ["payout", "payment_refund", "payment"]


# ------------------------------------------------------------------------- balance and payouts


def as_stripe(client: stripe.StripeClient, account_id: str) -> Any:
    """Request options acting as the connected account (the Stripe-Account header)."""
    return {"stripe_account": account_id}


def event_of(client: stripe.StripeClient, body: bytes, signature: str) -> Any:
    return client.construct_event(body, signature, WEBHOOK_SECRET)


async def test_a_transfer_s_payment_is_traced_to_the_payout_that_paid_it_out(
    client: stripe.StripeClient, standin: StripeStandIn, receiver: _Receiver
) -> None:
    standin.webhook_target(receiver.url, WEBHOOK_SECRET)
    account_id = await ready_account(client, standin)
    first = await transfer(client, account_id, 7000)
    second = await transfer(client, account_id, 3000)
    acting = as_stripe(client, account_id)

    payments = await client.v1.balance_transactions.list_async({"type": "payment"}, acting)
    assert [t.source for t in payments] == [second.destination_payment, first.destination_payment]
    for txn in payments:
        assert set(txn.to_dict()) >= fixture_keys("balance_transaction")
        assert (txn.object, txn.currency, txn.status) == ("balance_transaction", "gbp", "available")
    assert [t.amount for t in payments] == [3000, 7000]
    # The platform's side of the same transfers.
    spent = await client.v1.balance_transactions.retrieve_async(first.balance_transaction)  # type: ignore[arg-type]
    assert (spent.type, spent.amount, spent.source) == ("transfer", -7000, first.id)
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.balance_transactions.retrieve_async(payments.data[0].id)

    made = standin.pay_out(account_id)

    payout = await client.v1.payouts.retrieve_async(made["id"], options=acting)
    assert set(payout.to_dict()) >= fixture_keys("payout")
    assert (payout.status, payout.amount, payout.currency) == ("paid", 10000, "gbp")
    assert payout.automatic is True and payout.failure_code is None
    # Follow the first transfer to its bank: its payment, then the payout that covered it.
    [payment] = await client.v1.balance_transactions.list_async(
        {"source": str(first.destination_payment)}, acting
    )
    covering = [
        p.id
        async for p in (await client.v1.payouts.list_async(options=acting)).auto_paging_iter()
        if payment.id
        in [t.id for t in await client.v1.balance_transactions.list_async({"payout": p.id}, acting)]
    ]
    assert covering == [payout.id]
    in_payout = await client.v1.balance_transactions.list_async({"payout": payout.id}, acting)
    assert [(t.type, t.amount) for t in in_payout] == [
        ("payout", -10000),
        ("payment", 3000),
        ("payment", 7000),
    ]
    assert in_payout.data[0].id == payout.balance_transaction
    assert standin.balance_of(account_id) == 0

    [(body, headers)] = receiver.received[-1:]
    event = event_of(client, body, headers["Stripe-Signature"])
    assert set(event.to_dict()) >= fixture_keys("event")
    assert (event.type, event.account) == ("payout.paid", account_id)
    assert event.data.object.id == payout.id
    listed = await client.v1.events.list_async({"type": "payout.paid"}, acting)
    assert [e.id for e in listed] == [event.id]

    # A payout belongs to its account: without it, or as another account, there is none.
    other = await ready_account(client, standin)
    options: Any
    for options in ({}, as_stripe(client, other)):
        with pytest.raises(stripe.InvalidRequestError) as missing:
            await client.v1.payouts.retrieve_async(payout.id, options=options)
        assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
        assert list(await client.v1.payouts.list_async(options=options)) == []
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.balance_transactions.list_async({"payout": payout.id})
    with pytest.raises(ValueError, match="nothing to pay out"):
        standin.pay_out(account_id)


async def test_a_failed_payout_returns_the_money_and_switches_the_account_s_payouts_off(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    seen: list[httpx.Request] = []

    def app(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    http = httpx.AsyncClient(transport=httpx.MockTransport(app), base_url="http://testserver")
    account_id = await ready_account(client, standin)
    acting = as_stripe(client, account_id)
    payment = await transfer(client, account_id, 5000)
    standin.webhook_target("/stripe/webhook", WEBHOOK_SECRET, client=http)

    made = await standin.pay_out_async(account_id, fail_with="no_account")

    failed = await client.v1.payouts.retrieve_async(made["id"], options=acting)
    assert (failed.status, failed.failure_code) == ("failed", "no_account")
    assert failed.failure_message and "bank account" in failed.failure_message
    events = [event_of(client, r.content, r.headers["stripe-signature"]) for r in seen]
    assert [(e.type, e.account) for e in events] == [
        ("payout.failed", account_id),
        ("account.updated", account_id),
    ]
    assert events[1].data.previous_attributes["payouts_enabled"] is True
    account = await client.v1.accounts.retrieve_async(account_id)
    assert set(account.to_dict()) >= fixture_keys("account")
    assert account.payouts_enabled is False
    assert account.requirements is not None
    assert "external_account" in (account.requirements.currently_due or [])
    assert account.requirements.disabled_reason == "requirements.past_due"

    # The bank sent the money back: it is in the balance again, and nothing pays it out.
    returned = await client.v1.balance_transactions.retrieve_async(
        failed.failure_balance_transaction,  # type: ignore[arg-type]
        options=acting,
    )
    assert (returned.type, returned.amount, returned.source) == ("payout_failure", 5000, failed.id)
    assert standin.balance_of(account_id) == 5000
    with pytest.raises(ValueError, match="payouts disabled"):
        await standin.pay_out_async(account_id)
    # Transfers still land: only the capability matters to them.
    await transfer(client, account_id, 3000)

    await standin.update_account_async(account_id, payouts_enabled=True)
    again = await standin.pay_out_async(account_id)

    assert (again["status"], again["amount"]) == ("paid", 8000)
    covered = await client.v1.balance_transactions.list_async({"payout": again["id"]}, acting)
    assert sorted(t.type for t in covered) == ["payment", "payout", "payout_failure"]
    # The original payment stays with the payout that failed, as on Stripe.
    [original] = await client.v1.balance_transactions.list_async(
        {"source": str(payment.destination_payment)}, acting
    )
    in_failed = await client.v1.balance_transactions.list_async({"payout": failed.id}, acting)
    assert original.id in [t.id for t in in_failed]
    types = [event_of(client, r.content, r.headers["stripe-signature"]).type for r in seen]
    assert types == ["payout.failed", "account.updated", "account.updated", "payout.paid"]
    with pytest.raises(ValueError):
        await standin.pay_out_async(account_id, fail_with="lost_in_the_post")
    await http.aclose()


# ------------------------------------------------------------------------- reversals


async def test_reversing_part_then_the_rest_of_a_transfer(
    client: stripe.StripeClient, standin: StripeStandIn, receiver: _Receiver
) -> None:
    account_id = await ready_account(client, standin)
    made = await transfer(client, account_id, 7000)
    standin.webhook_target(receiver.url, WEBHOOK_SECRET)

    part = await client.v1.transfers.reversals.create_async(
        made.id, {"amount": 2000, "metadata": {"reason": "overpaid"}}, {"idempotency_key": "r-1"}
    )
    again = await client.v1.transfers.reversals.create_async(
        made.id, {"amount": 2000, "metadata": {"reason": "overpaid"}}, {"idempotency_key": "r-1"}
    )

    assert again.id == part.id and len(standin.reversals) == 1
    assert set(part.to_dict()) >= fixture_keys("transfer_reversal")
    assert (part.object, part.amount, part.transfer) == ("transfer_reversal", 2000, made.id)
    assert part.to_dict()["metadata"] == {"reason": "overpaid"}
    returned = await client.v1.balance_transactions.retrieve_async(part.balance_transaction)  # type: ignore[arg-type]
    assert (returned.type, returned.amount, returned.source) == ("transfer_refund", 2000, part.id)
    after_part = await client.v1.transfers.retrieve_async(made.id)
    assert (after_part.amount_reversed, after_part.reversed) == (2000, False)
    assert [r.id for r in after_part.reversals] == [part.id]
    await standin.wait_deliveries_async()
    [(body, headers)] = receiver.received
    sent = event_of(client, body, headers["Stripe-Signature"])
    assert sent.type == "transfer.reversed" and sent.data.object.amount_reversed == 2000
    assert sent.data.previous_attributes.to_dict() == {"amount_reversed": 0}

    rest = await client.v1.transfers.reversals.create_async(made.id)

    assert rest.amount == 5000
    whole = await client.v1.transfers.retrieve_async(made.id)
    assert (whole.amount_reversed, whole.reversed) == (7000, True)
    listed = await client.v1.transfers.reversals.list_async(made.id, {"limit": 1})
    assert [r.id async for r in listed.auto_paging_iter()] == [rest.id, part.id]
    fetched = await client.v1.transfers.reversals.retrieve_async(made.id, part.id)
    assert fetched.to_dict() == part.to_dict()
    # The money left the representative's balance, as refunds of the transfer's payment.
    refunds = await client.v1.balance_transactions.list_async(
        {"type": "payment_refund"}, as_stripe(client, account_id)
    )
    assert [(t.amount, t.source) for t in refunds] == [
        (-5000, rest.destination_payment_refund),
        (-2000, part.destination_payment_refund),
    ]
    assert standin.balance_of(account_id) == 0
    await standin.wait_deliveries_async()
    assert len(receiver.received) == 2
    assert [e.type for e in await client.v1.events.list_async()] == ["transfer.reversed"] * 2

    with pytest.raises(stripe.InvalidRequestError) as nothing_left:
        await client.v1.transfers.reversals.create_async(made.id)
    assert nothing_left.value.http_status == 400
    other = await transfer(client, account_id, 1000)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        await client.v1.transfers.reversals.create_async(other.id, {"amount": 1001})
    assert too_much.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        await client.v1.transfers.reversals.create_async("tr_nothing")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    assert (await client.v1.transfers.retrieve_async(other.id)).amount_reversed == 0


async def test_the_reversal_helpers_go_the_api_s_way_and_deliver(
    client: stripe.StripeClient, standin: StripeStandIn, receiver: _Receiver
) -> None:
    account_id = await ready_account(client, standin)
    made = await transfer(client, account_id, 7000)
    standin.webhook_target(receiver.url, WEBHOOK_SECRET)

    event = standin.reverse_transfer(made.id, 1000)

    [(body, headers)] = receiver.received
    assert event_of(client, body, headers["Stripe-Signature"]).id == event["id"]
    assert [r.amount for r in await client.v1.transfers.reversals.list_async(made.id)] == [1000]

    seen: list[httpx.Request] = []

    def app(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(app), base_url="http://testserver"
    ) as http:
        standin.webhook_target("/stripe/webhook", WEBHOOK_SECRET, client=http)
        # A reversal made through the API is delivered to an in-process target too.
        await client.v1.transfers.reversals.create_async(made.id, {"amount": 1000})
        await standin.wait_deliveries_async()
        rest = await standin.reverse_transfer_async(made.id)

    assert rest["data"]["object"]["reversed"] is True
    assert rest["data"]["previous_attributes"] == {"amount_reversed": 2000, "reversed": False}
    assert len(seen) == 2
    assert [event_of(client, r.content, r.headers["stripe-signature"]).type for r in seen] == [
        "transfer.reversed"
    ] * 2
    assert standin.balance_of(account_id) == 0
    with pytest.raises(ValueError, match="fully reversed"):
        standin.reverse_transfer(made.id)


# ------------------------------------------------------------------------- account changes


async def test_account_changes_are_sent_with_what_changed(
    client: stripe.StripeClient, standin: StripeStandIn, receiver: _Receiver
) -> None:
    account_id = await ready_account(client, standin)
    standin.webhook_target(receiver.url, WEBHOOK_SECRET)

    standin.update_account(account_id, transfers="inactive")

    [(body, headers)] = receiver.received
    event = event_of(client, body, headers["Stripe-Signature"])
    assert (event.type, event.account) == ("account.updated", account_id)
    previous = event.data.previous_attributes.to_dict()
    assert set(previous) == {"capabilities", "requirements"}
    assert previous["capabilities"] == {"transfers": "active"}
    assert previous["requirements"]["disabled_reason"] is None
    account = await client.v1.accounts.retrieve_async(account_id)
    assert account.capabilities is not None and account.capabilities.transfers == "inactive"
    assert account.payouts_enabled is True
    assert account.requirements is not None
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert account.requirements.past_due == ["individual.verification.document"]

    standin.update_account(account_id, transfers="pending")
    account = await client.v1.accounts.retrieve_async(account_id)
    assert account.requirements is not None
    assert account.requirements.disabled_reason == "requirements.pending_verification"
    assert account.requirements.currently_due == []

    seen: list[httpx.Request] = []

    def app(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(app), base_url="http://testserver"
    ) as http:
        standin.webhook_target("/stripe/webhook", WEBHOOK_SECRET, client=http)
        both = await standin.update_account_async(
            account_id, transfers="active", payouts_enabled=False
        )

    [request] = seen
    assert event_of(client, request.content, request.headers["stripe-signature"]).id == both["id"]
    assert both["data"]["previous_attributes"]["payouts_enabled"] is True
    account = await client.v1.accounts.retrieve_async(account_id)
    assert account.requirements is not None
    assert account.requirements.currently_due == ["external_account"]
    listed = await client.v1.events.list_async(
        {"type": "account.updated"}, as_stripe(client, account_id)
    )
    assert len(listed.data) == 4  # onboarding and the three changes

    with pytest.raises(ValueError):
        standin.update_account(account_id, payouts_enabled=False)  # nothing changes
    with pytest.raises(ValueError):
        standin.update_account(account_id, transfers="closed")


# ------------------------------------------------------------------------- the 24-hour key


async def test_a_key_is_replayed_for_a_day_then_forgotten_and_pays_again(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    account_id = await ready_account(client, standin)
    first = await transfer(client, account_id, 7000, group="claim-42", key="claim-42-0")

    standin.advance(23 * 3600)
    replayed = await transfer(client, account_id, 7000, group="claim-42", key="claim-42-0")

    assert replayed.id == first.id
    assert [r.replayed for r in standin.requests_to("/v1/transfers")] == [False, True]

    # This is the danger a late retry runs into: after a day the key means nothing to Stripe.
    standin.advance(2 * 3600)
    late = await transfer(client, account_id, 7000, group="claim-42", key="claim-42-0")

    assert late.id != first.id
    assert late.created - first.created >= 25 * 3600
    group = await client.v1.transfers.list_async({"transfer_group": "claim-42"})
    assert [t.id for t in group] == [late.id, first.id]
    # The key now stands for the new transfer, for another day.
    assert (await transfer(client, account_id, 7000, group="claim-42", key="claim-42-0")).id == (
        late.id
    )
    assert len(standin.transfers_in_group("claim-42")) == 2
