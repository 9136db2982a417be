"""A local stand-in for GOV.UK Notify's API v2, for tests.

The real `notifications_python_client.NotificationsAPIClient(standin.api_key,
base_url=standin.url)` talks to it over real HTTP, so the JWT, the JSON, the timeouts and the
error classes under test are the library's own. Shapes follow alphagov/notifications-api (v2
schemas, create_response.py, Notification.serialize_with_cost_data, app/v2/errors.py,
app/authentication/auth.py, service_callback_tasks.py).

What it covers:

- Authentication as Notify's: `Authorization: Bearer <JWT>`, HS256 with the key's secret,
  `iss` the service id, `iat` within 30 seconds (checked with the client library's own
  `decode_jwt_token`, as Notify does). Keys are `{name}-{service_id}-{secret}`; the service
  has a live key (`api_key`), a team key (`team_api_key`: only to `guest_list`, no letters)
  and a test key (`test_api_key`: nothing is sent, everything is "delivered", and lists show
  only test-key notifications, as on Notify). No header is a 401, a bad token a 403, with
  Notify's `AuthError` body and words; `revoke(key)` withdraws a key.
- `POST /v2/notifications/sms` and `/email`: the schema's checks with Notify's messages (every
  problem at once), then template found and of the right type, personalisation present for
  every `((placeholder))`, a known `sms_sender_id` / `email_reply_to_id`, a recipient Notify
  can send to (a UK mobile; landlines and international numbers are refused as for a service
  without those permissions), and at most 918 characters of text. 201 with Notify's body.
  The service has a text template "((body))" (`sms_template_id`) and an email template
  "((subject))" / "((body))" (`email_template_id`); `add_template()` makes more.
- `POST /v2/notifications/letter` with `content` (precompiled): base64 that does not decode is
  a 400, as on Notify; anything else is accepted (201 `{id, reference, postage}`, status
  `pending-virus-check`) and then checked (letters.py): a PDF that is not readable, not A4,
  longer than 10 pages or has nothing in the address block ends `validation-failed`, with
  template-preview's reason in `validation_failure`. A good one is "accepted", addressed to
  the address block's text. The check runs at once unless the stand-in was made with
  `check_letters_at_once=False`; then `check_letters()` runs it.
- `GET /v2/notifications/{id}` and `GET /v2/notifications` (`reference`, `status`,
  `template_type`, `older_than`; newest first, 250 a page, `links.current` and
  `links.next`), in Notify's shape with cost data. Letters show "accepted" and "received" for
  created/sending and delivered, as Notify does. `GET /v2/received-text-messages` too.
- Faults on demand, for any path prefix, optionally by method: `fail_next()` (Notify's error
  bodies: 429 `RateLimitError` or `TooManyRequestsError`, 500, 504; 502/503 as the load
  balancer's HTML) before any work, and `hang_next()` (by default Notify does the work and the
  reply is lost past the client's timeout; `lose_reply=False` holds the request first: a slow
  reply).
- Afterwards: `delivery_receipt(id, status)` and `returned_letter(id)` change the status and
  return the body Notify POSTs to the service's callback; `inbound_text(number, message)`
  the received-text body; `post_callback(url, token, payload)` POSTs one as Notify does.
- For tests: `sent(type)` (the notifications, oldest first, with `to`, `body`, `pdf`, ...),
  `requests` and `requests_to(path, method)`, `wait_idle()`, `reset()`, `env()` (the
  NOTIFY_* settings that point Coprod here).

Not covered: templated letters, scheduled sending, files by email, PDFs of letters
(`GET .../pdf`), the printable-area and font checks of precompiled letters, simulated
numbers, templates endpoints. Prices in the cost fields are the stand-in's own.

Where it lives: `wire` (Notify's conventions: error bodies, schema and recipient checks,
placeholders, records), `auth` (tokens), `letters` (the PDF check), `state` (the service and
what it holds), `notifications` (the endpoints), `callbacks` (what Notify sends back) and
`server` (`NotifyStandIn`: lifecycle, faults, routing, the HTTP handler).
"""

from tests.notify_standin.callbacks import RECEIPT_STATUSES
from tests.notify_standin.letters import A4_HEIGHT_PT, A4_WIDTH_PT, MAX_PAGES, check_letter
from tests.notify_standin.server import NotifyStandIn, running_standin
from tests.notify_standin.wire import (
    DATETIME_FORMAT,
    DEFAULT_CALLBACK_TOKEN,
    DEFAULT_EMAIL_TEMPLATE_ID,
    DEFAULT_SERVICE_ID,
    DEFAULT_SMS_TEMPLATE_ID,
    SMS_CHAR_COUNT_LIMIT,
    Notification,
    RequestRecord,
)

__all__ = [
    "A4_HEIGHT_PT",
    "A4_WIDTH_PT",
    "DATETIME_FORMAT",
    "DEFAULT_CALLBACK_TOKEN",
    "DEFAULT_EMAIL_TEMPLATE_ID",
    "DEFAULT_SERVICE_ID",
    "DEFAULT_SMS_TEMPLATE_ID",
    "MAX_PAGES",
    "RECEIPT_STATUSES",
    "SMS_CHAR_COUNT_LIMIT",
    "Notification",
    "NotifyStandIn",
    "RequestRecord",
    "check_letter",
    "running_standin",
]
