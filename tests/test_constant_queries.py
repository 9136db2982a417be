"""Every page and API operation costs the same number of SQL statements at 3 representatives
as at 300.

The lists of what to request come from the app itself (`app.routes` and the API registry), so a
new route is measured as soon as it exists, and one missing from the tables below fails the test.
Each request is made once to warm what is cached per process or per connection, then once
counted (tests/statements.py counts at the driver, BEGIN and COMMIT included).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from starlette.routing import Route

from coprod import clock
from tests import scenes
from tests.conftest import sign_in
from tests.statements import counting


@dataclass(frozen=True)
class Get:
    who: str  # staff, representative or anyone (not signed in)
    url: str  # with {name}s from the scene's ids and tokens
    status: int = 200


# Every page that answers GET, by route path.
PAGES: dict[str, Get] = {
    "/": Get("staff", "/"),
    "/accessibility": Get("anyone", "/accessibility"),
    "/sign-in": Get("anyone", "/sign-in"),
    "/sign-in/link": Get("anyone", "/sign-in/link"),
    "/sign-in/check-email": Get("anyone", "/sign-in/check-email"),
    "/sign-in/link/{token}": Get("anyone", "/sign-in/link/not-a-link", 410),
    "/sign-in/code": Get("anyone", "/sign-in/code"),
    "/sign-in/code/{token}": Get("anyone", "/sign-in/code/not-a-code", 410),
    "/password-reset": Get("anyone", "/password-reset"),
    "/password-reset/{token}": Get("anyone", "/password-reset/not-a-link", 410),
    "/organisations": Get("staff", "/organisations"),
    "/account": Get("staff", "/account"),
    "/admin/teams": Get("staff", "/admin/teams"),
    "/admin/audit": Get("staff", "/admin/audit"),
    "/admin/outbox": Get("staff", "/admin/outbox"),
    "/admin/api-tokens": Get("staff", "/admin/api-tokens"),
    "/representatives": Get("staff", "/representatives"),
    "/representatives/new": Get("staff", "/representatives/new"),
    "/representatives/{id:int}": Get("staff", "/representatives/{representative}"),
    "/representatives/{id:int}/edit": Get("staff", "/representatives/{representative}/edit"),
    "/representatives/{id:int}/break": Get("staff", "/representatives/{representative}/break"),
    "/representatives/{id:int}/health": Get("staff", "/representatives/{representative}/health"),
    "/representatives/{id:int}/health/{episode_id:int}": Get(
        "staff", "/representatives/{representative}/health/{episode}"
    ),
    "/representatives/{id:int}/equality": Get(
        "staff", "/representatives/{representative}/equality"
    ),
    "/representatives/{id:int}/contracts/new": Get(
        "staff", "/representatives/{representative}/contracts/new"
    ),
    "/contracts/{id:int}/renew": Get("staff", "/contracts/{contract}/renew"),
    "/contracts/{id:int}/end": Get("staff", "/contracts/{contract}/end"),
    "/contracts/{id:int}/catch-ups": Get("staff", "/contracts/{contract}/catch-ups"),
    "/catch-ups": Get("staff", "/catch-ups"),
    "/consents/review": Get("staff", "/consents/review"),
    "/my/profile": Get("representative", "/my/profile"),
    "/my/profile/edit": Get("representative", "/my/profile/edit"),
    "/my/profile/break": Get("representative", "/my/profile/break"),
    "/my/profile/health": Get("representative", "/my/profile/health"),
    "/my/profile/health/{episode_id:int}": Get("representative", "/my/profile/health/{episode}"),
    "/my/profile/equality": Get("representative", "/my/profile/equality"),
    "/projects": Get("staff", "/projects"),
    "/projects/{id:int}": Get("staff", "/projects/{project}"),
    "/teams/{id:int}/feedback/new": Get("staff", "/teams/{team}/feedback/new"),
    "/teams/{id:int}/actions": Get("staff", "/teams/{team}/actions"),
    "/teams/{id:int}/actions/new": Get(
        "staff", "/teams/{team}/actions/new?response_ids={response}"
    ),
    "/actions/{id:int}": Get("staff", "/actions/{action}"),
    "/you-said-we-did/{org_slug}/{team_id:int}": Get(
        "anyone", "/you-said-we-did/{org_slug}/{team}"
    ),
    "/you-said-we-did/{org_slug}/{team_id:int}/poster": Get(
        "anyone", "/you-said-we-did/{org_slug}/{team}/poster"
    ),
    "/activities": Get("staff", "/activities"),
    "/activities/new": Get("staff", "/activities/new"),
    "/activities/{id:int}": Get("staff", "/activities/{activity}"),
    "/activities/{id:int}/finalise": Get(
        "staff", "/activities/{planning}/finalise?option_id={option}"
    ),
    "/activities/{id:int}/answers/{invitation_id:int}": Get(
        "staff", "/activities/{planning}/answers/{invitation}"
    ),
    "/answer/{token}": Get("anyone", "/answer/{answer}"),
    "/bookings/{id:int}": Get("staff", "/bookings/{booking}"),
    "/bookings/{id:int}/cancel": Get("staff", "/bookings/{booking}/cancel"),
    "/arrangements/overdue": Get("staff", "/arrangements/overdue"),
    "/call-list": Get("staff", "/call-list"),
    "/contracts/{id:int}/book-catch-up": Get("staff", "/contracts/{contract}/book-catch-up"),
    "/my/bookings": Get("representative", "/my/bookings"),
    "/my/bookings/{id:int}/feedback": Get("representative", "/my/bookings/{past_booking}/feedback"),
    "/my/calendar": Get("representative", "/my/calendar"),
    "/calendar/{token}.ics": Get("anyone", "/calendar/{calendar}.ics"),
    "/tech-test/{token}": Get("anyone", "/tech-test/{tech_test}"),
    "/claims": Get("staff", "/claims"),
    "/claims/{id:int}": Get("staff", "/claims/{claim}"),
    "/my/claims": Get("representative", "/my/claims"),
    "/my/claims/{id:int}": Get("representative", "/my/claims/{claim}"),
    "/receipts/{id:int}": Get("staff", "/receipts/{expense}", 404),
    "/finance": Get("staff", "/finance"),
    "/finance/exports/{id:int}.csv": Get("staff", "/finance/exports/{payroll_export}.csv"),
    "/finance/pay-elements": Get("staff", "/finance/pay-elements"),
    "/representatives/{id:int}/messages": Get(
        "staff", "/representatives/{representative}/messages"
    ),
    "/representatives/{id:int}/messages/{message_id:int}/letter.pdf": Get(
        "staff", "/representatives/{representative}/messages/{letter}/letter.pdf"
    ),
    "/representatives/{id:int}/payments": Get(
        "staff", "/representatives/{representative}/payments"
    ),
    # The scene holds no differences (they come from Stripe); tests/test_reconciliation.py
    # measures these pages at 3 and at 30 of them.
    "/finance/reconciliation": Get("staff", "/finance/reconciliation"),
    "/finance/reconciliation/{id:int}": Get("staff", "/finance/reconciliation/{claim}", 404),
    "/my/payments": Get("representative", "/my/payments"),
    "/my/statement": Get("representative", "/my/statement"),
    "/representatives/{id:int}/statement": Get(
        "staff", "/representatives/{representative}/statement"
    ),
    "/admin/rates": Get("staff", "/admin/rates"),
    "/outreach": Get("staff", "/outreach"),
    "/recruitment": Get("staff", "/recruitment"),
    "/outreach/new": Get("staff", "/outreach/new"),
    "/outreach/{id:int}": Get("staff", "/outreach/{outreach}"),
    "/reports": Get("staff", "/reports"),
    "/reports/networks/{id:int}": Get("staff", "/reports/networks/{network}"),
    "/reports/population": Get("staff", "/reports/population"),
    "/networks": Get("staff", "/networks"),
    "/networks/{id:int}": Get("staff", "/networks/{network}"),
    "/healthz": Get("anyone", "/healthz"),
    "/teams/{id:int}/standards": Get("staff", "/teams/{team}/standards"),
    "/teams/{id:int}/standards/{number:int}": Get("staff", "/teams/{team}/standards/{standard}"),
    "/teams/{id:int}/standards.csv": Get("staff", "/teams/{team}/standards.csv"),
    "/teams/{id:int}/standards/print": Get("staff", "/teams/{team}/standards/print"),
    "/feedback": Get("staff", "/feedback"),
    "/teams/{id:int}/feedback": Get("staff", "/teams/{team}/feedback"),
    "/surveys": Get("staff", "/surveys"),
    "/surveys/new": Get("staff", "/surveys/new"),
    "/surveys/{id:int}": Get("staff", "/surveys/{survey}"),
    "/surveys/{id:int}/questions/{question_id:int}": Get(
        "staff", "/surveys/{draft_survey}/questions/{draft_question}"
    ),
    "/surveys/{id:int}/results": Get("staff", "/surveys/{survey}/results"),
    "/surveys/{id:int}/contact-details": Get("staff", "/surveys/{survey}/contact-details"),
    "/surveys/{id:int}/paper-answers/new": Get("staff", "/surveys/{survey}/paper-answers/new"),
    "/surveys/{id:int}/qr.svg": Get("staff", "/surveys/{survey}/qr.svg"),
    "/surveys/{id:int}/poster": Get("staff", "/surveys/{survey}/poster"),
    "/surveys/{id:int}/paper": Get("staff", "/surveys/{survey}/paper?print=easy-read"),
    "/courses": Get("staff", "/courses"),
    "/courses/new": Get("staff", "/courses/new"),
    "/courses/{id:int}": Get("staff", "/courses/{course}"),
    "/courses/{id:int}/edit": Get("staff", "/courses/{course}/edit"),
    "/bookings/{id:int}/course-place": Get("staff", "/bookings/{course_booking}/course-place"),
    "/representatives/{id:int}/training": Get(
        "staff", "/representatives/{representative}/training"
    ),
    "/my/training": Get("representative", "/my/training"),
    "/s/{token}": Get("anyone", "/s/{survey_link}"),
    "/s/{token}/thanks": Get("anyone", "/s/{survey_link}/thanks"),
    "/opportunities": Get("staff", "/opportunities"),
    "/opportunities/new": Get("staff", "/opportunities/new"),
    "/opportunities/{id:int}": Get("staff", "/opportunities/{opportunity}"),
    "/opportunities/{id:int}/edit": Get("staff", "/opportunities/{opportunity}/edit"),
    "/join/{org_slug}": Get("anyone", "/join/{org_slug}"),
    "/join/{org_slug}/opportunities/{id:int}": Get(
        "anyone", "/join/{org_slug}/opportunities/{opportunity}"
    ),
    "/join/{org_slug}/opportunities/{id:int}/easy-read": Get(
        "anyone", "/join/{org_slug}/opportunities/{opportunity}/easy-read"
    ),
    "/join/{org_slug}/opportunities/{id:int}/large-print": Get(
        "anyone", "/join/{org_slug}/opportunities/{opportunity}/large-print"
    ),
    "/join/{org_slug}/opportunities/{id:int}/qr.svg": Get(
        "anyone", "/join/{org_slug}/opportunities/{opportunity}/qr.svg"
    ),
    "/join/networks/{network_id:int}": Get("anyone", "/join/networks/{network}"),
    "/join/{org_slug}/interest": Get("anyone", "/join/{org_slug}/interest"),
    "/join/{org_slug}/interest/thanks": Get(
        "anyone", "/join/{org_slug}/interest/thanks?about_you={interest_equality}"
    ),
    "/join/{org_slug}/interest/{token}/about-you": Get(
        "anyone", "/join/{org_slug}/interest/{interest_equality}/about-you"
    ),
    "/interests": Get("staff", "/interests"),
    "/interests/new": Get("staff", "/interests/new"),
    "/interests/{id:int}": Get("staff", "/interests/{interest}"),
    "/interests/{id:int}/chat": Get("staff", "/interests/{interest}/chat"),
    "/interests/{id:int}/details": Get("staff", "/interests/{interest}/details"),
    "/interests/{id:int}/welcome": Get("staff", "/interests/{interest_chatted}/welcome"),
    "/interests/{id:int}/ready": Get("staff", "/interests/{interest_welcomed}/ready"),
    "/interests/{id:int}/close": Get("staff", "/interests/{interest}/close"),
    "/interests/{id:int}/equality": Get("staff", "/interests/{interest}/equality"),
}

A = "/api/v1"

# Every API operation that reads, by path.
API_READS: dict[str, Get] = {
    f"{A}/surveys": Get("staff", f"{A}/surveys"),
    f"{A}/surveys/{{id:int}}": Get("staff", f"{A}/surveys/{{survey}}"),
    f"{A}/surveys/{{id:int}}/responses": Get(
        "staff", f"{A}/surveys/{{survey}}/responses?contact=true"
    ),
    f"{A}/surveys/{{id:int}}/results": Get("staff", f"{A}/surveys/{{survey}}/results"),
    f"{A}/opportunities": Get("staff", f"{A}/opportunities"),
    f"{A}/opportunities/{{id:int}}": Get("staff", f"{A}/opportunities/{{opportunity}}"),
    f"{A}/teams/{{id:int}}/feedback-targets": Get("staff", f"{A}/teams/{{team}}/feedback-targets"),
    f"{A}/courses": Get("staff", f"{A}/courses"),
    f"{A}/courses/{{id:int}}": Get("staff", f"{A}/courses/{{course}}"),
    f"{A}/bookings/{{id:int}}/course-place": Get(
        "staff", f"{A}/bookings/{{course_booking}}/course-place"
    ),
    f"{A}/representatives/{{id:int}}/training": Get(
        "staff", f"{A}/representatives/{{representative}}/training"
    ),
    f"{A}/my/training": Get("representative", f"{A}/my/training"),
    f"{A}/reconciliation-items": Get("staff", f"{A}/reconciliation-items"),
    f"{A}/reconciliation-items/{{id:int}}": Get(
        "staff", f"{A}/reconciliation-items/{{claim}}", 404
    ),
    f"{A}/interests": Get("staff", f"{A}/interests?limit=200"),
    f"{A}/interests/{{id:int}}": Get("staff", f"{A}/interests/{{interest}}"),
    f"{A}/me": Get("staff", f"{A}/me"),
    f"{A}/organisations/{{id:int}}": Get("staff", f"{A}/organisations/{{organisation}}"),
    f"{A}/teams": Get("staff", f"{A}/teams"),
    f"{A}/audit-events": Get("staff", f"{A}/audit-events"),
    f"{A}/outbox": Get("staff", f"{A}/outbox"),
    f"{A}/api-tokens": Get("staff", f"{A}/api-tokens"),
    f"{A}/openapi.json": Get("anyone", f"{A}/openapi.json"),
    f"{A}/activities": Get("staff", f"{A}/activities"),
    f"{A}/activities/{{id:int}}": Get("staff", f"{A}/activities/{{activity}}"),
    f"{A}/activities/{{id:int}}/bookings": Get("staff", f"{A}/activities/{{activity}}/bookings"),
    f"{A}/activities/{{id:int}}/people-to-add": Get(
        "staff", f"{A}/activities/{{activity}}/people-to-add"
    ),
    f"{A}/bookings/{{id:int}}": Get("staff", f"{A}/bookings/{{booking}}"),
    f"{A}/my/bookings": Get("representative", f"{A}/my/bookings"),
    f"{A}/activity-feedback": Get("staff", f"{A}/activity-feedback?limit=200"),
    f"{A}/activity-feedback/{{id:int}}": Get(
        "staff", f"{A}/activity-feedback/{{activity_feedback}}"
    ),
    f"{A}/bookings/{{id:int}}/wellbeing-checks": Get(
        "staff", f"{A}/bookings/{{booking}}/wellbeing-checks"
    ),
    f"{A}/bookings/{{id:int}}/arrangements": Get("staff", f"{A}/bookings/{{booking}}/arrangements"),
    f"{A}/arrangements/overdue": Get("staff", f"{A}/arrangements/overdue"),
    f"{A}/representatives/{{id:int}}/calendar.ics": Get(
        "staff", f"{A}/representatives/{{representative}}/calendar.ics"
    ),
    f"{A}/my/calendar-feed": Get("representative", f"{A}/my/calendar-feed"),
    f"{A}/call-list": Get("staff", f"{A}/call-list"),
    f"{A}/representatives/{{id:int}}/messages": Get(
        "staff", f"{A}/representatives/{{representative}}/messages"
    ),
    f"{A}/representatives/{{id:int}}/messages/{{message_id:int}}/letter.pdf": Get(
        "staff", f"{A}/representatives/{{representative}}/messages/{{letter}}/letter.pdf"
    ),
    f"{A}/transcriptions": Get("staff", f"{A}/transcriptions"),
    f"{A}/claims": Get("staff", f"{A}/claims"),
    f"{A}/claims/{{id:int}}": Get("staff", f"{A}/claims/{{claim}}"),
    f"{A}/representatives/{{id:int}}/contracts": Get(
        "staff", f"{A}/representatives/{{representative}}/contracts"
    ),
    f"{A}/contracts/{{id:int}}": Get("staff", f"{A}/contracts/{{contract}}"),
    f"{A}/contracts/{{id:int}}/catch-ups": Get("staff", f"{A}/contracts/{{contract}}/catch-ups"),
    f"{A}/catch-ups": Get("staff", f"{A}/catch-ups"),
    f"{A}/rate-card": Get("staff", f"{A}/rate-card"),
    f"{A}/representatives/{{id:int}}/statement": Get(
        "staff", f"{A}/representatives/{{representative}}/statement"
    ),
    f"{A}/representatives/{{id:int}}/statement/csv": Get(
        "staff", f"{A}/representatives/{{representative}}/statement/csv"
    ),
    f"{A}/earnings-limits": Get("staff", f"{A}/earnings-limits"),
    f"{A}/representatives/{{id:int}}/earnings-limit": Get(
        "staff", f"{A}/representatives/{{representative}}/earnings-limit"
    ),
    f"{A}/claims/{{id:int}}/expenses": Get("staff", f"{A}/claims/{{claim}}/expenses"),
    f"{A}/expenses/{{id:int}}/receipt": Get("staff", f"{A}/expenses/{{expense}}/receipt", 404),
    f"{A}/networks": Get("staff", f"{A}/networks"),
    f"{A}/networks/{{id:int}}/members": Get("staff", f"{A}/networks/{{network}}/members"),
    f"{A}/networks/{{id:int}}/people": Get("staff", f"{A}/networks/{{network}}/people"),
    f"{A}/representatives/{{id:int}}/payout-method": Get(
        "staff", f"{A}/representatives/{{representative}}/payout-method"
    ),
    f"{A}/payments/configuration": Get("staff", f"{A}/payments/configuration"),
    f"{A}/pay-runs": Get("staff", f"{A}/pay-runs"),
    f"{A}/payroll-exports": Get("staff", f"{A}/payroll-exports"),
    f"{A}/payroll-exports/{{id:int}}/csv": Get(
        "staff", f"{A}/payroll-exports/{{payroll_export}}/csv"
    ),
    f"{A}/payroll/pay-elements": Get("staff", f"{A}/payroll/pay-elements"),
    f"{A}/payroll/not-ready": Get("staff", f"{A}/payroll/not-ready"),
    f"{A}/activities/{{id:int}}/options": Get("staff", f"{A}/activities/{{planning}}/options"),
    f"{A}/activities/{{id:int}}/answers": Get("staff", f"{A}/activities/{{planning}}/answers"),
    f"{A}/activities/{{id:int}}/options/{{option_id:int}}/choices": Get(
        "staff", f"{A}/activities/{{planning}}/options/{{option}}/choices"
    ),
    f"{A}/projects": Get("staff", f"{A}/projects"),
    f"{A}/projects/{{id:int}}": Get("staff", f"{A}/projects/{{project}}"),
    f"{A}/projects/{{id:int}}/acknowledgements": Get(
        "staff", f"{A}/projects/{{project}}/acknowledgements"
    ),
    f"{A}/feedback-themes": Get("staff", f"{A}/feedback-themes"),
    f"{A}/teams/{{id:int}}/new-feedback": Get("staff", f"{A}/teams/{{team}}/new-feedback"),
    f"{A}/actions": Get("staff", f"{A}/actions?team_id={{team}}"),
    f"{A}/actions/{{id:int}}": Get("staff", f"{A}/actions/{{action}}"),
    f"{A}/outreach": Get("staff", f"{A}/outreach"),
    f"{A}/recruitment": Get("staff", f"{A}/recruitment"),
    f"{A}/outreach/{{id:int}}": Get("staff", f"{A}/outreach/{{outreach}}"),
    f"{A}/reports/organisation": Get("staff", f"{A}/reports/organisation"),
    f"{A}/reports/organisation.csv": Get("staff", f"{A}/reports/organisation.csv"),
    f"{A}/reports/networks/{{id:int}}": Get("staff", f"{A}/reports/networks/{{network}}"),
    f"{A}/reports/networks/{{id:int}}.csv": Get("staff", f"{A}/reports/networks/{{network}}.csv"),
    f"{A}/reports/population": Get("staff", f"{A}/reports/population"),
    f"{A}/representatives": Get("staff", f"{A}/representatives"),
    f"{A}/representatives/{{id:int}}": Get("staff", f"{A}/representatives/{{representative}}"),
    f"{A}/me/representative": Get("representative", f"{A}/me/representative"),
    f"{A}/representatives/{{id:int}}/consents": Get(
        "staff", f"{A}/representatives/{{representative}}/consents"
    ),
    f"{A}/consents/review": Get("staff", f"{A}/consents/review"),
    f"{A}/representatives/{{id:int}}/acute-episodes": Get(
        "staff", f"{A}/representatives/{{representative}}/acute-episodes"
    ),
    f"{A}/representatives/{{id:int}}/acute-episodes/{{episode_id:int}}": Get(
        "staff", f"{A}/representatives/{{representative}}/acute-episodes/{{episode}}"
    ),
    f"{A}/representatives/{{id:int}}/equality": Get(
        "staff", f"{A}/representatives/{{representative}}/equality"
    ),
    f"{A}/standards": Get("staff", f"{A}/standards"),
    f"{A}/teams/{{id:int}}/standards": Get("staff", f"{A}/teams/{{team}}/standards"),
    f"{A}/teams/{{id:int}}/standards/{{number:int}}": Get(
        "staff", f"{A}/teams/{{team}}/standards/{{standard}}"
    ),
}


@dataclass(frozen=True)
class Write:
    who: str
    url: str
    body: Any = None
    status: int = 200
    keep: str | None = None  # remember the reply's id under this name, for later writes


DAY = "{today}"  # formatted in with the scene's ids: ISO dates relative to today
# Every API operation that changes something, by method and path, in the order they run. Each
# runs once in each world, so a write that can happen only once per thing still runs.
API_WRITES: dict[str, Write] = {
    f"PATCH {A}/me": Write("staff", f"{A}/me", {"full_name": "Sam Staff"}),
    f"POST {A}/teams": Write("staff", f"{A}/teams", {"name": "Crisis team"}, 201),
    f"POST {A}/outbox/{{id:int}}/retry": Write("staff", f"{A}/outbox/{{outbox_failed}}/retry", {}),
    f"POST {A}/api-tokens": Write(
        "staff", f"{A}/api-tokens", {"name": "Reports", "role": "reporter"}, 201, "api_token"
    ),
    f"POST {A}/api-tokens/{{id:int}}/revoke": Write(
        "staff", f"{A}/api-tokens/{{api_token}}/revoke", {}
    ),
    f"POST {A}/activities": Write(
        "staff",
        f"{A}/activities",
        {
            "title": "Planning day",
            "kind": "meeting",
            "category": "co_design",
            "duration_minutes": 60,
            "capacity": 5,
            "phone": True,
            "dial_in": "01632 960 100",
        },
        201,
    ),
    # A correction that every attended row and its roll-ups follow.
    f"PATCH {A}/activities/{{id:int}}": Write(
        "staff",
        f"{A}/activities/{{past_activity}}",
        {"title": "Renamed meeting", "category": "co_evaluation", "team_id": "{other_team}"},
    ),
    f"POST {A}/activities/{{id:int}}/bookings": Write(
        "staff",
        f"{A}/activities/{{activity}}/bookings",
        {"representative_id": "{other_rep}", "mode": "video"},
        201,
    ),
    f"POST {A}/arrangements/{{id:int}}/tick": Write(
        "staff", f"{A}/arrangements/{{arrangement}}/tick", {"done": True}
    ),
    f"POST {A}/representatives/{{id:int}}/messages/{{message_id:int}}/follow-up": Write(
        "staff", f"{A}/representatives/{{representative}}/messages/{{failed_text}}/follow-up", {}
    ),
    f"POST {A}/transcriptions/{{id:int}}/tick": Write(
        "staff", f"{A}/transcriptions/{{transcription}}/tick", {"done": True}
    ),
    f"PATCH {A}/bookings/{{id:int}}": Write(
        "staff", f"{A}/bookings/{{booking}}", {"mode": "phone"}
    ),
    f"POST {A}/bookings/{{id:int}}/wellbeing-check": Write(
        "staff",
        f"{A}/bookings/{{booking}}/wellbeing-check",
        {"outcome": "proceed", "note": "We talked", "representative_wish": "To take part"},
        201,
    ),
    f"POST {A}/contracts/{{id:int}}/book-catch-up": Write(
        "staff",
        f"{A}/contracts/{{contract}}/book-catch-up",
        {"starts_at": "{in_a_fortnight}T11:00", "mode": "phone", "dial_in": "01632 960 100"},
        201,
        "catch_up_booking",
    ),
    f"POST {A}/representatives/{{id:int}}/calendar-token": Write(
        "staff", f"{A}/representatives/{{representative}}/calendar-token", {}
    ),
    f"POST {A}/my/calendar-feed": Write("representative", f"{A}/my/calendar-feed", {}),
    f"POST {A}/bookings/{{id:int}}/attendance": Write(
        "staff",
        f"{A}/bookings/{{past_booking}}/attendance",
        {"attended": "yes", "attended_minutes": 150, "preparation_minutes": 30},
    ),
    f"POST {A}/activity-feedback": Write(
        "representative",
        f"{A}/activity-feedback",
        {"booking_id": "{past_booking}", "rating": 4, "listened_to": "yes", "access_met": "no"},
        201,
    ),
    f"POST {A}/activity-feedback/{{id:int}}/followed-up": Write(
        "staff", f"{A}/activity-feedback/{{activity_feedback}}/followed-up", {}
    ),
    f"POST {A}/claims": Write(
        "staff",
        f"{A}/claims",
        {
            "representative_id": "{representative}",
            "period_start": "{a_year_ago}",
            "period_end": "{today}",
        },
        201,
        "new_claim",
    ),
    f"POST {A}/claims/{{id:int}}/expenses": Write(
        "staff",
        f"{A}/claims/{{new_claim}}/expenses",
        {"kind": "mileage", "day": "{yesterday}", "miles": 12},
        201,
    ),
    f"POST {A}/claims/{{id:int}}/submit": Write("staff", f"{A}/claims/{{new_claim}}/submit", {}),
    f"POST {A}/claims/{{id:int}}/approve": Write(
        "second_lead", f"{A}/claims/{{new_claim}}/approve", {"adjustments": []}
    ),
    f"POST {A}/claims/{{id:int}}/reject": Write(
        "second_lead", f"{A}/claims/{{submitted_claim}}/reject", {"reason": "The wrong month"}
    ),
    f"POST {A}/claims/{{id:int}}/correct": Write(
        "staff",
        f"{A}/claims/{{claim}}/correct",
        {"amount_pence": 500, "reason": "Parking left off"},
        201,
    ),
    f"POST {A}/contracts/{{id:int}}/renew": Write(
        "staff", f"{A}/contracts/{{contract}}/renew", {}, 201
    ),
    f"POST {A}/representatives/{{id:int}}/contracts": Write(
        "staff",
        f"{A}/representatives/{{representative}}/contracts",
        {"role_title": "Peer reviewer", "starts_on": "{in_five_years}"},
        201,
    ),
    f"POST {A}/contracts/{{id:int}}/catch-ups": Write(
        "staff", f"{A}/contracts/{{contract}}/catch-ups", {"held_on": "{today}"}, 201
    ),
    f"POST {A}/rate-card": Write(
        "staff",
        f"{A}/rate-card",
        {"effective_from": "{in_a_fortnight}", "day_pence": 16000, "half_day_pence": 8000},
        201,
    ),
    f"PUT {A}/representatives/{{id:int}}/earnings-limit": Write(
        "staff",
        f"{A}/representatives/{{representative}}/earnings-limit",
        {"earnings_limit": "none"},
    ),
    f"POST {A}/networks": Write(
        "staff", f"{A}/networks", {"name": "Northern network {n}"}, 201, "new_network"
    ),
    f"POST {A}/networks/{{id:int}}/invitations": Write(
        "staff",
        f"{A}/networks/{{new_network}}/invitations",
        {"organisation": "{neighbour}"},
        201,
    ),
    f"POST {A}/networks/{{id:int}}/accept": Write(
        "staff", f"{A}/networks/{{invited_network}}/accept", {}
    ),
    f"POST {A}/networks/{{id:int}}/decline": Write(
        "staff", f"{A}/networks/{{declining_network}}/decline", {}
    ),
    f"POST {A}/networks/{{id:int}}/people": Write(
        "staff",
        f"{A}/networks/{{network}}/people",
        {"email": "lead{n}@trust.example", "role": "network_reporter"},
        201,
        "network_role",
    ),
    f"DELETE {A}/networks/{{id:int}}/people/{{member_id:int}}": Write(
        "staff", f"{A}/networks/{{network}}/people/{{network_role}}", None
    ),
    f"POST {A}/pay-runs": Write("staff", f"{A}/pay-runs", {}, 201),
    f"POST {A}/representatives/{{id:int}}/stripe-account/refresh": Write(
        "staff", f"{A}/representatives/{{representative}}/stripe-account/refresh", {}
    ),
    f"POST {A}/payroll-exports": Write("staff", f"{A}/payroll-exports", {"payment_date": DAY}, 201),
    f"PUT {A}/representatives/{{id:int}}/payout-method": Write(
        "staff",
        f"{A}/representatives/{{representative}}/payout-method",
        {
            "payout_method": "payroll",
            "payroll_reference": "P00001",
            "national_insurance_number": "AB 12 34 56 C",
        },
    ),
    f"PUT {A}/payroll/pay-elements": Write(
        "staff",
        f"{A}/payroll/pay-elements",
        {
            "fee": "FEE-{n}",
            "mileage": "M",
            "public_transport": "PT",
            "taxi": "T",
            "parking": "P",
            "care_cover": "C",
            "subsistence": "S",
            "default_cost_centre": "CC-0",
        },
    ),
    f"PUT {A}/teams/{{id:int}}/cost-centre": Write(
        "staff", f"{A}/teams/{{team}}/cost-centre", {"cost_centre": "CC-{n}"}
    ),
    f"POST {A}/representatives": Write(
        "staff",
        f"{A}/representatives",
        {
            "full_name": "Ada Newcomer",
            "representative_type": "patient",
            "phone": "01632 960 001",
            "contact_channels": ["phone"],
        },
        201,
        "new_rep",
    ),
    f"POST {A}/activities/{{id:int}}/answers": Write(
        "staff",
        f"{A}/activities/{{planning}}/answers",
        {
            "representative_id": "{other_rep}",
            "answers": {"{option}": "yes", "{option2}": "no", "{option3}": "if_need_be"},
            "mode": "phone",
        },
    ),
    f"POST {A}/activities/{{id:int}}/options": Write(
        "staff", f"{A}/activities/{{planning}}/options", {"options": ["{in_a_month}T10:00"]}, 201
    ),
    f"POST {A}/activities/{{id:int}}/invitations": Write(
        "staff",
        f"{A}/activities/{{planning}}/invitations",
        {"representative_ids": ["{new_rep}"]},
        201,
    ),
    f"POST {A}/activities/{{id:int}}/finalise": Write(
        "staff",
        f"{A}/activities/{{planning}}/finalise",
        {"option_id": "{option}", "representative_ids": ["{other_rep}"]},
    ),
    f"POST {A}/projects": Write("staff", f"{A}/projects", {"name": "Ward rounds"}, 201),
    f"PUT {A}/teams/{{id:int}}/feedback-champion": Write(
        "staff", f"{A}/teams/{{team}}/feedback-champion", {"champion_id": "{champion}"}
    ),
    f"POST {A}/feedback-themes": Write("staff", f"{A}/feedback-themes", {"name": "Parking"}, 201),
    f"PUT {A}/teams/{{id:int}}/new-feedback/{{response_id:int}}/themes": Write(
        "staff",
        f"{A}/teams/{{team}}/new-feedback/{{response}}/themes",
        {"theme_ids": ["{theme}"], "new_theme": "Staff attitude"},
    ),
    f"POST {A}/teams/{{id:int}}/new-feedback/read": Write(
        "staff", f"{A}/teams/{{team}}/new-feedback/read", {"response_ids": ["{response}"]}
    ),
    f"POST {A}/actions": Write(
        "staff",
        f"{A}/actions",
        {
            "team_id": "{team}",
            "you_said": "Letters are hard to read",
            "we_did": "We are rewriting them in plain English",
            "owner_id": "{champion}",
            "response_ids": ["{response}"],
        },
        201,
        keep="new_action",
    ),
    f"PATCH {A}/actions/{{id:int}}": Write(
        "staff", f"{A}/actions/{{new_action}}", {"status": "in_progress"}
    ),
    f"POST {A}/projects/{{id:int}}/acknowledgements": Write(
        "staff", f"{A}/projects/{{project}}/acknowledgements", {}
    ),
    f"POST {A}/reports/population": Write(
        "staff",
        f"{A}/reports/population",
        {"characteristic": "sex", "group": "female", "percent": 51.5},
    ),
    f"PATCH {A}/representatives/{{id:int}}": Write(
        "staff", f"{A}/representatives/{{representative}}", {"phone": "01632 960 999"}
    ),
    f"POST {A}/representatives/{{id:int}}/break": Write(
        "staff", f"{A}/representatives/{{representative}}/break", {"break_until": "{in_a_week}"}
    ),
    f"POST {A}/representatives/{{id:int}}/consents": Write(
        "staff", f"{A}/representatives/{{representative}}/consents", {"purpose": "contact"}, 201
    ),
    f"POST {A}/representatives/{{id:int}}/acute-episodes": Write(
        "staff",
        f"{A}/representatives/{{representative}}/acute-episodes",
        {"started_on": "{a_week_ago}", "under_crisis_team": False},
        201,
    ),
    f"PATCH {A}/representatives/{{id:int}}/acute-episodes/{{episode_id:int}}": Write(
        "staff",
        f"{A}/representatives/{{representative}}/acute-episodes/{{episode}}",
        {"note": "Feeling better"},
    ),
    f"DELETE {A}/representatives/{{id:int}}/acute-episodes/{{episode_id:int}}": Write(
        "staff", f"{A}/representatives/{{representative}}/acute-episodes/{{episode}}", None
    ),
    f"PUT {A}/representatives/{{id:int}}/equality": Write(
        "staff", f"{A}/representatives/{{representative}}/equality", {"sex": "prefer_not_to_say"}
    ),
    f"POST {A}/representatives/{{id:int}}/consents/withdraw": Write(
        "staff",
        f"{A}/representatives/{{representative}}/consents/withdraw",
        {"purpose": "equality"},
    ),
    f"POST {A}/bookings/{{id:int}}/cancel": Write("staff", f"{A}/bookings/{{booking}}/cancel", {}),
    f"POST {A}/contracts/{{id:int}}/end": Write(
        "staff",
        f"{A}/contracts/{{contract}}/end",
        {
            "reason": "Moving away",
            "decisions": [{"booking_id": "{catch_up_booking}", "decision": "cancel"}],
        },
    ),
    f"POST {A}/received-texts/{{id:int}}/dealt-with": Write(
        "staff", f"{A}/received-texts/{{received_text}}/dealt-with", {}
    ),
    f"PUT {A}/teams/{{id:int}}/standards/{{number:int}}": Write(
        "staff", f"{A}/teams/{{team}}/standards/90", {"status": "met", "note": "Since May"}
    ),
    f"POST {A}/teams/{{id:int}}/standards/{{number:int}}/evidence": Write(
        "staff",
        f"{A}/teams/{{team}}/standards/{{standard}}/evidence",
        {"kind": "activity", "activity_id": "{planning}"},
        201,
        "standard_evidence",
    ),
    f"DELETE {A}/teams/{{id:int}}/standards/{{number:int}}/evidence/{{evidence_id:int}}": Write(
        "staff", f"{A}/teams/{{team}}/standards/{{standard}}/evidence/{{standard_evidence}}", None
    ),
    f"POST {A}/representatives/{{id:int}}/archive": Write(
        "staff", f"{A}/representatives/{{new_rep}}/archive", {}
    ),
    f"POST {A}/surveys": Write(
        "staff", f"{A}/surveys", {"team_id": "{team}", "template": "carers"}, 201, "new_survey"
    ),
    f"PATCH {A}/surveys/{{id:int}}": Write(
        "staff", f"{A}/surveys/{{new_survey}}", {"introduction": "Tell us how it went"}
    ),
    f"POST {A}/surveys/{{id:int}}/questions": Write(
        "staff",
        f"{A}/surveys/{{new_survey}}/questions",
        {"kind": "choice", "prompt": "Was it quick?", "choices": ["Yes", "No"]},
        201,
        "new_question",
    ),
    f"PATCH {A}/surveys/{{id:int}}/questions/{{question_id:int}}": Write(
        "staff", f"{A}/surveys/{{new_survey}}/questions/{{new_question}}", {"prompt": "Quick?"}
    ),
    f"DELETE {A}/surveys/{{id:int}}/questions/{{question_id:int}}": Write(
        "staff", f"{A}/surveys/{{new_survey}}/questions/{{new_question}}", None
    ),
    f"PUT {A}/surveys/{{id:int}}/question-order": Write(
        "staff",
        f"{A}/surveys/{{draft_survey}}/question-order",
        {"order": ["{draft_question2}", "{draft_question}"]},
    ),
    f"POST {A}/surveys/{{id:int}}/open": Write("staff", f"{A}/surveys/{{new_survey}}/open", {}),
    f"POST {A}/surveys/{{id:int}}/close": Write("staff", f"{A}/surveys/{{new_survey}}/close", {}),
    f"POST {A}/courses": Write(
        "staff",
        f"{A}/courses",
        {"name": "First aid", "formats": ["braille", "translated"], "languages": ["Urdu"]},
        201,
        "new_course",
    ),
    f"POST {A}/courses/usual": Write("staff", f"{A}/courses/usual", {}, 201),
    f"PATCH {A}/courses/{{id:int}}": Write(
        "staff", f"{A}/courses/{{new_course}}", {"required_for": ["meeting"]}
    ),
    f"POST {A}/courses/{{id:int}}/completions": Write(
        "staff",
        f"{A}/courses/{{new_course}}/completions",
        {"representative_id": "{representative}", "completed_on": DAY, "format": "braille"},
        201,
    ),
    f"PUT {A}/bookings/{{id:int}}/course-place": Write(
        "staff", f"{A}/bookings/{{course_booking}}/course-place", {"format": "audio"}
    ),
    f"POST {A}/surveys/{{id:int}}/paper-responses": Write(
        "staff",
        f"{A}/surveys/{{survey}}/paper-responses",
        {"received_on": "{today}", "answers": [{"question_id": "{question}", "answer": "4"}]},
        201,
    ),
    f"POST {A}/opportunities": Write(
        "staff",
        f"{A}/opportunities",
        {
            "title": "Advisory group member",
            "involves": "Meeting with the team to plan services",
            "time_commitment": "Two hours a month",
            "pay": "£70 for half a day",
            "modes": ["video"],
            "accessibility": "Papers sent a week before",
            "closes_on": "{in_a_month}",
        },
        201,
        "new_opportunity",
    ),
    f"PATCH {A}/opportunities/{{id:int}}": Write(
        "staff", f"{A}/opportunities/{{new_opportunity}}", {"modes": ["video", "phone"]}
    ),
    f"POST {A}/opportunities/{{id:int}}/publish": Write(
        "staff", f"{A}/opportunities/{{new_opportunity}}/publish", {}
    ),
    f"POST {A}/opportunities/{{id:int}}/withdraw": Write(
        "staff", f"{A}/opportunities/{{new_opportunity}}/withdraw", {}
    ),
    f"POST {A}/outreach": Write(
        "staff",
        f"{A}/outreach",
        {
            "kind": "faith_group",
            "held_on": "{yesterday}",
            "place": "Church hall",
            "people_reached": 30,
        },
        201,
        "new_outreach",
    ),
    f"PATCH {A}/outreach/{{id:int}}": Write(
        "staff", f"{A}/outreach/{{new_outreach}}", {"people_reached": 35}
    ),
    f"DELETE {A}/outreach/{{id:int}}": Write("staff", f"{A}/outreach/{{new_outreach}}", None),
    f"POST {A}/interests": Write(
        "staff",
        f"{A}/interests",
        {
            "source": "phone",
            "full_name": "Rang Today",
            "contact_channels": ["phone"],
            "phone": "0113 496 0001",
        },
        201,
        "new_interest",
    ),
    f"PUT {A}/interests/{{id:int}}/details": Write(
        "staff",
        f"{A}/interests/{{new_interest}}/details",
        {"full_name": "Rang Today", "contact_channels": ["phone"], "phone": "0113 496 0002"},
    ),
    f"POST {A}/interests/{{id:int}}/chat": Write(
        "staff",
        f"{A}/interests/{{new_interest}}/chat",
        {
            "representative_type": "carer",
            "formats": ["large_print"],
            "consent_contact": True,
            "consent_equality": True,
            "equality": {"age_band": "16_24"},
        },
    ),
    f"PUT {A}/interests/{{id:int}}/equality": Write(
        "staff", f"{A}/interests/{{new_interest}}/equality", {"age_band": "25_34"}
    ),
    f"POST {A}/interests/{{id:int}}/welcome": Write(
        "staff",
        f"{A}/interests/{{new_interest}}/welcome",
        {"welcome_at": "{in_a_week}T10:30", "welcome_mode": "phone"},
    ),
    f"POST {A}/interests/{{id:int}}/ready": Write(
        "staff", f"{A}/interests/{{new_interest}}/ready", {"role_title": "Carer representative"}
    ),
    f"POST {A}/interests/{{id:int}}/close": Write(
        "staff", f"{A}/interests/{{interest_chatted}}/close", {"close_reason": "not_right_time"}
    ),
    f"POST {A}/interests/{{id:int}}/release": Write(
        "staff", f"{A}/interests/{{held_interest}}/release", {}
    ),
    f"DELETE {A}/interests/{{id:int}}": Write("staff", f"{A}/interests/{{held_interest2}}", None),
}

# Writes not measured, and why. Keep this short.
NOT_MEASURED: dict[str, str] = {
    f"POST {A}/stripe/webhook": "needs an event signed with Stripe's secret; it handles one event",
    f"POST {A}/notify/texts": "needs Notify's callback token; it handles one text, and "
    "tests/test_text_replies.py measures it at 2 and at 20 people",
    f"POST {A}/notify/delivery": "needs Notify's bearer token; tests/test_delivery_status.py",
    f"POST {A}/representatives/{{id:int}}/stripe-onboarding-link": "calls Stripe for one person",
    f"POST {A}/claims/{{id:int}}/retry": "needs a failed payment, which the scene does not hold",
    f"POST {A}/reconciliation-runs": "asks Stripe for every transfer of the last 35 days",
    f"POST {A}/reconciliation-items/{{id:int}}/resolve": "needs a difference found in Stripe, "
    "which the scene does not hold",
}


def _page_paths(app: Any) -> set[str]:
    return {
        r.path
        for r in app.routes
        if isinstance(r, Route) and "GET" in (r.methods or ()) and not r.path.startswith(A)
    }


def _api_reads() -> set[str]:
    from coprod.web.api.registry import api

    return {op.path for op in api.operations if op.method == "GET"}


def _api_writes() -> set[str]:
    from coprod.web.api.registry import api

    return {f"{op.method} {op.path}" for op in api.operations if op.method != "GET"}


def test_every_page_and_operation_is_in_the_tables(app: Any) -> None:
    pages = _page_paths(app)
    assert pages - set(PAGES) == set(), "pages to add to PAGES"
    assert set(PAGES) - pages == set(), "PAGES names pages that no longer exist"
    reads = _api_reads()
    assert reads - set(API_READS) == set(), "API reads to add to API_READS"
    assert set(API_READS) - reads == set(), "API_READS names operations that no longer exist"
    writes = _api_writes()
    listed = set(API_WRITES) | set(NOT_MEASURED)
    assert writes - listed == set(), "API writes to add to API_WRITES"
    assert listed - writes == set(), "API_WRITES names operations that no longer exist"
    assert set(API_WRITES) & set(NOT_MEASURED) == set()


async def _clients(scene: scenes.Scene, make_client: Any) -> dict[str, Any]:
    staff, representative, second_lead = make_client(), make_client(), make_client()
    await sign_in(staff, scene.staff_email)
    await sign_in(representative, scene.representative_email)
    await sign_in(second_lead, scene.second_lead_email)
    return {
        "staff": staff,
        "representative": representative,
        "second_lead": second_lead,
        "anyone": make_client(),
    }


async def _measure(scene: scenes.Scene, clients: dict[str, Any]) -> dict[str, int]:
    values = {**{k: str(v) for k, v in scene.ids.items()}, **scene.tokens}
    counts = {}
    wrong = {}
    for route, case in {**PAGES, **API_READS}.items():
        client = clients[case.who]
        url = case.url.format(**values)
        await client.get(url)  # warm caches, as a running server has them
        async with counting() as statements:
            response = await client.get(url)
        if response.status_code != case.status:
            wrong[route] = response.status_code
        counts[route] = statements.count
    assert wrong == {}, "unexpected status"
    return counts


def _fill(value: Any, values: dict[str, str]) -> Any:
    """A body with the scene's ids put in: "{name}" alone becomes the id as a number."""
    if isinstance(value, dict):
        return {_fill(k, values): _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in values:
            found = values[value[1:-1]]
            return int(found) if found.isdigit() else found
        return value.format(**values)
    return value


def _dates(today: dt.date) -> dict[str, str]:
    days = {
        "today": 0,
        "yesterday": -1,
        "a_week_ago": -7,
        "a_year_ago": -365,
        "in_a_week": 7,
        "in_a_fortnight": 14,
        "in_a_month": 30,
        "in_five_years": 5 * 366,
    }
    return {name: (today + dt.timedelta(days=d)).isoformat() for name, d in days.items()}


async def _measure_writes(scene: scenes.Scene, clients: dict[str, Any]) -> dict[str, int]:
    values = {
        **{k: str(v) for k, v in scene.ids.items()},
        **scene.tokens,
        **_dates(clock.today()),
        "n": str(scene.n),
    }
    counts = {}
    wrong = {}
    for key, case in API_WRITES.items():
        client = clients[case.who]
        method = key.split(" ")[0]
        try:
            url, body = _fill(case.url, values), _fill(case.body, values)
        except KeyError as missing:  # an earlier write it follows did not succeed
            wrong[key] = (0, f"no {missing}")
            continue
        headers = {"X-CSRF-Token": await client.csrf("/")}
        async with counting() as statements:
            response = await client.http.request(method, url, json=body, headers=headers)
        if response.status_code != case.status:
            wrong[key] = (response.status_code, response.text[:300])
        elif case.keep:
            values[case.keep] = str(response.json()["id"])
        counts[key] = statements.count
    assert not wrong, "\n".join(f"{key}: {found}" for key, found in wrong.items())
    return counts


async def test_no_page_or_operation_costs_more_at_300_representatives(
    world: Any, make_client: Any
) -> None:
    scene_small = await scenes.build(3, world=world)
    scene_big = await scenes.build(300, world=world)
    clients_small = await _clients(scene_small, make_client)
    clients_big = await _clients(scene_big, make_client)
    small = await _measure(scene_small, clients_small)
    big = await _measure(scene_big, clients_big)
    small |= await _measure_writes(scene_small, clients_small)
    big |= await _measure_writes(scene_big, clients_big)
    growing = {route: (small[route], big[route]) for route in small if small[route] != big[route]}
    assert growing == {}, "statements at 3 and at 300 representatives"
    # The counter does count: the lead's home page reads several tables.
    assert small["/"] > 3
