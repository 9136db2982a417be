"""The API keeps its contract: schemathesis fuzzes every operation in the OpenAPI document, as
each role would call it, against the real app served by uvicorn in another process, and finds
no server error and no reply that breaks its declared schema.

The server shares the suite's database (the SQLite file or the per-run PostgreSQL database), so
the organisation seeded here through the services is what it serves. A second organisation's
records are there too, for the fuzzer's ids to run into.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from coprod import clock
from coprod.config import get_settings
from coprod.models import Organisation, Role
from coprod.security import sign
from coprod.services import auth, contracts, people, representatives, standards, wellbeing
from coprod.services.actor import Actor
from coprod.web.csrf import HEADER as CSRF_HEADER
from coprod.web.middleware import SESSION_COOKIE
from tests.conftest import TMP, free_port
from tests.involvement import claimed_and_approved, person, took_part, trust

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261130
MAX_EXAMPLES = 8
CHECKS = "not_a_server_error,response_schema_conformance"
RUN_SECONDS = 600  # a run that takes longer than this has hung (a loaded machine slows it a lot)


@dataclass
class Server:
    url: str
    log: Path

    def errors_logged(self) -> str:
        return self.log.read_text(errors="replace")[-20000:]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """uvicorn serving the app on a free loopback port, with the suite's settings."""
    port = free_port()
    log = TMP / f"contract-server-{port}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "coprod.asgi:app",
                "--host=127.0.0.1",
                f"--port={port}",
                "--no-access-log",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        yield Server(url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped on starting:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not start in 30 seconds:\n{log.read_text()}")


async def seed_organisations(world: Any) -> dict[str, list[str]]:
    """An organisation with staff in every role, representatives with contracts, activities
    with bookings and attendance, and claims; a second organisation like it. Returns the
    headers that authenticate each role in the first."""
    ours = await trust(world)
    org = await Organisation.get(id=ours.organisation_id)
    last_month = clock.today() - dt.timedelta(days=30)
    contract_from = last_month - dt.timedelta(days=60)

    sam = await representatives.create(
        ours.lead,
        {
            "full_name": "Sam Okafor",
            "representative_type": "carer",
            "email": "sam@example.org",
            "contact_channels": ["email"],
        },
    )
    await wellbeing.give_consent(ours.lead, sam, {"purpose": "contact"})
    await contracts.create(
        ours.lead,
        sam,
        {"role_title": "Carer representative", "starts_on": contract_from.isoformat()},
    )
    alex = await person(ours, "Alex Morgan", contract_from=contract_from)
    rows = [
        await took_part(ours, sam, last_month),
        await took_part(ours, alex, last_month, mode="phone"),
        await took_part(ours, alex, last_month + dt.timedelta(days=1), category=None),
    ]
    await claimed_and_approved(ours, alex, rows, miles=10)

    # A team going to peer review, with a standard marked and evidenced.
    crisis = await people.create_team(ours.lead, org, "Crisis team")
    await standards.mark(ours.lead, crisis.id, 54, {"status": "met"})
    await standards.add_evidence(ours.lead, crisis.id, 54, {"kind": "note", "note": "Panels"})

    theirs = await trust(world, "Southshire NHS Trust", "south")
    kim = await person(theirs, "Kim Lowe", contract_from=contract_from)
    await claimed_and_approved(theirs, kim, [await took_part(theirs, kim, last_month)])

    headers = {}
    for role in (Role.INVOLVEMENT_LEAD, Role.FINANCE_OFFICER, Role.ORG_ADMIN, Role.REPORTER):
        user = await world.user(org, f"{role.value}@trust.example", role)
        staff: Actor = await auth.actor_for(user, org.id)
        _, secret = await auth.create_api_token(staff, f"contract {role.value}", role)
        headers[role.value] = [f"Authorization: Bearer {secret}"]
    await sam.fetch_related("user")
    cookie = await auth.start_session(sam.user, org.id)
    headers["representative"] = [
        f"Cookie: {SESSION_COOKIE}={cookie}",
        f"{CSRF_HEADER}: {sign(get_settings().secret_key, 'csrf', cookie)}",
    ]
    return headers


def operations_for(server: Server, role: str) -> list[str]:
    """The operations the role may call. The rest are refused before any handler runs, with
    the same error reply, so fuzzing them would spend the time budget on nothing new."""
    document = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    return [
        f"--include-operation-id={op['operationId']}"
        for item in document["paths"].values()
        for op in item.values()
        if "description" not in op or role in op["description"].removeprefix("Roles: ").split(", ")
    ]


def schemathesis(server: Server, role: str, headers: list[str]) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).parent / "st"),
        "run",
        f"{server.url}/api/v1/openapi.json",
        f"--seed={SEED}",
        f"--max-examples={MAX_EXAMPLES}",
        f"--checks={CHECKS}",
        "--phases=examples,coverage,fuzzing",
        "--workers=1",
        "--generation-database=none",
        # Only the role's own credentials: generated ones would replace its session cookie.
        "--generation-with-security-parameters=false",
        "--request-timeout=10",
        "--no-color",
        *(f"--header={h}" for h in headers),
        *operations_for(server, role),
    ]
    # Each run in its own new directory: schemathesis keeps a cache of past failures in its
    # working directory, and a run must not depend on earlier ones.
    workdir = TMP / f"schemathesis-{role}"
    workdir.mkdir(exist_ok=True)
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=RUN_SECONDS, check=False
    )


@pytest.mark.parametrize(
    "role", ["involvement_lead", "finance_officer", "org_admin", "reporter", "representative"]
)
async def test_schemathesis_finds_no_server_error_and_no_reply_off_schema(
    server: Server, world: Any, role: str
) -> None:
    headers = await seed_organisations(world)
    # A run whose every request is refused for want of credentials would prove nothing.
    async with httpx.AsyncClient(base_url=server.url) as http:
        me = await http.get("/api/v1/me", headers=dict(h.split(": ", 1) for h in headers[role]))
    assert me.status_code == 200, me.text
    started = time.monotonic()
    run = schemathesis(server, role, headers[role])
    took = time.monotonic() - started
    print(f"schemathesis as {role}: {took:.1f}s\n{run.stdout}")  # shown with pytest -rP
    assert run.returncode == 0, (
        f"schemathesis as {role} ({took:.0f}s), exit {run.returncode}:\n{run.stdout}\n"
        f"{run.stderr}\nserver log:\n{server.errors_logged()}"
    )
