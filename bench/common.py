"""What the benchmarks share: a fresh PostgreSQL database with the migrations applied, helper
processes (an SMTP server, the Stripe stand-in) that answer one line per command, and seeding an
organisation's people, Stripe accounts and approved claims through the services.

The helpers run in processes of their own, so the servers do not share the measured process's
CPU time. Run one by hand with `python bench/common.py --serve-standin` (or `--serve-smtp`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def say(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------- helper processes


def serve_smtp() -> None:
    """An aiosmtpd server that counts the Message-IDs it has been handed."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    seen: Counter[str] = Counter()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            for line in envelope.content.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    seen[line.split(b":", 1)[1].strip().decode()] += 1
                    break
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    for command in sys.stdin:
        if command.strip() == "count":
            print(json.dumps({"messages": sum(seen.values()), "distinct": len(seen)}), flush=True)
            seen.clear()
    controller.stop()


def serve_standin() -> None:
    """The Stripe stand-in. Commands, one a line, each answered with one line:

    - `onboard acct_1,acct_2`: finish their onboarding (payouts and transfers on);
    - `transfers`: how many transfers name each claim in their metadata;
    - `claims`: every transfer naming a claim, as {claim_id: [[id, amount, amount_reversed,
      transfer_group, destination, organisation_id], ...]};
    - `fail PATH STATUS TIMES`: answer the next TIMES requests to PATH with STATUS, doing nothing;
    - `hang PATH SECONDS TIMES`: do the next TIMES requests' work, then hold the reply (a reply
      lost on the way: the client gives up on a transfer that was made);
    - `clear`: drop any faults not yet used; `faults`: how many requests met a fault, by kind.
    """
    from tests.stripe_standin import StripeStandIn

    standin = StripeStandIn().start()
    print(json.dumps({"url": standin.url, "key": standin.api_key}), flush=True)
    for command in sys.stdin:
        word, *args = command.split()
        if word == "onboard":
            for account_id in args[0].split(","):
                standin.complete_onboarding(account_id)
            print("ok", flush=True)
        elif word == "transfers":
            per_claim = Counter(
                t["metadata"].get("claim_id") for t in list(standin.transfers.values())
            )
            print(json.dumps(per_claim), flush=True)
        elif word == "claims":
            found: dict[str, list[list[Any]]] = {}
            for t in list(standin.transfers.values()):
                if "claim_id" in t["metadata"]:
                    found.setdefault(t["metadata"]["claim_id"], []).append(
                        [
                            t["id"],
                            t["amount"],
                            t["amount_reversed"],
                            t["transfer_group"],
                            t["destination"],
                            t["metadata"].get("organisation_id"),
                        ]
                    )
            print(json.dumps(found), flush=True)
        elif word == "fail":
            standin.fail_next(args[0], int(args[1]), int(args[2]))
            print("ok", flush=True)
        elif word == "hang":
            standin.hang_next(args[0], float(args[1]), int(args[2]))
            print("ok", flush=True)
        elif word == "clear":
            standin.clear_faults()
            print("ok", flush=True)
        elif word == "faults":
            met = Counter((r.fault or "").split(" ")[0] for r in list(standin.requests) if r.fault)
            print(json.dumps(met), flush=True)
    standin.stop()


class Helper:
    """A helper process (`--serve-smtp` or `--serve-standin`); `first` is its first line."""

    def __init__(self, mode: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.first = self.read()

    def read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def ask(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --------------------------------------------------------------------------- the database


@asynccontextmanager
async def fresh_database(prefix: str, **environment: str) -> AsyncIterator[str]:
    """A new PostgreSQL database with the migrations applied and Tortoise connected to it; the
    process environment is set as the app reads it. Dropped afterwards."""
    name = f"coprod_bench_{prefix}_{uuid.uuid4().hex[:8]}"
    database_url = f"postgres://postgres@127.0.0.1:5432/{name}?minsize=1&maxsize=20"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        os.environ.update(
            COPROD_ENV="test",
            DATABASE_URL=database_url,
            SECRET_KEY="bench-secret-key-that-is-long-enough-1234567890",
            BASE_URL="http://127.0.0.1",
            **environment,
        )
        from coprod import db
        from coprod.config import get_settings

        get_settings.cache_clear()
        await db.migrate(database_url)
        await db.init_db(database_url)
        try:
            yield name
        finally:
            await db.close_db()
    finally:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.close()


# --------------------------------------------------------------------------- seeding


class World:
    """What `tests/scenes.build` needs to make organisations and staff, through the services
    (as the tests' `world` fixture; importing that would point the settings at the test
    database)."""

    async def org(self, name: str) -> Any:
        from coprod.services import people
        from coprod.services.actor import Actor

        return await people.create_organisation(Actor.system(via="cli"), name)

    async def user(self, org: Any, email: str, *roles: Any, password: str | None = None) -> Any:
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


async def trust(name: str) -> tuple[Any, Any, int]:
    """An organisation with an involvement lead and a finance officer: (lead, finance, id)."""
    from coprod.models import Role
    from coprod.services import auth
    from coprod.services import people as people_service
    from coprod.services.actor import Actor

    system = Actor.system(via="cli")
    org = await people_service.create_organisation(system, name)
    slug = name.split()[0].lower()
    lead = await people_service.create_user(
        system,
        email=f"lead@{slug}.example",
        full_name="Lena Lead",
        organisation=org,
        roles=[Role.INVOLVEMENT_LEAD],
    )
    finance = await people_service.create_user(
        system,
        email=f"finance@{slug}.example",
        full_name="Fin Ance",
        organisation=org,
        roles=[Role.FINANCE_OFFICER],
    )
    return await auth.actor_for(lead, org.id), await auth.actor_for(finance, org.id), org.id


async def rep_of(lead: Any, i: int, **extra: Any) -> Any:
    """A representative with consent to contact and a contract, as a lead would add them."""
    from coprod import clock
    from coprod.services import contracts, representatives, wellbeing

    rep = await representatives.create(
        lead,
        {
            "full_name": f"Person {i:04d}",
            "representative_type": "patient",
            "email": f"person{i}@{lead.organisation_id}.bench.example",
            "contact_channels": ["email"],
            "payment_preference": "paid",
            **extra,
        },
    )
    await wellbeing.give_consent(lead, rep, {"purpose": "contact"})
    today = clock.today()
    await contracts.create(
        lead,
        rep,
        {
            "role_title": "Patient representative",
            "starts_on": (today - dt.timedelta(days=60)).isoformat(),
            "ends_on": (today + dt.timedelta(days=700)).isoformat(),
        },
    )
    return rep


async def stripe_accounts(gateway: Any, standin: Helper, references: list[str]) -> list[str]:
    """Express accounts in the stand-in, onboarded (payouts and transfers on)."""
    accounts = [
        await gateway.create_express_account(email=None, reference=reference)
        for reference in references
    ]
    for start in range(0, len(accounts), 200):
        assert standin.ask("onboard " + ",".join(accounts[start : start + 200])) == "ok"
    return accounts


async def stripe_reps(lead: Any, n: int, standin: Helper, gateway: Any) -> list[Any]:
    """`n` representatives paid by bank transfer, with onboarded Stripe accounts."""

    reps = [await rep_of(lead, i) for i in range(n)]
    accounts = await stripe_accounts(gateway, standin, [f"bench-{rep.id}" for rep in reps])
    # What the account.updated webhook records once Stripe has checked an account.
    ready = {"stripe_payouts_enabled": True, "stripe_transfers_active": True}
    for rep, account_id in zip(reps, accounts, strict=True):
        rep.payout_method = "stripe"
        rep.stripe_account_id = account_id
        for field, value in ready.items():
            setattr(rep, field, value)
        await rep.save(update_fields=["payout_method", "stripe_account_id", *ready])
    return reps


async def approved_claims(
    organisation_id: int, reps: list[Any], amounts: list[int], weeks_ago: int = 0
) -> list[int]:
    """One approved claim per representative, of one day's fee each (`amounts`, in pence), for
    a period `weeks_ago` weeks back. Written as rows: what is measured starts at approval."""
    from coprod import clock
    from coprod.models import Claim, ClaimLine, ClaimStatus, LineKind

    end = clock.today() - dt.timedelta(weeks=weeks_ago)
    start = end - dt.timedelta(days=6)
    await Claim.bulk_create(
        [
            Claim(
                organisation_id=organisation_id,
                representative_id=rep.id,
                period_start=start,
                period_end=end,
                status=ClaimStatus.APPROVED,
            )
            for rep in reps
        ]
    )
    made = {
        c.representative_id: c.id
        for c in await Claim.filter(
            organisation_id=organisation_id,
            period_start=start,
            status=ClaimStatus.APPROVED,
            representative_id__in=[rep.id for rep in reps],
        )
    }
    await ClaimLine.bulk_create(
        [
            ClaimLine(
                claim_id=made[rep.id],
                kind=LineKind.FEE,
                day=start + dt.timedelta(days=1),
                minutes=300,
                band="day",
                amount_pence=pence,
                description="Full day: Service design workshop",
            )
            for rep, pence in zip(reps, amounts, strict=True)
        ]
    )
    return [made[rep.id] for rep in reps]


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve-smtp"]:
        serve_smtp()
    elif sys.argv[1:] == ["--serve-standin"]:
        serve_standin()
    else:
        sys.exit("usage: common.py --serve-smtp | --serve-standin")
