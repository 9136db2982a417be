"""Command line: python -m coprod <command>."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable

from coprod import db
from coprod.config import ConfigError, get_settings
from coprod.models import Organisation, Role
from coprod.validation import ValidationFailed


async def _with_db(work: Callable[[], Awaitable[int]]) -> int:
    await db.init_db()
    try:
        return await work()
    finally:
        await db.close_db()


async def cmd_migrate(args: argparse.Namespace) -> int:
    await db.migrate()
    await db.close_db()
    print("Database is up to date.")
    return 0


async def cmd_create_org(args: argparse.Namespace) -> int:
    from coprod.services import people
    from coprod.services.actor import Actor

    async def work() -> int:
        org = await people.create_organisation(Actor.system(via="cli"), args.name)
        print(f"Created organisation {org.name} (id {org.id}, slug {org.slug}).")
        return 0

    return await _with_db(work)


async def cmd_create_user(args: argparse.Namespace) -> int:
    from coprod.services import people
    from coprod.services.actor import Actor

    async def work() -> int:
        org = await Organisation.get_or_none(slug=args.org) or (
            await Organisation.get_or_none(id=int(args.org)) if args.org.isdigit() else None
        )
        if org is None:
            print(f"No organisation with slug or id {args.org!r}.", file=sys.stderr)
            return 2
        password = None
        if args.password:
            password = getpass.getpass("Password (12 characters or more): ")
        user = await people.create_user(
            Actor.system(via="cli"),
            email=args.email,
            full_name=args.name,
            organisation=org,
            roles=[Role(r) for r in args.role],
            password=password,
        )
        print(f"{user.full_name} <{user.email}> now has {', '.join(args.role)} in {org.name}.")
        return 0

    return await _with_db(work)


async def cmd_seed_demo(args: argparse.Namespace) -> int:
    from coprod.demo import seed_demo

    async def work() -> int:
        for line in await seed_demo():
            print(line)
        return 0

    return await _with_db(work)


async def cmd_worker(args: argparse.Namespace) -> int:
    from coprod import worker
    from coprod.services import payouts

    async def work() -> int:
        if args.once:
            await worker.run_periodic_jobs()
            await payouts.process_payments(dt.datetime.now(dt.UTC))
            sent = await worker.deliver_due()
            print(f"Delivered {sent} message(s).")
            return 0
        await worker.run_forever(poll_seconds=args.poll)
        return 0

    return await _with_db(work)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m coprod", description="Coprod command line")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)
    org = sub.add_parser("create-org", help="create an organisation (trust)")
    org.add_argument("name")
    org.set_defaults(run=cmd_create_org)
    user = sub.add_parser("create-user", help="add a person with roles in an organisation")
    user.add_argument("--org", required=True, help="organisation slug or id")
    user.add_argument("--email", required=True)
    user.add_argument("--name", required=True)
    user.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[r.value for r in Role],
        help="repeat for several roles",
    )
    user.add_argument("--password", action="store_true", help="ask for a password (staff)")
    user.set_defaults(run=cmd_create_user)
    sub.add_parser("seed-demo", help="load demo data").set_defaults(run=cmd_seed_demo)
    w = sub.add_parser("worker", help="deliver the outbox and run periodic jobs")
    w.add_argument("--once", action="store_true", help="deliver what is due, then stop")
    w.add_argument("--poll", type=float, default=2.0, help="seconds between polls")
    w.set_defaults(run=cmd_worker)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parser().parse_args(argv)
    try:
        get_settings().validate()
        return asyncio.run(args.run(args))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 3
    except ValidationFailed as exc:
        for error in exc.errors:
            print(f"{error.field}: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
