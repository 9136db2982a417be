"""Notify's /v2/notifications endpoints: sending a text message, an email or a precompiled
letter, and reading notifications back, one or a page at a time.

The checks run in the order app/v2/notifications/post_notifications.py runs them, so the first
problem Notify would report is the one the stand-in reports.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from tests.notify_standin.letters import check_letter
from tests.notify_standin.state import StandInState
from tests.notify_standin.wire import (
    API_PAGE_SIZE,
    COMPLETED_STATUSES,
    FAILED_STATUSES,
    SMS_CHAR_COUNT_LIMIT,
    Notification,
    Refused,
    Reply,
    Template,
    bad_request,
    check_list_query,
    check_schema,
    error_reply,
    fill,
    is_uuid,
    new_id,
    normalise_phone_number,
    phone_number_problem,
    sms_fragments,
    sms_length,
    timestamp,
    validation_error,
)

# The stand-in's own prices, for the cost fields' shape; Notify's change each April.
SMS_RATE_POUNDS = 0.0227
LETTER_SHEET_POUNDS = {"first": 1.05, "second": 0.68, "economy": 0.61}
LETTER_NEVER_SENT = ("cancelled", "technical-failure", "validation-failed", "virus-scan-failed")
# Working days from posting to the latest delivery, roughly as Notify's LetterTimings.
LETTER_DAYS = {"first": 2, "second": 4, "economy": 8}


def _working_days_later(start: dt.datetime, days: int) -> dt.datetime:
    moment = start
    while days:
        moment += dt.timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment.replace(hour=16, minute=0, second=0, microsecond=0)


class NotificationsMixin(StandInState):
    # ------------------------------------------------------------------ sending

    def _post_notification(self, kind: str, form: Any, key_type: str) -> Reply:
        if kind == "letter" and isinstance(form, dict) and "content" in form:
            return self._post_precompiled_letter(form, key_type)
        form = check_schema(form, kind)
        template = self.templates.get(form["template_id"])
        if template is None:
            raise Refused(error_reply(400, "BadRequestError", "Template not found"))
        if template.type != kind:
            raise bad_request(f"{template.type} template is not suitable for {kind} notification")
        personalisation = form.get("personalisation") or {}
        body, missing = fill(template.content, personalisation)
        subject = None
        if template.subject is not None:
            subject, missing_in_subject = fill(template.subject, personalisation)
            missing = list(dict.fromkeys([*missing_in_subject, *missing]))
        if missing:
            raise bad_request(f"Missing personalisation: {', '.join(missing)}")
        if not body.strip():
            raise bad_request("Your message is empty.")
        if kind == "letter":
            # Coprod sends only precompiled letters; say so rather than pretend.
            raise bad_request("The Notify stand-in does not send templated letters")
        reply_to = self._reply_to(kind, form)
        to = self._recipient(kind, form, key_type)
        if kind == "sms" and sms_length(body) > SMS_CHAR_COUNT_LIMIT:
            raise bad_request(
                "Your message is too long. Text messages cannot be longer than "
                f"{SMS_CHAR_COUNT_LIMIT} characters. Your message is {sms_length(body)} "
                "characters long."
            )
        notification = Notification(
            id=new_id(),
            type=kind,
            to=to,
            template=template,
            personalisation=personalisation,
            body=body,
            subject=subject,
            reference=form.get("reference"),
            key_type=key_type,
            created_at=self.now(),
            status="created",
            reply_to=reply_to,
        )
        if key_type == "test":
            # A test key's messages are never sent; Notify reports them delivered.
            self._set_status(notification, "delivered")
        self.notifications[notification.id] = notification
        return Reply(201, self._post_response(notification, unsubscribe=form))

    def _reply_to(self, kind: str, form: dict[str, Any]) -> str | None:
        if kind == "email":
            reply_to_id = form.get("email_reply_to_id")
            if reply_to_id and reply_to_id not in self.email_reply_to:
                raise bad_request(
                    f"email_reply_to_id {reply_to_id} does not exist in database for service "
                    f"id {self.service_id}"
                )
            return self.email_reply_to.get(reply_to_id) if reply_to_id else None
        sender_id = form.get("sms_sender_id")
        if sender_id and sender_id not in self.sms_senders:
            raise bad_request(
                f"sms_sender_id {sender_id} does not exist in database for service id "
                f"{self.service_id}"
            )
        return self.sms_senders[sender_id] if sender_id else self.sms_sender

    def _recipient(self, kind: str, form: dict[str, Any], key_type: str) -> str:
        raw = form["email_address"] if kind == "email" else form["phone_number"]
        if key_type == "team" and not self._on_guest_list(kind, raw):
            raise bad_request("Can’t send to this recipient using a team-only API key")  # noqa: RUF001
        if kind == "email":
            return str(raw).strip()
        problem = phone_number_problem(raw)
        if problem == "Cannot send to international mobile numbers":
            raise bad_request(problem)
        if problem:
            raise Refused(error_reply(400, "InvalidPhoneError", problem))
        return normalise_phone_number(raw)

    def _on_guest_list(self, kind: str, raw: str) -> bool:
        if kind == "email":
            return raw.strip().lower() in {g.lower() for g in self.guest_list}
        return normalise_phone_number(raw) in {normalise_phone_number(g) for g in self.guest_list}

    def _post_precompiled_letter(self, form: dict[str, Any], key_type: str) -> Reply:
        form = check_schema(form, "precompiled")
        if key_type == "team":
            raise bad_request("Cannot send letters with a team api key", 403)
        try:
            pdf = base64.b64decode(form["content"])
        except (binascii.Error, ValueError) as e:
            raise bad_request("Cannot decode letter content (invalid base64 encoding)") from e
        notification = Notification(
            id=new_id(),
            type="letter",
            # Until the PDF is checked, Notify addresses it "Provided as PDF".
            to="Provided as PDF",
            template=self._precompiled,
            personalisation={"address_line_1": "Provided as PDF"},
            body="",
            subject=self._precompiled.subject,
            reference=form["reference"],
            key_type=key_type,
            created_at=self.now(),
            status="pending-virus-check",
            postage=form.get("postage") or "second",
            pdf=pdf,
        )
        self.notifications[notification.id] = notification
        if self.check_letters_at_once:
            self._check_letter(notification)
        return Reply(
            201,
            {
                "id": notification.id,
                "reference": notification.reference,
                "postage": notification.postage,
            },
        )

    def check_letters(self) -> list[Notification]:
        """Check every letter still `pending-virus-check`, as Notify does a little after
        accepting it (for a stand-in made with `check_letters_at_once=False`)."""
        with self._lock:
            pending = [n for n in self.notifications.values() if n.status == "pending-virus-check"]
            for notification in pending:
                self._check_letter(notification)
            return pending

    def _check_letter(self, notification: Notification) -> None:
        assert notification.pdf is not None
        result = check_letter(notification.pdf)
        notification.page_count = result.page_count
        notification.updated_at = self.now()
        if result.failure:
            notification.status = "validation-failed"
            notification.validation_failure = result.failure
            notification.extra["invalid_pages"] = result.invalid_pages
            notification.billable_units = 0
            return
        notification.billable_units = result.billable_sheets
        notification.to = "\n".join(result.address)
        # A test key's letters are never printed: Notify marks them delivered straight away.
        notification.status = "delivered" if notification.key_type == "test" else "created"

    def _set_status(self, notification: Notification, status: str) -> None:
        moment = self.now()
        notification.status = status
        notification.updated_at = moment
        if status != "created" and notification.sent_at is None and notification.type != "letter":
            notification.sent_at = moment
        if notification.type == "sms" and status not in ("created",):
            notification.billable_units = sms_fragments(notification.body)

    # ------------------------------------------------------------------ reading

    def _get_notification(self, notification_id: str) -> Reply:
        if not is_uuid(notification_id):
            raise validation_error("notification_id is not a valid UUID")
        notification = self.notifications.get(notification_id)
        if notification is None:
            raise Refused(error_reply(404, "NoResultFound", "No result found"))
        return Reply(200, self.serialise(notification))

    def _list_notifications(self, pairs: list[tuple[str, str]], key_type: str) -> Reply:
        data = check_list_query(pairs)
        statuses = self._substitute_statuses(data.get("status", []))
        found = [
            n
            for n in self.notifications.values()
            if n.key_type == key_type
            and ("reference" not in data or n.reference == data["reference"])
            and (not statuses or n.status in statuses)
            and (not data.get("template_type") or n.type in data["template_type"])
        ]
        if "older_than" in data:
            older = self.notifications.get(data["older_than"])
            cutoff = older.created_at if older is not None else None
            found = [n for n in found if cutoff is not None and n.created_at < cutoff]
        found.sort(key=lambda n: n.created_at, reverse=True)
        page = found[:API_PAGE_SIZE]
        base = f"{self.url}/v2/notifications"
        links = {"current": f"{base}?{urlencode(data, doseq=True)}".rstrip("?")}
        if page:
            links["next"] = f"{base}?{urlencode({**data, 'older_than': page[-1].id}, doseq=True)}"
        return Reply(200, {"notifications": [self.serialise(n) for n in page], "links": links})

    @staticmethod
    def _substitute_statuses(statuses: list[str]) -> set[str]:
        """Notify.substitute_status: "failed", "accepted" and "received" stand for others."""
        out: set[str] = set()
        for status in statuses:
            if status == "failed":
                out.update(FAILED_STATUSES)
            elif status == "accepted":
                out.update(("created", "sending"))
            elif status == "received":
                out.add("delivered")
            else:
                out.add(status)
        return out

    # ------------------------------------------------------------------ shapes

    def _template_uri(self, template: Template, *, v2_response: bool) -> str:
        if v2_response:
            return f"{self.url}/services/{self.service_id}/templates/{template.id}"
        return f"{self.url}/service/{self.service_id}/template/{template.id}"

    def _post_response(
        self, notification: Notification, unsubscribe: dict[str, Any]
    ) -> dict[str, Any]:
        """create_post_sms_response_from_notification and its email twin."""
        response: dict[str, Any] = {
            "id": notification.id,
            "reference": notification.reference,
            "uri": f"{self.url}/v2/notifications/{notification.id}",
            "template": {
                "id": notification.template.id,
                "version": notification.template.version,
                "uri": self._template_uri(notification.template, v2_response=True),
            },
            "scheduled_for": None,
        }
        if notification.type == "sms":
            response["content"] = {"from_number": notification.reply_to, "body": notification.body}
        else:
            response["content"] = {
                "from_email": self.email_from,
                "body": notification.body,
                "subject": notification.subject,
                "one_click_unsubscribe_url": unsubscribe.get("one_click_unsubscribe_url"),
            }
        return response

    def public_status(self, notification: Notification) -> str:
        """The status the API shows: letters say "accepted" and "received" (get_letter_status)."""
        if notification.type != "letter":
            return notification.status
        if notification.status in ("created", "sending"):
            return "accepted"
        if notification.status in ("delivered", "returned-letter"):
            return "received"
        return notification.status

    def serialise(self, notification: Notification) -> dict[str, Any]:
        """Notification.serialize_with_cost_data, as GET /v2/notifications[/{id}] return it."""
        n = notification
        lines = [n.personalisation.get(f"address_line_{i}") for i in range(1, 7)]
        letter = n.type == "letter"
        completed = n.status in COMPLETED_STATUSES and n.updated_at is not None
        serialised: dict[str, Any] = {
            "id": n.id,
            "reference": n.reference,
            "email_address": n.to if n.type == "email" else None,
            "phone_number": n.to if n.type == "sms" else None,
            **{f"line_{i}": (lines[i - 1] if letter else None) for i in range(1, 7)},
            "postcode": n.personalisation.get("postcode") if letter else None,
            "type": n.type,
            "status": self.public_status(n),
            "template": {
                "version": n.template.version,
                "id": n.template.id,
                "uri": self._template_uri(n.template, v2_response=False),
            },
            "body": n.body,
            "subject": n.subject,
            "created_at": timestamp(n.created_at),
            "created_by_name": None,
            "sent_at": timestamp(n.sent_at),
            "completed_at": timestamp(n.updated_at) if completed else None,
            "scheduled_for": None,
            "postage": n.postage,
            "one_click_unsubscribe_url": None,
        }
        if letter:
            days = LETTER_DAYS.get(n.postage or "second", 4)
            serialised["estimated_delivery"] = timestamp(_working_days_later(n.created_at, days))
        serialised.update(self._cost(n))
        return serialised

    def _cost(self, n: Notification) -> dict[str, Any]:
        if n.type == "email":
            return {"cost_details": {}, "cost_in_pounds": 0.0, "is_cost_data_ready": True}
        not_ready = {"cost_details": {}, "cost_in_pounds": None, "is_cost_data_ready": False}
        if n.type == "sms":
            if n.status == "created" and not n.billable_units:
                return not_ready
            return {
                "cost_details": {
                    "billable_sms_fragments": n.billable_units,
                    "international_rate_multiplier": 1.0,
                    "sms_rate": SMS_RATE_POUNDS,
                },
                "cost_in_pounds": n.billable_units * SMS_RATE_POUNDS,
                "is_cost_data_ready": True,
            }
        if n.status == "pending-virus-check" or (n.status == "created" and not n.billable_units):
            return not_ready
        sheets = 0 if n.status in LETTER_NEVER_SENT else n.billable_units
        rate = LETTER_SHEET_POUNDS.get(n.postage or "second", 0.68)
        return {
            "cost_details": {"billable_sheets_of_paper": sheets, "postage": n.postage},
            "cost_in_pounds": round(sheets * rate, 2),
            "is_cost_data_ready": True,
        }
