"""What Notify tells a service afterwards: delivery receipts, returned letters and received text
messages, as the JSON it POSTs to the service's callback URLs
(app/celery/service_callback_tasks.py), and the POST itself.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.notify_standin.notifications import NotificationsMixin
from tests.notify_standin.wire import new_id, normalise_phone_number, timestamp

# The raw statuses Notify reports in delivery receipts, by notification type.
_FAILURES = {"permanent-failure", "temporary-failure", "technical-failure"}
RECEIPT_STATUSES = {
    # "sent": handed to an international network, which gives no receipt.
    "sms": {"sending", "sent", "delivered", *_FAILURES},
    "email": {"sending", "delivered", *_FAILURES},
    # Printed and posted ("delivered"), or refused by the printer ("technical-failure").
    "letter": {"sending", "delivered", "technical-failure", "cancelled"},
}


class CallbacksMixin(NotificationsMixin):
    def delivery_receipt(self, notification_id: str, status: str) -> dict[str, Any]:
        """Move a notification to `status`, as the provider's receipt does, and return the
        body Notify POSTs to the delivery-status callback (send_delivery_status_to_service)."""
        with self._lock:
            notification = self.notifications[notification_id]
            allowed = RECEIPT_STATUSES[notification.type]
            if status not in allowed:
                raise ValueError(
                    f"Notify does not report {status!r} for {notification.type}: "
                    f"one of {sorted(allowed)}"
                )
            self._set_status(notification, status)
            if notification.type == "letter" and notification.sent_at is None:
                notification.sent_at = notification.updated_at
            return {
                "id": notification.id,
                "reference": notification.reference,
                "to": notification.to,
                "status": notification.status,
                "created_at": timestamp(notification.created_at),
                "completed_at": timestamp(notification.updated_at),
                "sent_at": timestamp(notification.sent_at),
                "notification_type": notification.type,
                "template_id": notification.template.id,
                "template_version": notification.template.version,
            }

    def returned_letter(self, notification_id: str) -> dict[str, Any]:
        """Royal Mail returned a posted letter: its status becomes `returned-letter` (the API
        shows "received") and Notify POSTs this to the returned-letter callback
        (send_returned_letter_to_service; precompiled, so no template name)."""
        with self._lock:
            notification = self.notifications[notification_id]
            if notification.type != "letter":
                raise ValueError("only letters are returned")
            self._set_status(notification, "returned-letter")
            return {
                "notification_id": notification.id,
                "reference": notification.reference,
                "date_sent": timestamp(notification.created_at),
                "sent_by": "API",
                "template_name": None,
                "template_id": "None",
                "template_version": None,
                "spreadsheet_file_name": None,
                "spreadsheet_row_number": None,
                "upload_letter_file_name": None,
            }

    def inbound_text(
        self, source_number: str, message: str, destination_number: str | None = None
    ) -> dict[str, Any]:
        """Someone texted the service's number: the body Notify POSTs to the received text
        messages callback (send_inbound_sms_to_service). The sender's number is normalised
        to Notify's form ("447700900123")."""
        with self._lock:
            received = {
                "id": new_id(),
                "source_number": normalise_phone_number(source_number),
                "destination_number": destination_number or self.inbound_number,
                "message": message,
                "date_received": timestamp(self.now()),
            }
            self.received_texts.append(received)
            return received

    @staticmethod
    def post_callback(
        url: str, bearer_token: str, payload: dict[str, Any], timeout: float = 5
    ) -> int:
        """POST a callback body as Notify does (JSON, `Authorization: Bearer <token>`, five
        second timeout) and return the status code. Notify retries 5xx and 429 answers and
        connection failures, five times, five minutes apart; a test that needs that calls
        this again."""
        response = requests.post(
            url,
            data=json.dumps(payload),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {bearer_token}"},
            timeout=timeout,
        )
        return response.status_code
