"""Test harness: a fresh real database (SQLite or PostgreSQL), a real SMTP server on loopback,
the app in-process over HTTP, and helpers for signing people in.

COPROD_TEST_DB=sqlite|postgres picks the database; `make test` runs the suite on both.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


BACKEND = os.environ.get("COPROD_TEST_DB", "sqlite")
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
SMTP_PORT = free_port()
TMP = Path(tempfile.mkdtemp(prefix="coprod-test-"))
PG_NAME = f"coprod_test_{uuid.uuid4().hex[:10]}"

if BACKEND == "postgres":
    DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}?minsize=1&maxsize=20"
else:
    DATABASE_URL = f"sqlite://{TMP}/test.sqlite3?busy_timeout=10000"

# Settings are read once per process: set the environment before anything imports them.
os.environ.update(
    COPROD_ENV="test",
    DATABASE_URL=DATABASE_URL,
    SECRET_KEY="test-secret-key-that-is-long-enough-1234567890",
    BASE_URL="http://testserver",
    SMTP_HOST="127.0.0.1",
    SMTP_PORT=str(SMTP_PORT),
    MAIL_MAX_ATTEMPTS="3",
    # Without a Notify key, texts are printed and letters saved here (integrations.notify).
    LETTERS_DIR=str(TMP / "letters"),
)

from coprod import db  # noqa: E402
from coprod.config import get_settings  # noqa: E402

get_settings.cache_clear()


async def _postgres_available() -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session", autouse=True)
async def database() -> AsyncIterator[str]:
    if BACKEND == "postgres":
        if not await _postgres_available():
            if IN_CI:
                pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432, and CI needs it")
            pytest.skip("PostgreSQL is not running here")
        await _pg_admin(f'CREATE DATABASE "{PG_NAME}"')
    # The schema comes from the migrations, exactly as in production.
    await db.migrate()
    await db.close_db()
    await db.init_db()
    yield DATABASE_URL
    await db.close_db()
    if BACKEND == "postgres":
        await _pg_admin(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')


async def _empty_tables() -> None:
    from tortoise import Tortoise, connections

    conn = connections.get("default")
    models = list(Tortoise.apps["models"].values())
    # Many-to-many link tables are no model of their own, and with foreign keys switched off
    # nothing cascades into them: name them, or their rows outlive the rows they link.
    links = {m._meta.fields_map[f].through for m in models for f in m._meta.m2m_fields}
    tables = [m._meta.db_table for m in models] + sorted(links)
    if BACKEND == "postgres":
        await conn.execute_script(_empty_used_tables(tables))
    else:
        # One script and one commit: a commit per table would sync the file eighty times.
        deletes = "".join(f'DELETE FROM "{table}";' for table in tables)
        await conn.execute_script(f"PRAGMA foreign_keys=OFF; BEGIN; {deletes} COMMIT;")
        await conn.execute_script("PRAGMA foreign_keys=ON")


def _empty_used_tables(tables: list[str]) -> str:
    """One round trip that empties only the tables a test touched, most tests touching a
    handful of some eighty. A table counts as touched when its id sequence has been used since
    it was last reset (even by an insert that was rolled back, so ids always start again at 1)
    or it has a row; this sees what the browser tests' server writes from its own process too.
    DELETE with foreign-key triggers off for the transaction is
    much quicker than TRUNCATE on tables this small, which makes new files for each table."""
    names = ", ".join(f"'{t}'" for t in tables)
    return f"""
DO $$
DECLARE
    t text;
    seq text;
    used boolean;
BEGIN
    SET LOCAL session_replication_role = replica;
    FOREACH t IN ARRAY ARRAY[{names}] LOOP
        seq := NULL;
        IF EXISTS (
            SELECT 1 FROM pg_attribute WHERE attrelid = quote_ident(t)::regclass AND attname = 'id'
        ) THEN
            seq := pg_get_serial_sequence(quote_ident(t), 'id');
        END IF;
        used := false;
        IF seq IS NOT NULL THEN
            EXECUTE format('SELECT is_called FROM %s', seq) INTO used;
        END IF;
        IF NOT used THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', t) INTO used;
        END IF;
        IF used THEN
            EXECUTE format('DELETE FROM %I', t);
            IF seq IS NOT NULL THEN
                PERFORM setval(seq, 1, false);
            END IF;
        END IF;
    END LOOP;
END $$;
"""


@pytest.fixture(autouse=True)
async def clean_database(database: str) -> AsyncIterator[None]:
    yield
    await _empty_tables()


# ---------------------------------------------------------------------------- mail


@dataclass
class Mailbox:
    """Messages received by the real SMTP server on loopback."""

    messages: list[EmailMessage] = field(default_factory=list)
    delay: float = 0.0  # seconds per message, to make concurrent deliveries overlap

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def text(self, message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def link(self, message: EmailMessage, pattern: str = r"http://testserver(/\S+)") -> str:
        found = re.search(pattern, self.text(message))
        assert found, "no link in the email"
        return found.group(1)


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self.controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(SMTP_PORT)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server: SmtpServer) -> Iterator[Mailbox]:
    if smtp_server.controller is None:
        smtp_server.start()
    smtp_server.mailbox.messages.clear()
    smtp_server.mailbox.delay = 0.0
    yield smtp_server.mailbox
    if smtp_server.controller is None:
        smtp_server.start()


async def deliver_mail() -> int:
    from coprod import worker

    return await worker.deliver_due()


# ---------------------------------------------------------------------------- app and people


@pytest.fixture
def app() -> Any:
    from coprod.web.app import create_app

    return create_app(manage_database=False)


class Client:
    """An httpx client on the app in-process, that knows how to fill in CSRF tokens."""

    def __init__(self, app: Any, base_url: str = "http://testserver") -> None:
        import httpx

        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
            base_url=base_url,
            follow_redirects=False,
        )

    async def get(self, url: str, **kwargs: Any) -> Any:
        return await self.http.get(url, **kwargs)

    async def csrf(self, url: str = "/sign-in") -> str:
        page = await self.http.get(url)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, f"no CSRF token on {url}"
        return found.group(1)

    async def post_form(
        self, url: str, data: dict[str, Any], *, token_from: str | None = None
    ) -> Any:
        token = await self.csrf(token_from or url)
        return await self.http.post(url, data={**data, "csrf_token": token})

    async def api(self, method: str, url: str, json: Any = None) -> Any:
        headers = {}
        if method.upper() not in ("GET", "HEAD"):
            headers["X-CSRF-Token"] = await self.csrf("/")
        return await self.http.request(method, url, json=json, headers=headers)

    async def aclose(self) -> None:
        await self.http.aclose()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Client]:
    c = Client(app)
    yield c
    await c.aclose()


@pytest.fixture
async def make_client(app: Any) -> AsyncIterator[Any]:
    made: list[Client] = []

    def factory(base_url: str = "http://testserver") -> Client:
        c = Client(app, base_url)
        made.append(c)
        return c

    yield factory
    for c in made:
        await c.aclose()


PASSWORD = "correct horse battery staple"


@pytest.fixture
def world() -> Any:
    return World()


class World:
    """Builds organisations and people through the real services."""

    async def org(self, name: str = "Northshire NHS Trust") -> Any:
        from coprod.services import people
        from coprod.services.actor import Actor

        return await people.create_organisation(Actor.system(via="cli"), name)

    async def user(self, org: Any, email: str, *roles: Any, password: str | None = PASSWORD) -> Any:
        from coprod.services import people
        from coprod.services.actor import Actor

        return await people.create_user(
            Actor.system(via="cli"),
            email=email,
            full_name=email.split("@")[0].title(),
            organisation=org,
            roles=list(roles),
            password=password,
        )


async def sign_in(client: Client, email: str, password: str = PASSWORD) -> None:
    response = await client.post_form(
        "/sign-in", {"email": email, "password": password, "next": "/"}
    )
    assert response.status_code == 303, response.text


postgres_only = pytest.mark.skipif(
    BACKEND != "postgres", reason="a concurrency proof: needs PostgreSQL's row locks"
)


async def agree_to_contact(lead: Any, rep: Any) -> Any:
    """Record, as a lead would, that someone agreed to be contacted about involvement: without
    it they are sent nothing."""
    from coprod.services import wellbeing

    return await wellbeing.give_consent(lead, rep, {"purpose": "contact"})


# ---------------------------------------------------------------------------- GOV.UK Notify


@pytest.fixture
def notify_standin() -> Iterator[Any]:
    """A fresh GOV.UK Notify stand-in for each test (starting one takes milliseconds). Point
    the real client at it: `NotificationsAPIClient(standin.api_key, base_url=standin.url)`."""
    from tests.notify_standin import running_standin

    with running_standin() as standin:
        yield standin


@pytest.fixture
def use_notify(notify_standin: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Settings pointed at the Notify stand-in, through the environment as in production
    (NOTIFY_API_KEY, NOTIFY_API_BASE, NOTIFY_SMS_TEMPLATE_ID, NOTIFY_EMAIL_TEMPLATE_ID,
    NOTIFY_CALLBACK_TOKEN); `notify_standin.env()` gives the same for a worker subprocess."""
    for name, value in notify_standin.env().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield notify_standin
    monkeypatch.undo()
    get_settings.cache_clear()
