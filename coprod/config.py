"""Settings: defaults from config/default.toml, overridden by environment variables."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "default.toml"
INSECURE_SECRET = "insecure-development-key-change-me"


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


@dataclass(frozen=True)
class EarningsLimit:
    code: str
    label: str
    period: str
    amount_pence: int
    applies_from: dt.date


@dataclass(frozen=True)
class Settings:
    environment: str
    base_url: str
    secret_key: str
    database_url: str
    field_encryption_key: str
    redis_url: str
    timezone: str
    max_body_bytes: int
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str
    smtp_starttls: bool
    mail_from: str
    mail_max_attempts: int
    mail_backoff_base_seconds: int
    mail_backoff_max_seconds: int
    # How long a worker holds a message it took to send. A worker that dies leaves it for
    # another to take after this long, so it must be longer than any send can take.
    outbox_lease_seconds: int
    stripe_api_key: str
    stripe_webhook_secret: str
    stripe_api_base: str
    # A payment a worker took this long ago and has not finished is taken again (its worker
    # is presumed dead), after looking in Stripe for what it may already have paid.
    payment_stale_seconds: int
    notify_api_key: str
    notify_api_base: str
    notify_sms_template_id: str
    notify_email_template_id: str
    notify_callback_token: str
    notify_email: bool
    notify_letter_postage: str
    # Organisation slug -> Notify's id for its text sender or email reply-to address.
    notify_sms_senders: dict[str, str]
    notify_email_reply_to: dict[str, str]
    channels: tuple[str, ...]
    letters_dir: str
    link_expiry_minutes: int
    session_days: int
    throttle_window_minutes: int
    throttle_max_failures_per_account: int
    throttle_max_failures_per_address: int
    throttle_max_links_per_email: int
    throttle_max_links_per_address: int
    sign_in_code_minutes: int
    sign_in_code_max_tries: int
    throttle_max_codes_per_number: int
    throttle_max_codes_per_address: int
    day_rate_pence: int
    half_day_rate_pence: int
    half_day_max_minutes: int
    day_max_minutes: int
    mileage_pence_per_mile: int
    subsistence_cap_pence: int
    receipt_max_bytes: int
    receipts_dir: str
    contract_default_years: int
    expiry_reminder_days: tuple[int, ...]
    catch_up_interval_months: int
    recovery_window_days: int
    reminder_hours_before: int
    consent_review_after_days: int
    db_pool_min_size: int
    db_pool_max_size: int
    db_report_lanes: int
    earnings_limits: tuple[EarningsLimit, ...] = field(default_factory=tuple)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def uses_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def fernet_key(self) -> bytes:
        """The key for health data at rest.

        Outside production a key is derived from the secret so that a newcomer's `make run`
        works; production must set FIELD_ENCRYPTION_KEY (checked in `validate`).
        """
        if self.field_encryption_key:
            return self.field_encryption_key.encode()
        digest = hashlib.sha256(("field-encryption:" + self.secret_key).encode()).digest()
        return base64.urlsafe_b64encode(digest)

    def validate(self) -> None:
        if not self.is_production:
            return
        problems = []
        if self.secret_key == INSECURE_SECRET or len(self.secret_key) < 32:
            problems.append(
                "SECRET_KEY is the development default or shorter than 32 characters. "
                "Set SECRET_KEY to a long random value."
            )
        if not self.field_encryption_key:
            problems.append(
                "FIELD_ENCRYPTION_KEY is not set. Health data cannot be stored safely without it. "
                "Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
        if not self.base_url.startswith("https://"):
            problems.append("BASE_URL must start with https:// in production.")
        problems.extend(self._notify_problems())
        if problems:
            raise ConfigError(
                "Coprod will not start in production mode:\n- " + "\n- ".join(problems)
            )

    def uses(self, channel: str) -> bool:
        return channel in self.channels

    @property
    def notify_configured(self) -> bool:
        return bool(self.notify_api_key)

    def _notify_problems(self) -> list[str]:
        needed: list[tuple[str, str]] = []
        via_notify = self.uses("text") or self.uses("letter") or self.notify_email
        if via_notify:
            needed.append(("NOTIFY_API_KEY", self.notify_api_key))
        if self.uses("text"):
            needed.append(("NOTIFY_SMS_TEMPLATE_ID", self.notify_sms_template_id))
            # Replies and delivery receipts come back only with the token.
            needed.append(("NOTIFY_CALLBACK_TOKEN", self.notify_callback_token))
        if self.uses("letter"):
            needed.append(("NOTIFY_CALLBACK_TOKEN", self.notify_callback_token))
        if self.notify_email:
            needed.append(("NOTIFY_EMAIL_TEMPLATE_ID", self.notify_email_template_id))
        missing = list(dict.fromkeys(name for name, value in needed if not value))
        if not missing:
            return []
        used = ", ".join(c for c in self.channels if c != "email" or self.notify_email)
        return [
            f"{', '.join(missing)} must be set to send {used} through GOV.UK Notify. Set "
            "them, or leave the channel out of CHANNELS."
        ]


def _pairs(raw: str, name: str) -> dict[str, str]:
    """ "slug=id,slug=id" as a mapping."""
    found: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"{name} must look like 'slug=id,slug=id', not {raw!r}.")
        found[key.strip()] = value.strip()
    return found


CHANNELS = ("email", "text", "letter")


def _channels(raw: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(c.strip() for c in raw.split(",") if c.strip()))
    unknown = [c for c in chosen if c not in CHANNELS]
    if unknown or "email" not in chosen:
        raise ConfigError(
            f"CHANNELS must list email and any of text, letter (comma separated), not {raw!r}."
        )
    return chosen


# Environment variable -> (section, key, type)
_ENV: dict[str, tuple[str, str, type]] = {
    "COPROD_ENV": ("app", "environment", str),
    "BASE_URL": ("app", "base_url", str),
    "SECRET_KEY": ("app", "secret_key", str),
    "DATABASE_URL": ("app", "database_url", str),
    "MAX_BODY_BYTES": ("app", "max_body_bytes", int),
    "FIELD_ENCRYPTION_KEY": ("app", "field_encryption_key", str),
    "REDIS_URL": ("app", "redis_url", str),
    "SMTP_HOST": ("mail", "smtp_host", str),
    "SMTP_PORT": ("mail", "smtp_port", int),
    "SMTP_USERNAME": ("mail", "smtp_username", str),
    "SMTP_PASSWORD": ("mail", "smtp_password", str),
    "SMTP_STARTTLS": ("mail", "smtp_starttls", bool),
    "MAIL_FROM": ("mail", "from_address", str),
    "MAIL_MAX_ATTEMPTS": ("mail", "max_attempts", int),
    "OUTBOX_LEASE_SECONDS": ("mail", "lease_seconds", int),
    "STRIPE_API_KEY": ("stripe", "api_key", str),
    "STRIPE_WEBHOOK_SECRET": ("stripe", "webhook_secret", str),
    "STRIPE_API_BASE": ("stripe", "api_base", str),
    "PAYMENT_STALE_SECONDS": ("stripe", "payment_stale_seconds", int),
    "NOTIFY_API_KEY": ("notify", "api_key", str),
    "NOTIFY_API_BASE": ("notify", "api_base", str),
    "NOTIFY_SMS_TEMPLATE_ID": ("notify", "sms_template_id", str),
    "NOTIFY_EMAIL_TEMPLATE_ID": ("notify", "email_template_id", str),
    "NOTIFY_CALLBACK_TOKEN": ("notify", "callback_token", str),
    "NOTIFY_EMAIL": ("notify", "email_via_notify", bool),
    "NOTIFY_SMS_SENDERS": ("notify", "sms_senders", str),
    "NOTIFY_EMAIL_REPLY_TO": ("notify", "email_reply_to", str),
    "CHANNELS": ("notify", "channels", str),
    "LETTERS_DIR": ("notify", "letters_dir", str),
    "SIGN_IN_CODE_MINUTES": ("auth", "sign_in_code_minutes", int),
    "SIGN_IN_CODE_MAX_TRIES": ("auth", "sign_in_code_max_tries", int),
    "DAY_RATE_PENCE": ("pay", "day_rate_pence", int),
    "HALF_DAY_RATE_PENCE": ("pay", "half_day_rate_pence", int),
    "MILEAGE_PENCE_PER_MILE": ("pay", "mileage_pence_per_mile", int),
    "RECEIPTS_DIR": ("pay", "receipts_dir", str),
    "CONTRACT_DEFAULT_YEARS": ("contracts", "default_years", int),
    "RECOVERY_WINDOW_DAYS": ("wellbeing", "recovery_window_days", int),
    "REMINDER_HOURS_BEFORE": ("bookings", "reminder_hours_before", int),
    "DB_POOL_MIN_SIZE": ("database", "pool_min_size", int),
    "DB_POOL_MAX_SIZE": ("database", "pool_max_size", int),
    "DB_REPORT_LANES": ("database", "report_lanes", int),
}


def _coerce(raw: str, kind: type, name: str) -> Any:
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind is int:
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from exc
    return raw


def load_settings(env: dict[str, str] | None = None, path: Path = DEFAULT_CONFIG) -> Settings:
    env = dict(os.environ) if env is None else env
    with path.open("rb") as fh:
        data: dict[str, Any] = tomllib.load(fh)
    for name, (section, key, kind) in _ENV.items():
        if name in env and env[name] != "":
            data.setdefault(section, {})[key] = _coerce(env[name], kind, name)
    app, mail, pay = data["app"], data["mail"], data["pay"]
    pool, notify = data["database"], data["notify"]
    if not 0 <= pool["pool_min_size"] <= pool["pool_max_size"] or pool["pool_max_size"] < 1:
        raise ConfigError(
            "DB_POOL_MAX_SIZE must be at least 1, and DB_POOL_MIN_SIZE between 0 and it "
            f"(they are {pool['pool_min_size']} and {pool['pool_max_size']})."
        )
    if pool["report_lanes"] < 1:
        raise ConfigError(f"DB_REPORT_LANES must be at least 1 (it is {pool['report_lanes']}).")
    return Settings(
        environment=app["environment"],
        base_url=app["base_url"].rstrip("/"),
        secret_key=app["secret_key"],
        database_url=app["database_url"],
        field_encryption_key=app["field_encryption_key"],
        redis_url=app["redis_url"],
        timezone=app["timezone"],
        max_body_bytes=app["max_body_bytes"],
        smtp_host=mail["smtp_host"],
        smtp_port=mail["smtp_port"],
        smtp_username=mail["smtp_username"],
        smtp_password=mail["smtp_password"],
        smtp_starttls=mail["smtp_starttls"],
        mail_from=mail["from_address"],
        mail_max_attempts=mail["max_attempts"],
        mail_backoff_base_seconds=mail["backoff_base_seconds"],
        mail_backoff_max_seconds=mail["backoff_max_seconds"],
        outbox_lease_seconds=mail["lease_seconds"],
        stripe_api_key=data["stripe"]["api_key"],
        stripe_webhook_secret=data["stripe"]["webhook_secret"],
        stripe_api_base=data["stripe"]["api_base"],
        payment_stale_seconds=data["stripe"]["payment_stale_seconds"],
        notify_api_key=notify["api_key"],
        notify_api_base=notify["api_base"].rstrip("/"),
        notify_sms_template_id=notify["sms_template_id"],
        notify_email_template_id=notify["email_template_id"],
        notify_callback_token=notify["callback_token"],
        notify_email=notify["email_via_notify"],
        notify_letter_postage=notify["letter_postage"],
        notify_sms_senders=_pairs(notify["sms_senders"], "NOTIFY_SMS_SENDERS"),
        notify_email_reply_to=_pairs(notify["email_reply_to"], "NOTIFY_EMAIL_REPLY_TO"),
        channels=_channels(notify["channels"]),
        letters_dir=notify["letters_dir"],
        link_expiry_minutes=data["auth"]["link_expiry_minutes"],
        session_days=data["auth"]["session_days"],
        throttle_window_minutes=data["auth"]["throttle_window_minutes"],
        throttle_max_failures_per_account=data["auth"]["throttle_max_failures_per_account"],
        throttle_max_failures_per_address=data["auth"]["throttle_max_failures_per_address"],
        throttle_max_links_per_email=data["auth"]["throttle_max_links_per_email"],
        throttle_max_links_per_address=data["auth"]["throttle_max_links_per_address"],
        sign_in_code_minutes=data["auth"]["sign_in_code_minutes"],
        sign_in_code_max_tries=data["auth"]["sign_in_code_max_tries"],
        throttle_max_codes_per_number=data["auth"]["throttle_max_codes_per_number"],
        throttle_max_codes_per_address=data["auth"]["throttle_max_codes_per_address"],
        day_rate_pence=pay["day_rate_pence"],
        half_day_rate_pence=pay["half_day_rate_pence"],
        half_day_max_minutes=pay["half_day_max_minutes"],
        day_max_minutes=pay["day_max_minutes"],
        mileage_pence_per_mile=pay["mileage_pence_per_mile"],
        subsistence_cap_pence=pay["subsistence_cap_pence"],
        receipt_max_bytes=pay["receipt_max_bytes"],
        receipts_dir=pay["receipts_dir"],
        contract_default_years=data["contracts"]["default_years"],
        expiry_reminder_days=tuple(data["contracts"]["expiry_reminder_days"]),
        catch_up_interval_months=data["contracts"]["catch_up_interval_months"],
        recovery_window_days=data["wellbeing"]["recovery_window_days"],
        reminder_hours_before=data["bookings"]["reminder_hours_before"],
        consent_review_after_days=data["consent"]["review_after_days"],
        db_pool_min_size=pool["pool_min_size"],
        db_pool_max_size=pool["pool_max_size"],
        db_report_lanes=pool["report_lanes"],
        earnings_limits=tuple(
            EarningsLimit(
                code=item["code"],
                label=item["label"],
                period=item["period"],
                amount_pence=item["amount_pence"],
                applies_from=dt.date.fromisoformat(str(item["applies_from"])),
            )
            for item in data.get("earnings_limits", [])
        ),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
