"""Signing in with a six-digit code sent by text, for representatives who have a mobile number
and no email (anyone whose number is theirs alone may use it).

Asking for a code gives the address of a page to enter it on, whether or not the number has an
account, so nobody can find out whose number is registered. A number held by two people (two
accounts, or someone with no account) is sent nothing: we never guess which of them is asking.
"""

from __future__ import annotations

import datetime as dt
import secrets

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from coprod.config import get_settings
from coprod.domain.notifications import KINDS, Channel
from coprod.domain.phone_numbers import normalise_mobile
from coprod.models import Representative, SignInCode, SignInKind, User
from coprod.security import hash_secret, new_secret, sign, signatures_match
from coprod.services import notifications
from coprod.services.auth import SignInFailed, count_request
from coprod.validation import ValidationFailed

CODE_DIGITS = 6


class WrongCode(SignInFailed):
    def __init__(self, tries_left: int) -> None:
        super().__init__(tries_left)
        self.tries_left = tries_left


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _code_hash(challenge_hash: str, code: str) -> str:
    # Keyed, so the million possible codes cannot be tried against a copy of the database.
    return sign(get_settings().secret_key, "sign-in-code", f"{challenge_hash}:{code}")


def read_number(raw: str) -> str:
    """The number as Notify writes it, or a plain-English refusal for the mobile field."""
    if not raw.strip():
        raise ValidationFailed.one("mobile", "Enter your mobile number")
    number = normalise_mobile(raw)
    if number is None:
        raise ValidationFailed.one(
            "mobile", "Enter a mobile number in the correct format, like 07700 900 982"
        )
    return number


def read_code(raw: str) -> str:
    code = "".join(raw.split())
    if not code:
        raise ValidationFailed.one("code", "Enter the code from the text message")
    if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        raise ValidationFailed.one("code", "The code is 6 numbers, like 123456")
    return code


async def holder(number: str) -> Representative | None:
    """The record to text about this number: only when every record with the number belongs
    to one active account. Records with no account count as other people."""
    records = await Representative.filter(mobile_normalised=number).order_by("id")
    users = {r.user_id for r in records}
    if len(users) != 1 or None in users:
        return None
    current = [r for r in records if r.archived_at is None] or records
    if not await User.filter(id=current[0].user_id, is_active=True).exists():
        return None
    return current[0]


async def send_code(mobile: str, address: str) -> str:
    """Text a code to the number if it is one person's, and return the secret for the address
    of the page to enter it on (made whether or not anything was sent). Requests are limited
    per number (texts are paid for, and nobody's phone should be flooded) and per address."""
    settings = get_settings()
    number = read_number(mobile)
    await count_request(
        SignInKind.CODE,
        number,
        address,
        per_account=settings.throttle_max_codes_per_number,
        per_address=settings.throttle_max_codes_per_address,
    )
    challenge = new_secret()
    challenge_hash = hash_secret(challenge)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    async with in_transaction():
        rep = await holder(number) if settings.uses(Channel.TEXT) else None
        await SignInCode.create(
            challenge_hash=challenge_hash,
            user_id=rep.user_id if rep else None,
            code_hash=_code_hash(challenge_hash, code),
            expires_at=_now() + dt.timedelta(minutes=settings.sign_in_code_minutes),
        )
        if rep is not None:
            # Sent by text whatever their preferences: it is what they asked for just now.
            await notifications.queue(
                rep,
                KINDS["sign_in_code"],
                Channel.TEXT,
                {"name": rep.full_name, "code": code, "minutes": settings.sign_in_code_minutes},
                organisation_id=rep.organisation_id,
            )
    return challenge


def _live(challenge: str) -> dict[str, object]:
    return {
        "challenge_hash": hash_secret(challenge),
        "used_at": None,
        "expires_at__gt": _now(),
        "tries__lt": get_settings().sign_in_code_max_tries,
    }


async def code_is_usable(challenge: str) -> bool:
    return await SignInCode.filter(**_live(challenge)).exists()


async def use_code(challenge: str, code: str) -> User:
    """Spend a code. Each try is counted before the code is compared, by a conditional update,
    so however many arrive at once no more than the limit are compared; and the right code
    signs in once, by a second conditional update, however many times it is sent at once.
    SignInFailed when the code no longer works; WrongCode when it is not the one sent."""
    entered = read_code(code)
    counted = await SignInCode.filter(**_live(challenge)).update(tries=F("tries") + 1)
    if not counted:
        raise SignInFailed
    row = await SignInCode.get(challenge_hash=hash_secret(challenge))
    right = signatures_match(row.code_hash, _code_hash(row.challenge_hash, entered))
    if row.user_id is None or not right:
        raise WrongCode(max(get_settings().sign_in_code_max_tries - row.tries, 0))
    won = await SignInCode.filter(id=row.id, used_at=None).update(used_at=_now())
    user = await User.get_or_none(id=row.user_id, is_active=True)
    if not won or user is None:
        raise SignInFailed
    return user
