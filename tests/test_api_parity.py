"""Every action a page offers has an API operation that calls the same service.

The test reads the code: for each page route that changes something, it finds the service
functions the handler uses (directly, or through helpers in its own module), and fails if one
that changes state is used by no API operation. Reading functions are listed in READS; routes
that only make sense in a browser are listed in BROWSER_ONLY with the reason.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from collections.abc import Callable
from typing import Any

from starlette.routing import Route

import coprod.web.api  # noqa: F401  (registers every operation)
from coprod.web.api.registry import api
from coprod.web.app import routes

BROWSER_ONLY = {
    "/sign-in": "signing in with a password makes a browser session; the API uses tokens",
    "/sign-in/link": "asks for an emailed sign-in link, which opens in a browser",
    "/sign-in/link/{token}": "uses an emailed sign-in link in a browser",
    "/sign-in/code": "asks for a sign-in code by text, for a browser session",
    "/sign-in/code/{token}": "enters a texted sign-in code in a browser",
    "/password-reset": "asks for an emailed password reset link",
    "/password-reset/{token}": "chooses a new password from an emailed link",
    "/sign-out": "ends a browser session",
    "/organisations": "switches the organisation a browser session acts in",
    "/answer/{token}": "a representative answers a poll from an emailed link, without signing in",
    "/tech-test/{token}": "a representative asks for a tech test from an emailed link",
    "/s/{token}": "anyone answers a survey from its poster, QR code or web link; a public JSON "
    "operation without the form's CSRF token would make made-up answers easy to send in bulk",
    "/join/{org_slug}/interest": "anyone says they are interested, with no account; the form's "
    "CSRF token and signed time stamp are how spam is noticed, which a public JSON operation "
    "would get round (a lead writes interest down through POST /api/v1/interests)",
    "/join/{org_slug}/interest/{token}/about-you": "the person answers equality questions from "
    "the link on the thanks page, once; a lead records them through PUT "
    "/api/v1/interests/{id}/equality",
}

# Service functions that only read: a page may use them without the API having a twin.
READS = {
    "actions.staff",
    "access.contract_for",
    "access.is_self",
    "access.own_representative",
    "access.representative_for",
    "activities.how_to_join",
    "activity_feedback.booking_to_answer",
    "activity_feedback.for_activity",
    "polls.invitation_by_token",
    "surveys.questions_of",
    "surveys.survey_by_token",
    "surveys.survey_for",
    "surveys.question_for",
    "surveys.public_url",
    "auth.link_is_usable",
    "auth.organisations_of",
    "polls.choices",
    "bookings.wellbeing_checks",
    "claims.suggested_period",
    "contact.cannot_be_written_to",
    "contact.why_not_contactable",
    "contracts.later_bookings",
    "courses.completions_of",
    "courses.sessions_of",
    "interests.public_opportunity",
    "interests.form_stamp",
    "interests.by_equality_token",
    "interests.interest_for",
    "interests.messages_about",
    "interests.equality_of",
    "interest_steps.refusal",
    "interest_steps.contract_defaults",
    "interest_steps.existing_representative",
    "contact.route",
    "contracts.term",
    "payouts.configuration_problems",
    "payouts.stripe_ready",
    "rate_cards.rate_card",
    "opportunities.new_form",
    "opportunities.public_path",
    "reminders.booking_for_tech_test",
    "wellbeing.has_consent",
}


def _service_uses(fn: Callable[..., Any], seen: set[Any] | None = None) -> set[str]:
    """`module.function` for each service function `fn` refers to, following the functions it
    wraps (decorators, `for_lead(view)`) and the functions of its own module it refers to."""
    seen = set() if seen is None else seen
    if fn in seen:
        return set()
    seen.add(fn)
    uses: set[str] = set()
    wrapped = [getattr(fn, "__wrapped__", None)]
    wrapped += [cell.cell_contents for cell in getattr(fn, "__closure__", None) or ()]
    for inner in wrapped:
        if inspect.isfunction(inner):
            uses |= _service_uses(inner, seen)
    module = inspect.getmodule(fn)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError):
        return uses
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = getattr(module, node.value.id, None)
            if (
                isinstance(target, types.ModuleType)
                and target.__name__.startswith("coprod.services.")
                and inspect.isfunction(getattr(target, node.attr, None))
            ):
                uses.add(f"{target.__name__.rsplit('.', 1)[-1]}.{node.attr}")
        elif isinstance(node, ast.Name):
            target = getattr(module, node.id, None)
            if inspect.isfunction(target) and target.__module__ == fn.__module__:
                uses |= _service_uses(target, seen)
    return uses


def _page_routes() -> list[Route]:
    return [
        r
        for r in routes()
        if isinstance(r, Route)
        and not r.path.startswith("/api/")
        and set(r.methods or ()) - {"GET", "HEAD"}
    ]


def test_every_page_action_has_an_api_twin() -> None:
    api_uses: set[str] = set()
    for op in api.operations:
        api_uses |= _service_uses(op.handler)
    missing = []
    for route in _page_routes():
        path = route.path.replace(":int}", "}")
        if path in BROWSER_ONLY:
            continue
        uncovered = sorted(_service_uses(route.endpoint) - api_uses - READS)
        if uncovered:
            missing.append(f"{path}: {', '.join(uncovered)}")
    assert not missing, "Page actions with no API operation calling the same service:\n" + (
        "\n".join(missing)
    )


def test_the_parity_check_sees_service_calls() -> None:
    # Guards the check itself: if it stopped finding calls, every route would pass.
    by_path = {r.path: r for r in _page_routes()}
    assert "representatives.create" in _service_uses(by_path["/representatives/new"].endpoint)
    paths = {r.path.replace(":int}", "}") for r in _page_routes()}
    assert set(BROWSER_ONLY) <= paths
