"""What the stand-in holds, which every part of it reads: the service (its keys, templates and
senders), the notifications, the lock over them, the clock that stamps them, and where the
stand-in is served."""

from __future__ import annotations

import datetime as dt

from tests.notify_standin.wire import (
    DEFAULT_CALLBACK_TOKEN,
    DEFAULT_EMAIL_TEMPLATE_ID,
    DEFAULT_SECRETS,
    DEFAULT_SERVICE_ID,
    DEFAULT_SMS_TEMPLATE_ID,
    EMAIL_DOMAIN,
    PRECOMPILED_TEMPLATE_ID,
    Notification,
    Template,
    api_key,
    new_id,
)
from tests.standin_http import HttpStandIn


class StandInState(HttpStandIn):
    """The base of `NotifyStandIn` and of its mixins, so each of them sees the same stores; one
    lock guards them all, and every endpoint runs under it."""

    def __init__(
        self,
        *,
        service_id: str = DEFAULT_SERVICE_ID,
        service_name: str = "Coprod",
        sms_sender: str = "Coprod",
        sms_senders: dict[str, str] | None = None,
        email_sender_local_part: str = "coprod",
        email_reply_to: dict[str, str] | None = None,
        inbound_number: str = "07700900000",
        sms_template_id: str = DEFAULT_SMS_TEMPLATE_ID,
        email_template_id: str = DEFAULT_EMAIL_TEMPLATE_ID,
        guest_list: tuple[str, ...] = (),
        check_letters_at_once: bool = True,
        callback_token: str = DEFAULT_CALLBACK_TOKEN,
        host: str = "127.0.0.1",
    ) -> None:
        self.service_id = service_id
        self.service_name = service_name
        # Keys: Notify's three types. "normal" is what Notify's website calls a live key.
        self._secrets = dict(DEFAULT_SECRETS)
        self.api_key = api_key("coprod_live", service_id, self._secrets["normal"])
        self.team_api_key = api_key("coprod_team", service_id, self._secrets["team"])
        self.test_api_key = api_key("coprod_test", service_id, self._secrets["test"])
        self._revoked: set[str] = set()
        # The service's senders: the default text sender, and the extra ones by id
        # (sms_sender_id, email_reply_to_id); an id it does not know is a 400.
        self.sms_sender = sms_sender
        self.sms_senders = dict(sms_senders or {})
        self.email_from = f"{email_sender_local_part}@{EMAIL_DOMAIN}"
        self.email_reply_to = dict(email_reply_to or {})
        self.inbound_number = inbound_number
        # Who a team key may send to (the service's team members and guest list).
        self.guest_list = set(guest_list)
        self.check_letters_at_once = check_letters_at_once
        # The bearer token the service gave Notify for its callbacks.
        self.callback_token = callback_token
        self.sms_template_id = sms_template_id
        self.email_template_id = email_template_id
        self.templates: dict[str, Template] = {}
        self._precompiled = Template(PRECOMPILED_TEMPLATE_ID, "letter", "", "Pre-compiled PDF")
        self.add_template(
            "sms", "((body))", template_id=sms_template_id, name="Coprod text message"
        )
        self.add_template(
            "email",
            "((body))",
            subject="((subject))",
            template_id=email_template_id,
            name="Coprod email",
        )
        self._serve_from(host)
        self._last_moment = dt.datetime.min
        # Notify's notifications, in the order made.
        self.notifications: dict[str, Notification] = {}
        # Text messages people sent to the service's number (callbacks.py).
        self.received_texts: list[dict[str, str]] = []

    def add_template(
        self,
        type: str,
        content: str,
        *,
        subject: str | None = None,
        template_id: str | None = None,
        name: str = "",
    ) -> str:
        """Another template the service owns; returns its id."""
        template = Template(template_id or new_id(), type, content, subject, name=name)
        self.templates[template.id] = template
        return template.id

    def revoke(self, key: str) -> None:
        """Revoke one of the service's API keys: tokens it signs are then refused."""
        self._revoked.add(key[-36:])

    def now(self) -> dt.datetime:
        """UTC, naive as Notify keeps it, and always later than the last stamp: Notify pages
        by `created_at`, so two notifications must not share one."""
        with self._lock:
            moment = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            if moment <= self._last_moment:
                moment = self._last_moment + dt.timedelta(microseconds=1)
            self._last_moment = moment
            return moment

    def _live_secrets(self) -> dict[str, str]:
        return {s: t for t, s in self._secrets.items() if s not in self._revoked}

    # ------------------------------------------------------------------ what was sent

    def sent(self, type: str | None = None) -> list[Notification]:
        """The notifications made, oldest first; `type` is "sms", "email" or "letter"."""
        with self._lock:
            return [n for n in self.notifications.values() if type in (None, n.type)]

    def reset(self) -> None:
        """Forget notifications, requests and faults (a fixture shares one server)."""
        with self._lock:
            self.notifications.clear()
            self.received_texts.clear()
            self.requests.clear()
            self._faults.clear()
            self._revoked.clear()
