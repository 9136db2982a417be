"""Organisations, teams and the people who use Coprod."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tortoise.transactions import in_transaction

from coprod.errors import Forbidden
from coprod.models import STAFF_ROLES, Membership, Organisation, Role, Team, User
from coprod.security import hash_password
from coprod.services import audit
from coprod.services.actor import Actor
from coprod.validation import Checker, ValidationFailed

MIN_PASSWORD_LENGTH = 12


def normalise_email(email: str) -> str:
    return email.strip().lower()


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80] or "organisation"


def check_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.one(
            field, f"Password must be {MIN_PASSWORD_LENGTH} characters or more"
        )


async def create_organisation(actor: Actor, name: str) -> Organisation:
    checker = Checker({"name": name})
    name = checker.text("name", "the organisation's name")
    checker.done()
    slug = slugify(name)
    if await Organisation.filter(slug=slug).exists():
        raise ValidationFailed.one("name", "An organisation with this name already exists")
    async with in_transaction():
        org = await Organisation.create(name=name, slug=slug)
        await audit.record(
            actor, "organisation.create", org, after=audit.snapshot(org), organisation_id=org.id
        )
    return org


async def create_team(actor: Actor, organisation: Organisation, name: str) -> Team:
    checker = Checker({"name": name})
    name = checker.text("name", "the team's name")
    checker.done()
    if await Team.filter(organisation=organisation, name=name).exists():
        raise ValidationFailed.one("name", "This organisation already has a team with this name")
    async with in_transaction():
        team = await Team.create(organisation=organisation, name=name)
        await audit.record(
            actor, "team.create", team, after=audit.snapshot(team), organisation_id=organisation.id
        )
    return team


async def create_user(
    actor: Actor,
    *,
    email: str,
    full_name: str,
    organisation: Organisation,
    roles: list[Role],
    password: str | None = None,
) -> User:
    """Add a person to an organisation with some roles, creating their account if need be."""
    checker = Checker({"email": email, "full_name": full_name})
    email = checker.email("email")
    full_name = checker.text("full_name", "their full name")
    if not roles:
        checker.fail("roles", "Select at least one role")
    checker.done()
    if password is not None:
        check_password(password)
    async with in_transaction():
        user = await User.get_or_none(email=email)
        if user is None:
            user = await User.create(
                email=email,
                full_name=full_name,
                password_hash=hash_password(password) if password else None,
            )
            await audit.record(
                actor,
                "user.create",
                user,
                after=audit.snapshot(user),
                organisation_id=organisation.id,
            )
        for role in roles:
            _, created = await Membership.get_or_create(
                user=user, organisation=organisation, role=role
            )
            if created:
                await audit.record(
                    actor,
                    "membership.grant",
                    ("User", user.id),
                    after={"role": role.value},
                    organisation_id=organisation.id,
                )
    return user


async def update_own_details(actor: Actor, data: Mapping[str, Any]) -> User:
    """Staff keep their own name and phone number up to date. Invitations and bookings give
    representatives their involvement lead's number, so they can phone rather than write."""
    user = actor.user
    if user is None or not actor.has(*STAFF_ROLES):
        raise Forbidden
    c = Checker(data)
    full_name = c.text("full_name", "your full name")
    phone = c.phone("phone", "your phone number")
    c.done()
    async with in_transaction():
        before = {"full_name": user.full_name, "phone": user.phone}
        user.full_name = full_name
        user.phone = phone or None
        await user.save(update_fields=["full_name", "phone"])
        await audit.record(
            actor,
            "user.update",
            user,
            before=before,
            after={"full_name": user.full_name, "phone": user.phone},
            organisation_id=actor.organisation_id,
        )
    return user
