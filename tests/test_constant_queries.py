"""Every page and API operation costs the same number of SQL statements at 3 representatives
as at 300.

The lists of what to request come from the app itself (`app.routes` and the API registry), so a
new route is measured as soon as it exists, and one missing from the tables below fails the test.
Each request is made once to warm what is cached per process or per connection, then once
counted (tests/statements.py counts at the driver, BEGIN and COMMIT included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.routing import Route

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
    "/my/payments": Get("representative", "/my/payments"),
    "/my/statement": Get("representative", "/my/statement"),
    "/representatives/{id:int}/statement": Get(
        "staff", "/representatives/{representative}/statement"
    ),
    "/admin/rates": Get("staff", "/admin/rates"),
    "/reports": Get("staff", "/reports"),
    "/reports/networks/{id:int}": Get("staff", "/reports/networks/{network}"),
    "/reports/population": Get("staff", "/reports/population"),
    "/networks": Get("staff", "/networks"),
    "/networks/{id:int}": Get("staff", "/networks/{network}"),
    "/healthz": Get("anyone", "/healthz"),
}

A = "/api/v1"

# Every API operation that reads, by path.
API_READS: dict[str, Get] = {
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
    f"{A}/bookings/{{id:int}}": Get("staff", f"{A}/bookings/{{booking}}"),
    f"{A}/my/bookings": Get("representative", f"{A}/my/bookings"),
    f"{A}/bookings/{{id:int}}/wellbeing-checks": Get(
        "staff", f"{A}/bookings/{{booking}}/wellbeing-checks"
    ),
    f"{A}/bookings/{{id:int}}/arrangements": Get(
        "staff", f"{A}/bookings/{{booking}}/arrangements"
    ),
    f"{A}/arrangements/overdue": Get("staff", f"{A}/arrangements/overdue"),
    f"{A}/representatives/{{id:int}}/calendar.ics": Get(
        "staff", f"{A}/representatives/{{representative}}/calendar.ics"
    ),
    f"{A}/my/calendar-feed": Get("representative", f"{A}/my/calendar-feed"),
    f"{A}/call-list": Get("staff", f"{A}/call-list"),
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
    f"{A}/representatives/{{id:int}}/payout-method": Get(
        "staff", f"{A}/representatives/{{representative}}/payout-method"
    ),
    f"{A}/payments/configuration": Get("staff", f"{A}/payments/configuration"),
    f"{A}/pay-runs": Get("staff", f"{A}/pay-runs"),
    f"{A}/payroll-exports": Get("staff", f"{A}/payroll-exports"),
    f"{A}/payroll-exports/{{id:int}}/csv": Get(
        "staff", f"{A}/payroll-exports/{{payroll_export}}/csv"
    ),
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


def test_every_page_and_read_is_in_the_tables(app: Any) -> None:
    pages = _page_paths(app)
    assert pages - set(PAGES) == set(), "pages to add to PAGES"
    assert set(PAGES) - pages == set(), "PAGES names pages that no longer exist"
    reads = _api_reads()
    assert reads - set(API_READS) == set(), "API reads to add to API_READS"
    assert set(API_READS) - reads == set(), "API_READS names operations that no longer exist"


async def _clients(scene: scenes.Scene, make_client: Any) -> dict[str, Any]:
    staff, representative = make_client(), make_client()
    await sign_in(staff, scene.staff_email)
    await sign_in(representative, scene.representative_email)
    return {"staff": staff, "representative": representative, "anyone": make_client()}


async def _measure(scene: scenes.Scene, make_client: Any) -> dict[str, int]:
    clients = await _clients(scene, make_client)
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


async def test_no_page_or_read_costs_more_at_300_representatives(
    world: Any, make_client: Any
) -> None:
    small = await _measure(await scenes.build(3, world=world), make_client)
    big = await _measure(await scenes.build(300, world=world), make_client)
    growing = {route: (small[route], big[route]) for route in small if small[route] != big[route]}
    assert growing == {}, "statements at 3 and at 300 representatives"
    # The counter does count: the lead's home page reads several tables.
    assert small["/"] > 3
