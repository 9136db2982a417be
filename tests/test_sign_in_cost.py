"""What the sign-in check costs: statements counted at the database driver, for a signed-in
page and an API token, and the sign-in rules that the one statement must still keep."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from tortoise import connections

from coprod.models import ApiToken, Network, NetworkMember, NetworkRole, Role, Session, User
from coprod.services import auth
from coprod.services.actor import Actor
from coprod.web import middleware
from tests.conftest import BACKEND, Client, sign_in


@dataclass
class Statements:
    seen: list[str] = field(default_factory=list)
    # What had run when each request reached the handlers, and who was signed in by then.
    at_handler: list[tuple[int, Actor | None]] = field(default_factory=list)

    def record(self, sql: str, *_: Any) -> None:
        self.seen.append(sql)

    def reset(self) -> None:
        self.seen.clear()
        self.at_handler.clear()


async def _hook_driver(record: Callable[..., None]) -> Callable[[], Awaitable[None]]:
    client: Any = connections.get("default")
    await client.execute_query("SELECT 1")  # connections open on first use
    if BACKEND == "sqlite":
        sqlite = client._connection
        # aiosqlite's connection lives in its own thread, which alone may touch it.
        await sqlite._execute(sqlite._conn.set_trace_callback, record)

        async def unhook_sqlite() -> None:
            await sqlite._execute(sqlite._conn.set_trace_callback, None)

        return unhook_sqlite
    pool = client._pool
    # Open every connection the pool may hand out, so each one is counted.
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    for conn in held:
        await pool.release(conn)

    def log(query: Any) -> None:
        record(query.query)

    conns = [holder._con for holder in pool._holders if holder._con is not None]
    for conn in conns:
        conn.add_query_logger(log)

    async def unhook() -> None:
        for conn in conns:
            conn.remove_query_logger(log)

    return unhook


@pytest.fixture
async def counted(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Statements, Client]]:
    """An app whose handlers note how many statements ran before they were reached."""
    statements = Statements()
    original = middleware.AuthMiddleware.__init__

    def init(self: middleware.AuthMiddleware, app: Any) -> None:
        async def handlers(scope: Any, receive: Any, send: Any) -> None:
            await asyncio.sleep(0)  # asyncpg calls query loggers soon after, not at once
            statements.at_handler.append((len(statements.seen), scope["state"]["actor"]))
            await app(scope, receive, send)

        original(self, handlers)

    monkeypatch.setattr(middleware.AuthMiddleware, "__init__", init)
    from coprod.web.app import create_app

    client = Client(create_app(manage_database=False))
    unhook = await _hook_driver(statements.record)
    try:
        yield statements, client
    finally:
        await unhook()
        await client.aclose()


async def test_a_signed_in_page_costs_one_statement_to_sign_in(counted, world):
    statements, client = counted
    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD, Role.REPORTER)
    network = await Network.create(name="Crisis care network")
    await NetworkMember.create(user=user, network=network, role=NetworkRole.NETWORK_REPORTER)
    await NetworkMember.create(user=user, network=network, role=NetworkRole.NETWORK_ADMIN)
    await sign_in(client, "lead@trust.example")

    statements.reset()
    page = await client.get("/")
    assert page.status_code == 200
    assert "Lead" in page.text  # the lead's name: the page knows who is signed in
    [(before_handler, actor)] = statements.at_handler
    assert actor is not None and actor.user is not None and actor.user.id == user.id
    # Two roles and two network roles come back as rows of the one statement, folded.
    assert actor.roles == {Role.INVOLVEMENT_LEAD, Role.REPORTER}
    assert actor.network_ids == {network.id}
    assert actor.organisation_id == org.id
    assert before_handler <= 1, statements.seen[:before_handler]
    assert before_handler == 1  # and it did look the session up


async def test_an_api_token_costs_one_statement_once_its_use_is_recorded(counted, world):
    statements, client = counted
    org = await world.org()
    user = await world.user(org, "admin@trust.example", Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD)
    admin = await auth.actor_for(user, org.id)
    token, secret = await auth.create_api_token(admin, "Reporting", Role.INVOLVEMENT_LEAD)
    bearer = {"Authorization": f"Bearer {secret}"}

    statements.reset()
    first = await client.get("/api/v1/me", headers=bearer)
    assert first.status_code == 200 and first.json()["roles"] == ["involvement_lead"]
    [(before_handler, _)] = statements.at_handler
    assert before_handler == 2  # the look-up, and recording the first use
    first_use = (await ApiToken.get(id=token.id)).last_used_at
    assert first_use is not None

    statements.reset()
    again = await client.get("/api/v1/me", headers=bearer)
    assert again.status_code == 200
    [(before_handler, actor)] = statements.at_handler
    assert actor is not None and actor.roles == {Role.INVOLVEMENT_LEAD} and actor.via == "api"
    assert before_handler <= 1, statements.seen[:before_handler]
    assert (await ApiToken.get(id=token.id)).last_used_at == first_use

    # Once the recorded use is more than a minute old, the next use is written again.
    stale = first_use - dt.timedelta(minutes=2)
    await ApiToken.filter(id=token.id).update(last_used_at=stale)
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
    latest = (await ApiToken.get(id=token.id)).last_used_at
    assert latest is not None and latest > first_use


async def test_a_session_stops_signing_in_when_it_expires_or_its_user_is_deactivated(client, world):
    org = await world.org()
    await world.user(org, "rep@trust.example", Role.REPRESENTATIVE)
    await world.user(org, "other@trust.example", Role.REPRESENTATIVE)
    me = await client.get("/api/v1/me")
    assert me.status_code == 401
    await sign_in(client, "rep@trust.example")
    assert (await client.get("/api/v1/me")).status_code == 200

    await Session.all().update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    assert (await client.get("/api/v1/me")).status_code == 401

    await sign_in(client, "rep@trust.example")
    assert (await client.get("/api/v1/me")).json()["email"] == "rep@trust.example"
    await User.filter(email="rep@trust.example").update(is_active=False)
    assert (await client.get("/api/v1/me")).status_code == 401
    # Someone else's session is untouched.
    await sign_in(client, "other@trust.example")
    assert (await client.get("/api/v1/me")).json()["email"] == "other@trust.example"


async def test_a_token_never_carries_more_than_its_creator_still_holds(make_client, world):
    org = await world.org()
    user = await world.user(org, "admin@trust.example", Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD)
    admin = await auth.actor_for(user, org.id)
    token, secret = await auth.create_api_token(admin, "Reporting", Role.INVOLVEMENT_LEAD)
    robot = make_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert (await robot.http.get("/api/v1/me", headers=bearer)).status_code == 200

    from coprod.models import Membership

    await Membership.filter(user=user, role=Role.INVOLVEMENT_LEAD).delete()
    assert (await robot.http.get("/api/v1/me", headers=bearer)).status_code == 401
    await Membership.create(user=user, organisation=org, role=Role.INVOLVEMENT_LEAD)
    assert (await robot.http.get("/api/v1/me", headers=bearer)).status_code == 200

    await User.filter(id=user.id).update(is_active=False)
    assert (await robot.http.get("/api/v1/me", headers=bearer)).status_code == 401
    await User.filter(id=user.id).update(is_active=True)
    await auth.revoke_api_token(admin, token)
    assert (await robot.http.get("/api/v1/me", headers=bearer)).status_code == 401
    # A page never answers to a token, however good.
    await ApiToken.filter(id=token.id).update(revoked_at=None)
    assert (await robot.http.get("/", headers=bearer)).status_code in (200, 303)
    assert "Sign out" not in (await robot.http.get("/", headers=bearer)).text
