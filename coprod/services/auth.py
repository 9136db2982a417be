"""Signing in and out: passwords, single-use emailed links, sessions, throttling, API tokens."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from coprod import db
from coprod.config import get_settings
from coprod.domain.throttle import wait_needed
from coprod.models import (
    ApiToken,
    EmailLink,
    LinkPurpose,
    Membership,
    NetworkMember,
    Role,
    Session,
    SignInAttempt,
    SignInKind,
    User,
)
from coprod.security import hash_password, hash_secret, needs_rehash, new_secret, verify_password
from coprod.services import audit, outbox
from coprod.services.actor import Actor
from coprod.services.people import check_password, normalise_email
from coprod.validation import ValidationFailed

TOKEN_PREFIX = "cpd_"


class Throttled(Exception):
    """Too many attempts; the person should wait before trying again."""

    def __init__(self, wait: dt.timedelta) -> None:
        super().__init__(wait)
        self.wait = wait


class SignInFailed(Exception):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _times(query: QuerySet[SignInAttempt]) -> list[dt.datetime]:
    return await query.values_list("created_at", flat=True)  # type: ignore[return-value]


async def _refuse_if_over(
    attempt: SignInAttempt, counted: list[tuple[QuerySet[SignInAttempt], int]]
) -> None:
    """Each query (which leaves out this attempt) against its limit. Every attempt is written
    before the count is taken, so of two at once the later always sees the earlier. A refused
    attempt is deleted: nothing was tried, so it must not lengthen the wait."""
    now = _now()
    window = dt.timedelta(minutes=get_settings().throttle_window_minutes)
    waits = [
        wait
        for query, limit in counted
        if (wait := wait_needed(await _times(query), limit, window, now)) is not None
    ]
    if waits:
        await attempt.delete()
        raise Throttled(max(waits))


async def sign_in_with_password(email: str, password: str, address: str) -> User:
    """Only wrong passwords count towards the limits. A right one clears that account's
    failures: it shows the guessing was its owner's typing (or that the password is already
    known, when counting protects nothing), and without it staff who mistype now and then would
    lock themselves out. It does not clear the address's failures, or someone spraying many
    accounts could reset the count by signing in to their own."""
    settings = get_settings()
    account = normalise_email(email)
    since = _now() - dt.timedelta(minutes=settings.throttle_window_minutes)
    attempt = await SignInAttempt.create(
        kind=SignInKind.PASSWORD, account=account, address=address, succeeded=None
    )
    passwords = SignInAttempt.filter(kind=SignInKind.PASSWORD, id__not=attempt.id)
    last_success = (
        await passwords.filter(account=account, succeeded=True, created_at__gte=since)
        .order_by("-created_at")
        .first()
    )
    account_failures = passwords.filter(
        Q(succeeded=False) | Q(succeeded__isnull=True),  # one being checked may well be wrong
        account=account,
        created_at__gt=last_success.created_at if last_success else since,
    )
    address_failures = passwords.filter(address=address, succeeded=False, created_at__gt=since)
    await _refuse_if_over(
        attempt,
        [
            (account_failures, settings.throttle_max_failures_per_account),
            (address_failures, settings.throttle_max_failures_per_address),
        ],
    )
    user = await User.get_or_none(email=account, is_active=True)
    ok = verify_password(user.password_hash if user else None, password)
    await SignInAttempt.filter(id=attempt.id).update(succeeded=ok)
    if not ok or user is None:
        raise SignInFailed
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        await user.save(update_fields=["password_hash"])
    return user


async def count_request(
    kind: SignInKind, account: str, address: str, *, per_account: int, per_address: int
) -> None:
    """Count a request for something sent (a link or a code) against its limits, or raise
    Throttled. Every request counts, for an account that exists or not, so the limits reveal
    nothing either."""
    since = _now() - dt.timedelta(minutes=get_settings().throttle_window_minutes)
    attempt = await SignInAttempt.create(
        kind=kind, account=account, address=address, succeeded=True
    )
    earlier = SignInAttempt.filter(kind=kind, id__not=attempt.id, created_at__gt=since)
    await _refuse_if_over(
        attempt,
        [
            (earlier.filter(account=account), per_account),
            (earlier.filter(address=address), per_address),
        ],
    )


async def send_link(email: str, purpose: LinkPurpose, address: str) -> None:
    """Email a single-use link if the account exists. The caller says the same thing either way,
    so nobody can find out who has an account. Link requests have their own limits, per email
    address (so no one's inbox can be flooded) and per internet address."""
    settings = get_settings()
    account = normalise_email(email)
    await count_request(
        SignInKind.LINK,
        account,
        address,
        per_account=settings.throttle_max_links_per_email,
        per_address=settings.throttle_max_links_per_address,
    )
    async with in_transaction():
        user = await User.get_or_none(email=account, is_active=True)
        if user is None:
            return
        secret = new_secret()
        await EmailLink.create(
            user=user,
            purpose=purpose,
            token_hash=hash_secret(secret),
            expires_at=_now() + dt.timedelta(minutes=settings.link_expiry_minutes),
        )
        path = "sign-in/link" if purpose is LinkPurpose.SIGN_IN else "password-reset"
        await outbox.enqueue_email(
            to=account,
            template="sign_in_link" if purpose is LinkPurpose.SIGN_IN else "password_reset",
            context={
                "name": user.full_name,
                "url": f"{settings.base_url}/{path}/{secret}",
                "minutes": settings.link_expiry_minutes,
            },
        )


async def link_is_usable(secret: str, purpose: LinkPurpose) -> bool:
    return await EmailLink.filter(
        token_hash=hash_secret(secret), purpose=purpose, used_at=None, expires_at__gt=_now()
    ).exists()


async def use_link(secret: str, purpose: LinkPurpose) -> User:
    """Spend a link. The conditional update means only one of two simultaneous uses can win."""
    token_hash = hash_secret(secret)
    won = await EmailLink.filter(
        token_hash=token_hash, purpose=purpose, used_at=None, expires_at__gt=_now()
    ).update(used_at=_now())
    if not won:
        raise SignInFailed
    link = await EmailLink.get(token_hash=token_hash).prefetch_related("user")
    if not link.user.is_active:
        raise SignInFailed
    return link.user


async def reset_password(secret: str, new_password: str) -> User:
    check_password(new_password)
    async with in_transaction():
        user = await use_link(secret, LinkPurpose.PASSWORD_RESET)
        user.password_hash = hash_password(new_password)
        await user.save(update_fields=["password_hash"])
        # A reset usually means the old password is not safe: sign out everywhere.
        await Session.filter(user=user).delete()
        await audit.record(Actor(user=user, organisation_id=None), "user.password_reset", user)
    return user


async def organisations_of(user: User) -> list[int]:
    ids = (
        await Membership.filter(user=user)
        .order_by("organisation_id")
        .values_list("organisation_id", flat=True)
    )
    return list(dict.fromkeys(ids))  # type: ignore[arg-type]


async def start_session(user: User, organisation_id: int | None = None) -> str:
    """Create a session and return the secret for the cookie."""
    if organisation_id is None:
        orgs = await organisations_of(user)
        organisation_id = orgs[0] if orgs else None
    secret = new_secret()
    await Session.create(
        key_hash=hash_secret(secret),
        user=user,
        organisation_id=organisation_id,
        expires_at=_now() + dt.timedelta(days=get_settings().session_days),
    )
    user.last_signed_in_at = _now()
    await user.save(update_fields=["last_signed_in_at"])
    return secret


def _db_time(when: dt.datetime) -> Any:
    # As the ORM would write it, so SQLite's text comparison matches what it stored.
    return db.db_value(Session, "expires_at", when)


# The session, its user, the user's roles in the session's organisation and their networks,
# in one statement: this runs on every signed-in request. Roles times networks is a handful
# of rows at most, folded together in Python.
@cache
def _session_sql() -> str:
    # Built on first use: the models' foreign key columns are known only once Tortoise is set up.
    return f"""
SELECT {db.columns("s", Session)}, {db.columns("u", User)},
    m."role" AS "role", n."network_id" AS "network_id"
FROM "session" s
JOIN "user" u ON u."id" = s."user_id"
LEFT JOIN "membership" m ON m."user_id" = s."user_id" AND m."organisation_id" = s."organisation_id"
LEFT JOIN "network_member" n ON n."user_id" = s."user_id"
WHERE s."key_hash" = {{}} AND s."expires_at" > {{}} AND u."is_active" = {{}}
"""


async def session_actor(secret: str) -> tuple[Session, Actor] | None:
    """The unexpired session of an active user, and who it signs in, in one statement."""
    client, sql = db.sql(_session_sql())
    rows = await client.execute_query_dict(sql, [hash_secret(secret), _db_time(_now()), True])
    if not rows:
        return None
    session = db.instance("s", Session, rows[0])
    user = db.instance("u", User, rows[0])
    session.user = user
    roles = frozenset(Role(row["role"]) for row in rows if row["role"] is not None)
    networks = frozenset(int(row["network_id"]) for row in rows if row["network_id"] is not None)
    actor = Actor(
        user=user,
        organisation_id=session.organisation_id,
        roles=roles,
        via="web",
        network_ids=networks,
    )
    return session, actor


async def end_session(secret: str) -> None:
    await Session.filter(key_hash=hash_secret(secret)).delete()


async def switch_organisation(session: Session, organisation_id: int) -> bool:
    if organisation_id not in await organisations_of(session.user):
        return False
    session.organisation_id = organisation_id
    await session.save(update_fields=["organisation_id"])
    return True


async def actor_for(user: User, organisation_id: int | None, via: str = "web") -> Actor:
    roles: frozenset[Role] = frozenset()
    if organisation_id is not None:
        roles = frozenset(
            await Membership.filter(user=user, organisation_id=organisation_id).values_list(
                "role", flat=True
            )  # type: ignore[arg-type]
        )
    network_ids: list[int] = await NetworkMember.filter(user=user).values_list(  # type: ignore[assignment]
        "network_id", flat=True
    )
    networks = frozenset(network_ids)
    return Actor(
        user=user, organisation_id=organisation_id, roles=roles, via=via, network_ids=networks
    )


async def create_api_token(actor: Actor, name: str, role: Role) -> tuple[ApiToken, str]:
    """Only org admins make tokens, and only for roles they could hand out in their organisation."""
    if not name.strip():
        raise ValidationFailed.one("name", "Enter a name for the token, so you know what uses it")
    if len(name.strip()) > 100:
        raise ValidationFailed.one("name", "Name must be 100 characters or fewer")
    secret = TOKEN_PREFIX + new_secret()
    async with in_transaction():
        token = await ApiToken.create(
            organisation_id=actor.organisation_id,
            created_by=actor.user,
            name=name.strip(),
            role=role,
            prefix=secret[:10],
            token_hash=hash_secret(secret),
        )
        await audit.record(actor, "api_token.create", token, after=audit.snapshot(token))
    return token, secret


async def revoke_api_token(actor: Actor, token: ApiToken) -> None:
    async with in_transaction():
        token.revoked_at = _now()
        await token.save(update_fields=["revoked_at"])
        await audit.record(actor, "api_token.revoke", token, after={"revoked": True})


# The token, its creator if still active, and whether they still hold the token's role in its
# organisation: a token never carries more than its creator holds.
@cache
def _token_sql() -> str:
    return f"""
SELECT {db.columns("t", ApiToken)}, {db.columns("u", User)}, m."id" AS "held"
FROM "api_token" t
JOIN "user" u ON u."id" = t."created_by_id"
LEFT JOIN "membership" m ON m."user_id" = t."created_by_id"
    AND m."organisation_id" = t."organisation_id" AND m."role" = t."role"
WHERE t."token_hash" = {{}} AND t."revoked_at" IS NULL AND u."is_active" = {{}}
"""


# How stale `last_used_at` may be: writing it on every call would double a token request's
# statements for a figure people read to the day.
TOKEN_USE_RESOLUTION = dt.timedelta(minutes=1)


async def actor_for_token(secret: str) -> Actor | None:
    client, sql = db.sql(_token_sql())
    rows = await client.execute_query_dict(sql, [hash_secret(secret), True])
    if not rows or rows[0]["held"] is None:
        return None
    token = db.instance("t", ApiToken, rows[0])
    user = db.instance("u", User, rows[0])
    now = _now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RESOLUTION:
        await ApiToken.filter(id=token.id).update(last_used_at=now)
    return Actor(
        user=user,
        organisation_id=token.organisation_id,
        roles=frozenset({token.role}),
        via="api",
    )
