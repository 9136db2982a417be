"""The real GOV.UK Notify client (notifications-python-client) against the Notify stand-in.

These pin down what Coprod's Notify integration may rely on, and that the stand-in answers as
Notify does: the shapes of every response (checked against Notify's v2 schemas, field by field),
JWT authentication, Notify's validation messages, faults and lost replies (found again by
reference), precompiled letters checked as Notify checks them, and the callbacks Notify sends.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import requests
from notifications_python_client import NotificationsAPIClient
from notifications_python_client.errors import HTTP503Error, HTTPError
from reportlab.lib.pagesizes import A4, letter
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from tests.notify_standin import (
    DATETIME_FORMAT,
    SMS_CHAR_COUNT_LIMIT,
    NotifyStandIn,
    running_standin,
)

MOBILE = "07700 900123"
NORMALISED_MOBILE = "447700900123"
ADDRESS = ["Ada Able", "1 High Street", "Leeds", "LS1 1AA"]

# Notify's v2 response schemas (app/v2/notifications/notification_schemas.py and
# Notification.serialize_with_cost_data), as field -> allowed JSON types.
STR, NULL, INT, OBJ, NUM, BOOL = str, type(None), int, dict, float, bool
TEMPLATE_REF = {"id": (STR,), "version": (INT,), "uri": (STR,)}
POST_SMS = {
    "id": (STR,),
    "reference": (STR, NULL),
    "content": (OBJ,),
    "uri": (STR,),
    "template": (OBJ,),
    "scheduled_for": (STR, NULL),
}
SMS_CONTENT = {"body": (STR,), "from_number": (STR,)}
EMAIL_CONTENT = {
    "body": (STR,),
    "subject": (STR,),
    "from_email": (STR,),
    "one_click_unsubscribe_url": (STR, NULL),
}
PRECOMPILED = {"id": (STR,), "reference": (STR,), "postage": (STR,)}
NOTIFICATION = {
    "id": (STR,),
    "reference": (STR, NULL),
    "email_address": (STR, NULL),
    "phone_number": (STR, NULL),
    **{f"line_{i}": (STR, NULL) for i in range(1, 7)},
    "postcode": (STR, NULL),
    "type": (STR,),
    "status": (STR,),
    "template": (OBJ,),
    "body": (STR,),
    "subject": (STR, NULL),
    "created_at": (STR,),
    "created_by_name": (STR, NULL),
    "sent_at": (STR, NULL),
    "completed_at": (STR, NULL),
    "scheduled_for": (STR, NULL),
    "postage": (STR, NULL),
    "one_click_unsubscribe_url": (STR, NULL),
    "cost_details": (OBJ,),
    "cost_in_pounds": (NUM, INT, NULL),
    "is_cost_data_ready": (BOOL,),
}
LETTER_NOTIFICATION = {**NOTIFICATION, "estimated_delivery": (STR,)}
DELIVERY_CALLBACK = {
    "id": (STR,),
    "reference": (STR, NULL),
    "to": (STR,),
    "status": (STR,),
    "created_at": (STR,),
    "completed_at": (STR, NULL),
    "sent_at": (STR, NULL),
    "notification_type": (STR,),
    "template_id": (STR,),
    "template_version": (INT,),
}
INBOUND_CALLBACK = {
    "id": (STR,),
    "source_number": (STR,),
    "destination_number": (STR,),
    "message": (STR,),
    "date_received": (STR,),
}


def assert_shape(obj: dict[str, Any], shape: dict[str, tuple[type, ...]]) -> None:
    """Exactly the schema's fields, each of an allowed type (bool is not an int here)."""
    assert set(obj) == set(shape), f"extra {set(obj) - set(shape)}, missing {set(shape) - set(obj)}"
    for name, kinds in shape.items():
        value = obj[name]
        ok = any(type(value) is kind for kind in kinds)
        assert ok, f"{name}={value!r} is not one of {kinds}"


def assert_timestamp(value: str) -> None:
    import datetime as dt

    dt.datetime.strptime(value, DATETIME_FORMAT)


def errors(error: HTTPError) -> list[tuple[str, str]]:
    return [(e["error"], e["message"]) for e in error.message]  # type: ignore[union-attr]


@pytest.fixture
def client(notify_standin: NotifyStandIn) -> NotificationsAPIClient:
    return NotificationsAPIClient(notify_standin.api_key, base_url=notify_standin.url, timeout=5)


def send_text(client: NotificationsAPIClient, standin: NotifyStandIn, **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "phone_number": MOBILE,
        "template_id": standin.sms_template_id,
        "personalisation": {"body": "Your booking is confirmed."},
        "reference": "outbox-1",
    }
    options.update(kwargs)
    return client.send_sms_notification(**options)


def pdf(
    *,
    pages: int = 1,
    size: tuple[float, float] = A4,
    address: list[str] | None = ADDRESS,
) -> io.BytesIO:
    """A letter drawn with reportlab, the address in Notify's address block."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=size)
    for number in range(pages):
        if number == 0 and address:
            y = size[1] - 44 * mm
            for line in address:
                page.drawString(26 * mm, y, line)
                y -= 4.5 * mm
        page.drawString(20 * mm, size[1] - 110 * mm, f"Page {number + 1}")
        page.showPage()
    page.save()
    out.seek(0)
    return out


# ------------------------------------------------------------------------- text messages


def test_a_text_message_gets_notifys_response_and_reads_back_as_created(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    sent = send_text(client, notify_standin, personalisation={"body": "Hello Ada"})

    assert_shape(sent, POST_SMS)
    assert_shape(sent["content"], SMS_CONTENT)
    assert_shape(sent["template"], TEMPLATE_REF)
    assert sent["content"] == {"body": "Hello Ada", "from_number": "Coprod"}
    assert sent["reference"] == "outbox-1"
    assert sent["uri"] == f"{notify_standin.url}/v2/notifications/{sent['id']}"
    assert sent["template"]["id"] == notify_standin.sms_template_id
    assert sent["template"]["version"] == 1

    read = client.get_notification_by_id(sent["id"])
    assert_shape(read, NOTIFICATION)
    assert read["type"] == "sms"
    assert read["status"] == "created"
    assert read["phone_number"] == NORMALISED_MOBILE
    assert read["email_address"] is None and read["line_1"] is None
    assert read["body"] == "Hello Ada" and read["subject"] is None
    assert read["sent_at"] is None and read["completed_at"] is None
    assert read["is_cost_data_ready"] is False and read["cost_in_pounds"] is None
    assert_timestamp(read["created_at"])
    [made] = notify_standin.sent("sms")
    assert (made.id, made.to, made.body) == (sent["id"], NORMALISED_MOBILE, "Hello Ada")


def test_a_known_sender_id_sets_the_from_number_and_an_unknown_one_is_refused(
    notify_standin: NotifyStandIn,
) -> None:
    with running_standin(sms_senders={"5ae1d5f6-0d5f-4f47-9d4e-1b2c3d4e5f60": "Northshire"}) as s:
        client = NotificationsAPIClient(s.api_key, base_url=s.url)
        sent = send_text(client, s, sms_sender_id="5ae1d5f6-0d5f-4f47-9d4e-1b2c3d4e5f60")
        assert sent["content"]["from_number"] == "Northshire"

        unknown = "00000000-0000-4000-8000-000000000000"
        with pytest.raises(HTTPError) as refused:
            send_text(client, s, sms_sender_id=unknown)
        assert refused.value.status_code == 400
        assert errors(refused.value) == [
            (
                "BadRequestError",
                f"sms_sender_id {unknown} does not exist in database for service id {s.service_id}",
            )
        ]
        assert len(s.sent()) == 1


def test_uk_mobiles_in_any_usual_form_are_stored_as_notify_stores_them(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    forms = [
        "07700 900123",
        "+44 7700 900123",
        "+44 (0)7700-900123",
        "447700900123",
        "0044 7700 900123",
    ]
    for number in forms:
        sent = send_text(client, notify_standin, phone_number=number)
        assert client.get_notification_by_id(sent["id"])["phone_number"] == NORMALISED_MOBILE


@pytest.mark.parametrize(
    ("number", "error", "message"),
    [
        ("07700 90012", "ValidationError", "phone_number Not enough digits"),
        ("07700 9001234", "ValidationError", "phone_number Too many digits"),
        ("07700 9OO123", "ValidationError", "phone_number Must not contain letters or symbols"),
        ("0113 496 0000", "InvalidPhoneError", "Not a UK mobile number"),
        ("+33 6 12 34 56 78", "BadRequestError", "Cannot send to international mobile numbers"),
    ],
)
def test_numbers_notify_cannot_text_are_refused_in_its_words(
    client: NotificationsAPIClient,
    notify_standin: NotifyStandIn,
    number: str,
    error: str,
    message: str,
) -> None:
    with pytest.raises(HTTPError) as refused:
        send_text(client, notify_standin, phone_number=number)

    assert refused.value.status_code == 400
    assert errors(refused.value) == [(error, message)]
    assert notify_standin.sent() == []


def test_every_schema_problem_is_reported_at_once(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    with pytest.raises(HTTPError) as refused:
        client.post(
            "/v2/notifications/sms",
            {"phone_number": "123", "template_id": "not-a-uuid", "colour": "blue"},
        )

    assert refused.value.status_code == 400
    assert errors(refused.value) == [
        ("ValidationError", "phone_number Not enough digits"),
        ("ValidationError", "template_id is not a valid UUID"),
        ("ValidationError", "Additional properties are not allowed (colour was unexpected)"),
    ]
    with pytest.raises(HTTPError) as missing:
        client.post("/v2/notifications/email", {})
    assert errors(missing.value) == [
        ("ValidationError", "email_address is a required property"),
        ("ValidationError", "template_id is a required property"),
    ]


def test_template_and_personalisation_problems(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    cases = [
        ({"template_id": "00000000-0000-4000-8000-000000000000"}, "Template not found"),
        ({"personalisation": {"name": "Ada"}}, "Missing personalisation: body"),
        (
            {"template_id": notify_standin.email_template_id},
            "email template is not suitable for sms notification",
        ),
        ({"personalisation": {"body": " "}}, "Your message is empty."),
    ]
    for change, message in cases:
        with pytest.raises(HTTPError) as refused:
            send_text(client, notify_standin, **change)
        assert errors(refused.value) == [("BadRequestError", message)], change
    assert notify_standin.sent() == []


def test_a_text_longer_than_918_characters_is_refused_and_918_is_sent(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    send_text(client, notify_standin, personalisation={"body": "a" * SMS_CHAR_COUNT_LIMIT})

    with pytest.raises(HTTPError) as refused:
        send_text(client, notify_standin, personalisation={"body": "a" * 917 + "€"})
    assert errors(refused.value) == [
        (
            "BadRequestError",
            "Your message is too long. Text messages cannot be longer than 918 characters. "
            "Your message is 919 characters long.",
        )
    ]
    assert len(notify_standin.sent("sms")) == 1


# ------------------------------------------------------------------------- email


def test_an_email_fills_subject_and_body_and_uses_a_known_reply_to() -> None:
    reply_to_id = "9f0e1d2c-3b4a-4958-8776-655443322110"
    with running_standin(email_reply_to={reply_to_id: "leads@northshire.nhs.uk"}) as s:
        client = NotificationsAPIClient(s.api_key, base_url=s.url)
        sent = client.send_email_notification(
            "ada@example.org",
            s.email_template_id,
            personalisation={"subject": "Your booking", "body": "See you on Monday."},
            reference="outbox-2",
            email_reply_to_id=reply_to_id,
        )
        assert_shape(sent, POST_SMS)
        assert_shape(sent["content"], EMAIL_CONTENT)
        assert sent["content"]["subject"] == "Your booking"
        assert sent["content"]["body"] == "See you on Monday."
        assert sent["content"]["from_email"] == "coprod@notifications.service.gov.uk"

        read = client.get_notification_by_id(sent["id"])
        assert_shape(read, NOTIFICATION)
        assert (read["type"], read["email_address"], read["subject"]) == (
            "email",
            "ada@example.org",
            "Your booking",
        )
        assert read["cost_in_pounds"] == 0.0 and read["is_cost_data_ready"] is True
        assert s.sent("email")[0].reply_to == "leads@northshire.nhs.uk"

        with pytest.raises(HTTPError) as refused:
            client.send_email_notification(
                "ada@", s.email_template_id, personalisation={"subject": "s"}
            )
        assert errors(refused.value) == [
            ("ValidationError", "email_address Not a valid email address")
        ]
        with pytest.raises(HTTPError) as unknown:
            client.send_email_notification(
                "ada@example.org",
                s.email_template_id,
                personalisation={"subject": "s", "body": "b"},
                email_reply_to_id="00000000-0000-4000-8000-000000000000",
            )
        assert (
            "email_reply_to_id 00000000-0000-4000-8000-000000000000 does not exist"
            in (errors(unknown.value)[0][1])
        )
        assert len(s.sent()) == 1


# ------------------------------------------------------------------------- keys


def test_team_and_test_keys_behave_as_on_notify() -> None:
    with running_standin(guest_list=("07700900999",)) as s:
        team = NotificationsAPIClient(s.team_api_key, base_url=s.url)
        with pytest.raises(HTTPError) as refused:
            send_text(team, s)
        assert errors(refused.value) == [
            ("BadRequestError", "Can’t send to this recipient using a team-only API key")  # noqa: RUF001
        ]
        send_text(team, s, phone_number="07700 900999")
        with pytest.raises(HTTPError) as no_letters:
            team.send_precompiled_letter_notification("l-1", pdf())
        assert no_letters.value.status_code == 403
        assert errors(no_letters.value) == [
            ("BadRequestError", "Cannot send letters with a team api key")
        ]

        test = NotificationsAPIClient(s.test_api_key, base_url=s.url)
        tested = send_text(test, s, reference="test-ref")
        assert test.get_notification_by_id(tested["id"])["status"] == "delivered"
        # Lists show only the notifications made with the same type of key.
        live = NotificationsAPIClient(s.api_key, base_url=s.url)
        assert live.get_all_notifications(reference="test-ref")["notifications"] == []
        assert [n["id"] for n in test.get_all_notifications()["notifications"]] == [tested["id"]]


def test_authentication_failures_are_notifys(notify_standin: NotifyStandIn) -> None:
    url = f"{notify_standin.url}/v2/notifications"
    service_id = notify_standin.service_id
    secret = notify_standin.api_key[-36:]

    def status_and_errors(headers: dict[str, str]) -> tuple[int, Any]:
        response = requests.get(url, headers=headers, timeout=5)
        return response.status_code, response.json()

    def bearer(claims: dict[str, Any], key: str = secret) -> dict[str, str]:
        return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='HS256')}"}

    now = int(time.time())
    assert status_and_errors({}) == (
        401,
        {
            "status_code": 401,
            "errors": [
                {
                    "error": "AuthError",
                    "message": "Unauthorized: authentication token must be provided",
                }
            ],
        },
    )
    cases = [
        ({"Authorization": f"Basic {secret}"}, 401, "bearer scheme must be used"),
        ({"Authorization": "Bearer not-a-jwt"}, 403, "Invalid token: make sure your API token"),
        (bearer({"iat": now}), 403, "Invalid token: iss field not provided"),
        (bearer({"iss": service_id, "iat": now}, "x" * 36), 403, "API key not found"),
        (bearer({"iss": service_id, "iat": now - 31}), 403, "accurate to within 30 seconds"),
        (bearer({"iss": service_id, "iat": now + 60}), 403, "accurate to within 30 seconds"),
        (
            bearer({"iss": "00000000-0000-4000-8000-000000000000", "iat": now}),
            403,
            "Invalid token: service not found",
        ),
    ]
    for headers, status, words in cases:
        got_status, body = status_and_errors(headers)
        assert got_status == status, headers
        assert body["status_code"] == status
        [error] = body["errors"]
        assert error["error"] == "AuthError" and words in error["message"], error
    assert status_and_errors(bearer({"iss": service_id, "iat": now - 25}))[0] == 200

    notify_standin.revoke(notify_standin.api_key)
    client = NotificationsAPIClient(notify_standin.api_key, base_url=notify_standin.url)
    with pytest.raises(HTTPError) as revoked:
        client.get_all_notifications()
    assert revoked.value.status_code == 403
    assert errors(revoked.value) == [("AuthError", "Invalid token: API key not found")]
    assert [r.status for r in notify_standin.requests_to("/v2/notifications", "GET")][-1] == 403


# ------------------------------------------------------------------------- reading back


def test_lists_filter_and_page_as_notify_does(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    first = send_text(client, notify_standin, reference="a")
    second = send_text(client, notify_standin, reference="b")
    third = send_text(client, notify_standin, reference="b")
    notify_standin.delivery_receipt(second["id"], "delivered")

    listed = client.get_all_notifications()
    assert [n["id"] for n in listed["notifications"]] == [third["id"], second["id"], first["id"]]
    for notification in listed["notifications"]:
        assert_shape(notification, NOTIFICATION)
    assert listed["links"]["current"] == f"{notify_standin.url}/v2/notifications"
    assert listed["links"]["next"].endswith(f"older_than={first['id']}")

    by_reference = client.get_all_notifications(reference="b")["notifications"]
    assert [n["id"] for n in by_reference] == [third["id"], second["id"]]
    delivered = client.get_all_notifications(status="delivered")["notifications"]
    assert [n["id"] for n in delivered] == [second["id"]]
    assert client.get_all_notifications(template_type="email")["notifications"] == []
    older = client.get_all_notifications(older_than=second["id"])["notifications"]
    assert [n["id"] for n in older] == [first["id"]]
    # The client's iterator follows `links.next` until a page comes back empty.
    assert len(list(client.get_all_notifications_iterator())) == 3

    with pytest.raises(HTTPError) as refused:
        client.get_all_notifications(status="lost")
    assert errors(refused.value)[0][1].startswith("status lost is not one of [cancelled, created")
    with pytest.raises(HTTPError) as missing:
        client.get_notification_by_id("00000000-0000-4000-8000-000000000000")
    assert missing.value.status_code == 404
    assert errors(missing.value) == [("NoResultFound", "No result found")]
    with pytest.raises(HTTPError) as bad_id:
        client.get_notification_by_id("nope")
    assert errors(bad_id.value) == [("ValidationError", "notification_id is not a valid UUID")]


# ------------------------------------------------------------------------- faults


def test_faults_answer_with_notifys_bodies_before_any_work(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    notify_standin.fail_next("/v2/notifications/sms", 500, method="POST")
    notify_standin.fail_next("/v2/notifications/sms", 429)
    notify_standin.fail_next("/v2/notifications/sms", 429, error="TooManyRequestsError")
    notify_standin.fail_next("/v2/notifications/sms", 503)

    seen = []
    for _ in range(4):
        with pytest.raises(HTTPError) as failed:
            send_text(client, notify_standin)
        seen.append((failed.value.status_code, failed.value.message))
    assert seen == [
        (500, [{"error": "Exception", "message": "Internal server error"}]),
        (
            429,
            [
                {
                    "error": "RateLimitError",
                    "message": "Exceeded rate limit for key type LIVE of 3000 requests per 60 "
                    "seconds",
                }
            ],
        ),
        (
            429,
            [
                {
                    "error": "TooManyRequestsError",
                    "message": "Exceeded send limits (sms: 250000) for today",
                }
            ],
        ),
        (503, "Request failed"),
    ]
    assert isinstance(failed.value, HTTP503Error)
    assert notify_standin.sent() == []
    send_text(client, notify_standin)
    records = notify_standin.requests_to("/v2/notifications/sms")
    assert [r.status for r in records] == [500, 429, 429, 503, 201]
    assert records[0].body["reference"] == "outbox-1"


def test_a_lost_reply_leaves_the_notification_made_and_findable_by_reference(
    notify_standin: NotifyStandIn,
) -> None:
    standin = notify_standin
    client = NotificationsAPIClient(standin.api_key, base_url=standin.url, timeout=0.5)
    notify_standin.hang_next("/v2/notifications/sms", seconds=30, method="POST")

    with pytest.raises(HTTP503Error) as lost:
        send_text(client, notify_standin, reference="outbox-77")
    assert lost.value.message == "Request failed"  # the client's words for a timeout

    # The worker's recovery: ask Notify before sending again.
    [found] = client.get_all_notifications(reference="outbox-77")["notifications"]
    [made] = notify_standin.sent()
    assert found["id"] == made.id and found["reference"] == "outbox-77"
    notify_standin.release_hangs()
    notify_standin.wait_idle()
    assert notify_standin.requests_to("/v2/notifications/sms")[0].fault == "hang 30s"


def test_a_slow_reply_arrives_late_but_whole(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    notify_standin.hang_next("/v2/notifications", seconds=0.3, lose_reply=False)

    started = time.monotonic()
    sent = send_text(client, notify_standin)

    assert time.monotonic() - started >= 0.3
    assert client.get_notification_by_id(sent["id"])["status"] == "created"


# ------------------------------------------------------------------------- letters


def test_a_good_precompiled_letter_is_accepted_and_addressed_from_its_address_block(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    sent = client.send_precompiled_letter_notification("letter-1", pdf(pages=3), "first")

    assert_shape(sent, PRECOMPILED)
    assert sent["reference"] == "letter-1" and sent["postage"] == "first"
    read = client.get_notification_by_id(sent["id"])
    assert_shape(read, LETTER_NOTIFICATION)
    assert read["type"] == "letter" and read["status"] == "accepted"
    assert read["line_1"] == "Provided as PDF"  # Notify keeps this; the address goes to `to`
    assert read["subject"] == "Pre-compiled PDF" and read["body"] == ""
    assert read["cost_details"] == {"billable_sheets_of_paper": 2, "postage": "first"}
    assert_timestamp(read["estimated_delivery"])
    [letter_made] = notify_standin.sent("letter")
    assert letter_made.to.splitlines() == ADDRESS
    assert letter_made.page_count == 3 and letter_made.pdf is not None
    assert client.get_all_notifications(status="accepted")["notifications"][0]["id"] == sent["id"]


@pytest.mark.parametrize(
    ("content", "failure"),
    [
        (lambda: pdf(size=letter), "letter-not-a4-portrait-oriented"),
        (lambda: pdf(pages=11), "letter-too-long"),
        (lambda: pdf(address=None), "address-is-empty"),
        (lambda: io.BytesIO(b"Dear Ada, this is not a PDF."), "unable-to-read-the-file"),
    ],
)
def test_a_bad_letter_is_accepted_then_fails_validation(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn, content: Any, failure: str
) -> None:
    sent = client.send_precompiled_letter_notification("letter-2", content())

    assert sent["postage"] == "second"  # Notify's default
    read = client.get_notification_by_id(sent["id"])
    assert read["status"] == "validation-failed"
    assert read["cost_in_pounds"] == 0.0
    assert notify_standin.sent("letter")[0].validation_failure == failure


def test_letters_wait_in_pending_virus_check_until_checked() -> None:
    with running_standin(check_letters_at_once=False) as s:
        client = NotificationsAPIClient(s.api_key, base_url=s.url)
        sent = client.send_precompiled_letter_notification("letter-3", pdf())
        read = client.get_notification_by_id(sent["id"])
        assert read["status"] == "pending-virus-check"
        assert read["is_cost_data_ready"] is False

        assert [n.id for n in s.check_letters()] == [sent["id"]]
        assert client.get_notification_by_id(sent["id"])["status"] == "accepted"


def test_letter_content_notify_cannot_take_is_a_400(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    with pytest.raises(HTTPError) as not_base64:
        client.post("/v2/notifications/letter", {"reference": "l", "content": "abc"})
    assert errors(not_base64.value) == [
        ("BadRequestError", "Cannot decode letter content (invalid base64 encoding)")
    ]
    good = base64.b64encode(pdf().read()).decode()
    with pytest.raises(HTTPError) as bad_postage:
        client.post(
            "/v2/notifications/letter", {"reference": "l", "content": good, "postage": "third"}
        )
    assert errors(bad_postage.value) == [
        ("ValidationError", "postage invalid. It must be either first, second or economy.")
    ]
    with pytest.raises(HTTPError) as no_reference:
        client.post("/v2/notifications/letter", {"content": good})
    assert errors(no_reference.value) == [("ValidationError", "reference is a required property")]
    assert notify_standin.sent() == []


# ------------------------------------------------------------------------- callbacks


def test_delivery_receipts_change_the_status_and_give_notifys_callback_body(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    text = send_text(client, notify_standin)
    payload = notify_standin.delivery_receipt(text["id"], "permanent-failure")

    assert_shape(payload, DELIVERY_CALLBACK)
    assert payload["id"] == text["id"] and payload["reference"] == "outbox-1"
    assert payload["to"] == NORMALISED_MOBILE
    assert payload["status"] == "permanent-failure" and payload["notification_type"] == "sms"
    assert payload["template_id"] == notify_standin.sms_template_id
    for name in ("created_at", "completed_at", "sent_at"):
        assert_timestamp(payload[name])
    read = client.get_notification_by_id(text["id"])
    assert read["status"] == "permanent-failure"
    assert read["completed_at"] == payload["completed_at"]
    assert read["cost_details"]["billable_sms_fragments"] == 1

    letter_sent = client.send_precompiled_letter_notification("letter-4", pdf())
    printed = notify_standin.delivery_receipt(letter_sent["id"], "delivered")
    assert printed["to"].splitlines() == ADDRESS and printed["notification_type"] == "letter"
    assert client.get_notification_by_id(letter_sent["id"])["status"] == "received"
    returned = notify_standin.returned_letter(letter_sent["id"])
    assert returned["notification_id"] == letter_sent["id"]
    assert returned["reference"] == "letter-4"
    with pytest.raises(ValueError, match="does not report 'returned-letter' for sms"):
        notify_standin.delivery_receipt(text["id"], "returned-letter")


def test_inbound_text_payload_and_received_texts(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn
) -> None:
    payload = notify_standin.inbound_text("07700 900123", "1 yes 2 no")

    assert_shape(payload, INBOUND_CALLBACK)
    assert payload["source_number"] == NORMALISED_MOBILE
    assert payload["destination_number"] == notify_standin.inbound_number
    assert payload["message"] == "1 yes 2 no"
    assert_timestamp(payload["date_received"])
    [received] = client.get_received_texts()["received_text_messages"]
    assert received["id"] == payload["id"] and received["content"] == "1 yes 2 no"


class _Receiver(BaseHTTPRequestHandler):
    got: list[tuple[dict[str, str], Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.got.append((dict(self.headers.items()), json.loads(self.rfile.read(length))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], Any]]]]:
    got: list[tuple[dict[str, str], Any]] = []
    handler = type("Receiver", (_Receiver,), {"got": got})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/notify/callback", got
    server.shutdown()
    server.server_close()


def test_post_callback_sends_json_with_the_bearer_token(
    client: NotificationsAPIClient, notify_standin: NotifyStandIn, receiver: Any
) -> None:
    url, got = receiver
    text = send_text(client, notify_standin)
    payload = notify_standin.delivery_receipt(text["id"], "delivered")

    status = notify_standin.post_callback(url, notify_standin.callback_token, payload)

    assert status == 204
    [(headers, body)] = got
    assert headers["Authorization"] == f"Bearer {notify_standin.callback_token}"
    assert headers["Content-Type"] == "application/json"
    assert body == payload


def test_use_notify_points_the_settings_at_the_stand_in(use_notify: NotifyStandIn) -> None:
    import os

    assert os.environ["NOTIFY_API_BASE"] == use_notify.url
    assert os.environ["NOTIFY_API_KEY"] == use_notify.api_key
    assert os.environ["NOTIFY_SMS_TEMPLATE_ID"] == use_notify.sms_template_id
    assert os.environ["NOTIFY_EMAIL_TEMPLATE_ID"] == use_notify.email_template_id
    assert os.environ["NOTIFY_CALLBACK_TOKEN"] == use_notify.callback_token
