"""No input gets a server error: odd ids, text that cannot be stored, bodies that are not JSON
or are too large, unknown methods, and a database that is out of reach. Each case is tried on
routes of each kind (GET with an id, JSON POST and PATCH, a form posted from a page)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from coprod import db
from coprod.models import Representative, Role
from coprod.validation import record_id, unsafe_text_errors
from coprod.web.api.core import AuditEventReply
from tests.conftest import BACKEND, PG_NAME, _pg_admin, sign_in
from tests.test_activities_api import activity_body
from tests.test_representatives_api import create_rep, errors_of, lead_of, rep_body

OUT_OF_RANGE_IDS = ["2147483648", "9223372036854775808", "9" * 400, "-1", "0x10", "1e3"]


def is_api_error(response: Any, status: int) -> bool:
    body = response.json()
    return response.status_code == status and all(
        set(e) == {"field", "message"} and e["message"] for e in body["errors"]
    )


@pytest.mark.parametrize("bad_id", OUT_OF_RANGE_IDS)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/representatives/{}"),
        ("PATCH", "/api/v1/representatives/{}"),
        ("POST", "/api/v1/representatives/{}/contracts"),
        ("GET", "/api/v1/activities/{}"),
    ],
)
async def test_api_ids_out_of_range_are_not_found(client, world, method, path, bad_id):
    await lead_of(world, client)
    response = await client.api(method, path.format(bad_id), {"full_name": "Ada"})
    assert is_api_error(response, 404), response.text


async def test_the_largest_id_is_looked_up_and_not_found(client, world):
    await lead_of(world, client)
    response = await client.api("GET", "/api/v1/representatives/2147483647")
    assert is_api_error(response, 404)


@pytest.mark.parametrize("bad_id", OUT_OF_RANGE_IDS)
async def test_page_ids_out_of_range_show_the_not_found_page(client, world, bad_id):
    await lead_of(world, client)
    shown = await client.get(f"/representatives/{bad_id}")
    posted = await client.post_form(
        f"/representatives/{bad_id}/edit", {"full_name": "Ada"}, token_from="/"
    )
    for response in (shown, posted):
        assert response.status_code == 404
        assert "Page not found" in response.text


UNSTORABLE = [b'"Ada\\u0000Lovelace"', b'"Ada \\ud800"', b'"\\udfff"']


@pytest.mark.parametrize("text", UNSTORABLE)
async def test_api_text_with_nul_or_lone_surrogates_is_refused_field_by_field(client, world, text):
    await lead_of(world, client)
    rep = await create_rep(client)
    token = await client.csrf("/")
    headers = {"X-CSRF-Token": token, "Content-Type": "application/json"}
    created = await client.http.post(
        "/api/v1/representatives",
        content=b'{"full_name": ' + text + b', "other_needs": "fine"}',
        headers=headers,
    )
    changed = await client.http.patch(
        f"/api/v1/representatives/{rep['id']}",
        content=b'{"contact_channels": ["phone", ' + text + b"]}",
        headers=headers,
    )
    assert created.status_code == 422 and errors_of(created) == {
        "full_name": "Remove the hidden or broken characters from this answer"
    }
    assert changed.status_code == 422 and set(errors_of(changed)) == {"contact_channels"}
    assert await Representative.all().count() == 1
    unchanged = (await client.get(f"/api/v1/representatives/{rep['id']}")).json()
    assert unchanged["contact_channels"] == ["phone"]


async def test_query_strings_with_nul_are_refused_on_the_api_and_pages(client, world):
    await lead_of(world, client)
    api = await client.get("/api/v1/representatives?q=Ada%00")
    page = await client.get("/representatives?q=Ada%00")
    assert is_api_error(api, 422) and errors_of(api) == {
        "q": "Remove the hidden or broken characters from this answer"
    }
    assert page.status_code == 422 and "cannot be saved" in page.text


@pytest.mark.parametrize("path", ["/sign-in/link/abc%00def", "/api/v1/representatives/%00"])
async def test_a_path_with_a_nul_byte_is_not_found(client, path):
    response = await client.get(path)
    assert response.status_code == 404


async def test_a_form_with_a_nul_byte_is_refused_and_nothing_is_saved(client, world):
    await lead_of(world, client)
    response = await client.post_form(
        "/representatives/new", {**rep_body(), "full_name": "Ada\x00Lovelace"}
    )
    assert response.status_code == 422
    assert "There is a problem" in response.text and "hidden or broken" in response.text
    assert await Representative.all().count() == 0


@pytest.mark.parametrize(
    ("content_type", "content", "status"),
    [
        ("text/plain", b'{"full_name": "Ada"}', 415),
        ("application/x-www-form-urlencoded", b"full_name=Ada", 415),
        ("application/json", b'{"full_name": ', 422),
        ("application/json", b"\xff\xfe", 422),
        ("application/json", b"[" * 100_000, 422),
        ("application/json", b'["full_name"]', 422),
    ],
)
async def test_api_bodies_that_are_not_a_json_object_are_refused(
    client, world, content_type, content, status
):
    await lead_of(world, client)
    response = await client.http.post(
        "/api/v1/representatives",
        content=content,
        headers={"X-CSRF-Token": await client.csrf("/"), "Content-Type": content_type},
    )
    assert is_api_error(response, status), response.text
    assert await Representative.all().count() == 0


async def test_bodies_over_the_limit_are_refused_before_they_are_read(client, world):
    await lead_of(world, client)
    huge = b'{"full_name": "' + b"a" * 2_000_000 + b'"}'
    headers = {"X-CSRF-Token": await client.csrf("/"), "Content-Type": "application/json"}

    async def streamed() -> AsyncIterator[bytes]:
        # No Content-Length: the app must count what arrives.
        for start in range(0, len(huge), 65_536):
            yield huge[start : start + 65_536]

    declared = await client.http.post("/api/v1/representatives", content=huge, headers=headers)
    chunked = await client.http.post("/api/v1/representatives", content=streamed(), headers=headers)
    form = await client.http.post(
        "/representatives/new", data={"full_name": "a" * 2_000_000, "csrf_token": "x"}
    )
    assert is_api_error(declared, 413)
    assert "content-length" not in chunked.request.headers
    assert is_api_error(chunked, 413)
    assert form.status_code == 413 and "too large" in form.text
    assert await Representative.all().count() == 0


async def test_a_receipt_sized_upload_is_read_but_other_large_forms_are_not(client):
    # Expenses carry receipts, allowed up to pay.receipt_max_bytes (5 MB by default).
    files = {"receipt": ("receipt.pdf", b"%PDF" + b"0" * 2_000_000)}
    receipt = await client.http.post("/claims/1/expenses", files=files)
    elsewhere = await client.http.post("/sign-in", files=files)
    assert receipt.status_code == 303  # let through to the page, which asks who is signing in
    assert elsewhere.status_code == 413


@pytest.mark.parametrize("path", ["/api/v1/representatives", "/representatives", "/nowhere"])
async def test_trace_is_not_allowed_anywhere(client, path):
    response = await client.http.request("TRACE", path)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"] and "TRACE" not in response.headers["allow"]


async def test_a_method_a_route_does_not_take_says_which_it_does(client, world):
    await lead_of(world, client)
    api = await client.api("DELETE", "/api/v1/representatives")
    page = await client.http.request("PUT", "/representatives")
    assert is_api_error(api, 405) and set(api.headers["allow"].split(", ")) == {
        "GET",
        "HEAD",
        "POST",
    }
    assert page.status_code == 405 and "GET" in page.headers["allow"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact_channels", ["carrier pigeon"]),
        ("contact_channels", {"phone": True}),
        ("team_ids", [2**40]),
        ("team_ids", 2**40),
        ("lead_id", 2**40),
        ("full_name", ["Ada", "Lovelace"]),
        ("other_needs", {"step-free": True}),
    ],
)
async def test_a_representative_patch_with_odd_values_is_refused_and_saves_nothing(
    client, world, field, value
):
    # Found by a fuzzer: these saved or half-ran, then answered 500.
    await lead_of(world, client)
    rep = await create_rep(client)
    response = await client.api("PATCH", f"/api/v1/representatives/{rep['id']}", {field: value})
    assert response.status_code == 422, response.text
    # An item of a list is named by its position too (`team_ids.0`).
    assert field in {name.split(".")[0] for name in errors_of(response)}
    assert (await client.get(f"/api/v1/representatives/{rep['id']}")).json() == rep


async def test_audit_events_match_their_published_schema(client, world, make_client):
    org = await lead_of(world, client)
    await create_rep(client)  # the lead acts for someone: on_behalf_of is set
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    admin = make_client()
    await sign_in(admin, "admin@trust.example")  # a sign-in is on behalf of no one: null
    events = (await admin.get("/api/v1/audit-events")).json()["items"]
    published = (await admin.get("/api/v1/openapi.json")).json()
    page = published["paths"]["/api/v1/audit-events"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"].rsplit("/", 1)[-1]
    schemas = published["components"]["schemas"]
    item = schemas[page]["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[-1]
    assert item == AuditEventReply.__name__
    on_behalf_of = schemas[item]["properties"]["on_behalf_of"]
    assert {"type": "null"} in on_behalf_of["anyOf"]
    assert {e["on_behalf_of"] is None for e in events} == {True, False}
    for event in events:
        AuditEventReply.model_validate(event)


@pytest.mark.parametrize(
    ("make_error", "unavailable"),
    [
        (lambda: sqlite3.connect("/nonexistent/dir/db.sqlite3"), True),
        (lambda: sqlite3.connect(":memory:").execute("SELECT * FROM nowhere"), False),
        (lambda: (_ for _ in ()).throw(ConnectionRefusedError(111, "refused")), True),
        (lambda: (_ for _ in ()).throw(ValueError("a bug")), False),
        # Seen when the server ended a pooled connection while asyncpg was using it.
        (
            lambda: (_ for _ in ()).throw(
                asyncpg.exceptions.InternalClientError(
                    "cannot switch to state 12; another operation (2) is in progress"
                )
            ),
            True,
        ),
    ],
)
def test_which_errors_mean_the_database_is_out_of_reach(make_error, unavailable):
    with pytest.raises(Exception) as raised:
        make_error()
    assert db.is_unavailable(raised.value) is unavailable


@pytest.mark.skipif(BACKEND != "postgres", reason="stops connections to a PostgreSQL database")
async def test_while_the_database_is_unreachable_people_are_asked_to_come_back(client, world):
    await lead_of(world, client)
    await _pg_admin(f'ALTER DATABASE "{PG_NAME}" ALLOW_CONNECTIONS false')
    try:
        await _pg_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{PG_NAME}' AND pid <> pg_backend_pid()"
        )
        api = await client.get("/api/v1/representatives")
        home = await client.get("/")
        posted = await client.http.post("/representatives/new", data={"full_name": "Ada"})
    finally:
        await _pg_admin(f'ALTER DATABASE "{PG_NAME}" ALLOW_CONNECTIONS true')
    assert is_api_error(api, 503) and api.headers["retry-after"].isdigit()
    for response in (home, posted):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"].isdigit()
        assert "Sorry, the service is unavailable" in response.text
        assert "Traceback" not in response.text
    # Once the database is back, so is the service: a pooled connection the server ended may
    # fail one more request (503) before the pool replaces it.
    statuses = []
    for _ in range(3):
        statuses.append((await client.get("/api/v1/representatives")).status_code)
        if statuses[-1] == 200:
            break
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}, statuses


@pytest.mark.parametrize("field", ["team_id", "project_id"])
async def test_an_activity_for_a_team_or_project_beyond_any_id_is_refused(client, world, field):
    await lead_of(world, client)
    response = await client.api("POST", "/api/v1/activities", activity_body(**{field: 2**40}))
    assert response.status_code == 422, response.text
    assert field in errors_of(response)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7, 7),
        ("42", 42),
        (" 42 ", 42),
        ("2147483647", 2147483647),
        ("2147483648", None),
        (2**40, None),
        ("0", None),
        ("-3", None),
        ("²", None),  # a digit to str.isdigit(), but not to int()
        ("9" * 5000, None),
        (True, None),
        (None, None),
        ("", None),
        ([1], None),
    ],
)
def test_record_id_is_an_int_only_when_a_record_could_have_it(value, expected):
    assert record_id(value) == expected


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"a": "fine", "b": ["ok", 1, None]}, []),
        ({"a": "x\x00y"}, ["a"]),
        ({"a": ["ok", "\ud83d"]}, ["a"]),
        ({"a": {"b": "\udfff"}}, ["a.b"]),
        ({"a\x00": "x"}, ["body"]),
        ({"a": "😀 emoji is fine"}, []),
    ],
)
def test_unsafe_text_errors_name_each_field(data, fields):
    assert [e.field for e in unsafe_text_errors(data)] == fields


# ------------------------------------------------------- found by tests/test_api_contract.py


async def test_changing_the_kind_of_representative_or_their_pay_choice_in_the_api(client, world):
    """schemathesis (seed 20261130, as the lead) found PATCH /representatives/{id} with
    {"representative_type": ...} a 500: the reply read `.value` of the plain string just set."""
    await lead_of(world, client)
    rep = await create_rep(client)
    changed = await client.api(
        "PATCH",
        f"/api/v1/representatives/{rep['id']}",
        {"representative_type": "carer", "payment_preference": "decline"},
    )
    assert changed.status_code == 200, changed.text
    shown = (await client.api("GET", f"/api/v1/representatives/{rep['id']}")).json()
    for body in (changed.json(), shown):
        assert (body["representative_type"], body["payment_preference"]) == ("carer", "decline")
