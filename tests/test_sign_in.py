"""Sign-in by password and by emailed link, password reset, sign-out, throttling."""

from __future__ import annotations

import datetime as dt

from coprod.models import EmailLink, Role, Session, User
from coprod.security import verify_password
from coprod.web.middleware import SESSION_COOKIE
from tests.conftest import PASSWORD, deliver_mail, sign_in


async def test_password_sign_in_sets_a_safe_session_cookie(client, world):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    response = await client.post_form(
        "/sign-in", {"email": "Lead@Trust.example ", "password": PASSWORD, "next": "/"}
    )
    assert response.status_code == 303
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # BASE_URL is http in tests; https turns it on
    stored = await Session.all()
    assert len(stored) == 1
    # Only a hash of the cookie's secret is kept.
    secret = cookie.split("=", 1)[1].split(";", 1)[0]
    assert stored[0].key_hash != secret
    home = await client.get("/")
    assert "Hello, Lead" in home.text


async def test_session_cookie_is_secure_under_https(make_client, world, monkeypatch):
    from coprod import config

    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    monkeypatch.setenv("BASE_URL", "https://coprod.example.nhs.uk")
    config.get_settings.cache_clear()
    client = make_client("https://testserver")
    try:
        response = await client.post_form(
            "/sign-in", {"email": "lead@trust.example", "password": PASSWORD, "next": "/"}
        )
        cookie = next(
            h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
        )
        assert "Secure" in cookie
        assert "max-age=31536000" in response.headers["strict-transport-security"]
    finally:
        monkeypatch.undo()
        config.get_settings.cache_clear()


async def test_wrong_password_gives_a_plain_message_and_no_session(client, world):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    response = await client.post_form(
        "/sign-in", {"email": "lead@trust.example", "password": "wrong password!", "next": "/"}
    )
    assert response.status_code == 422
    assert "Your email address or password is not right" in response.text
    assert await Session.all().count() == 0


async def test_empty_sign_in_form_names_each_field(client):
    response = await client.post_form("/sign-in", {"email": "", "password": "", "next": "/"})
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert 'href="#email"' in response.text and "Enter an email address" in response.text
    assert 'href="#password"' in response.text and "Enter your password" in response.text


async def test_next_only_returns_to_this_site(client, world):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    response = await client.post_form(
        "/sign-in",
        {"email": "lead@trust.example", "password": PASSWORD, "next": "//evil.example/x"},
    )
    assert response.headers["location"] == "/"


async def test_emailed_link_signs_in_once_only(client, make_client, world, mailbox):
    org = await world.org()
    await world.user(org, "rep@people.example", Role.REPRESENTATIVE, password=None)
    response = await client.post_form("/sign-in/link", {"email": "rep@people.example"})
    assert response.status_code == 303
    assert "Check your email" in (await client.get(response.headers["location"])).text

    assert await deliver_mail() == 1
    [message] = mailbox.to("rep@people.example")
    assert message["Subject"] == "Your link to sign in to Coprod"
    assert message.get_body(preferencelist=("html",)) is not None
    path = mailbox.link(message)

    # Opening the link (as a mail scanner would) does not spend it.
    assert (await client.get(path)).status_code == 200
    assert (await client.get(path)).status_code == 200
    signed_in = await client.post_form(path, {})
    assert signed_in.status_code == 303
    assert "Hello, Rep" in (await client.get("/")).text

    other = make_client()
    assert (await other.get(path)).status_code == 410
    second = await other.post_form(path, {}, token_from="/sign-in")
    assert second.status_code == 410
    assert "This link has expired" in second.text
    assert (await other.get("/admin/audit")).status_code == 303


async def test_link_expires_after_15_minutes(client, world, mailbox):
    org = await world.org()
    await world.user(org, "rep@people.example", Role.REPRESENTATIVE, password=None)
    await client.post_form("/sign-in/link", {"email": "rep@people.example"})
    link = await EmailLink.get()
    assert dt.timedelta(minutes=14) < link.expires_at - link.created_at <= dt.timedelta(minutes=15)
    await deliver_mail()
    path = mailbox.link(mailbox.to("rep@people.example")[0])
    await EmailLink.filter(id=link.id).update(
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )
    assert (await client.post_form(path, {}, token_from="/sign-in")).status_code == 410
    assert await Session.all().count() == 0


async def test_link_request_does_not_reveal_who_has_an_account(client, world, mailbox):
    org = await world.org()
    await world.user(org, "rep@people.example", Role.REPRESENTATIVE, password=None)
    known = await client.post_form("/sign-in/link", {"email": "rep@people.example"})
    unknown = await client.post_form("/sign-in/link", {"email": "nobody@people.example"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    await deliver_mail()
    assert len(mailbox.messages) == 1


async def test_password_reset_by_emailed_link(client, world, mailbox):
    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    await sign_in(client, "lead@trust.example")
    assert await Session.filter(user=user).count() == 1
    await client.post_form("/password-reset", {"email": "lead@trust.example"})
    await deliver_mail()
    [message] = mailbox.to("lead@trust.example")
    path = mailbox.link(message)
    assert path.startswith("/password-reset/")

    short = await client.post_form(path, {"password": "short", "confirm_password": "short"})
    assert short.status_code == 422 and "12 characters or more" in short.text
    mismatch = await client.post_form(
        path, {"password": "a new long password", "confirm_password": "something else"}
    )
    assert mismatch.status_code == 422 and "do not match" in mismatch.text

    done = await client.post_form(
        path, {"password": "a new long password", "confirm_password": "a new long password"}
    )
    assert done.status_code == 303
    await user.refresh_from_db()
    assert verify_password(user.password_hash, "a new long password")
    assert user.password_hash.startswith("$argon2")
    # Resetting signs the person out everywhere, and the link is spent.
    assert await Session.filter(user=user).count() == 0
    assert (await client.get(path)).status_code == 410


async def test_sign_out_ends_the_session(client, world):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    await sign_in(client, "lead@trust.example")
    response = await client.post_form("/sign-out", {}, token_from="/")
    assert response.status_code == 303
    assert await Session.all().count() == 0
    assert (await client.get("/admin/audit")).status_code == 303


async def test_throttling_per_account(client, world):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    for _ in range(5):
        r = await client.post_form(
            "/sign-in", {"email": "lead@trust.example", "password": "nope nope nope", "next": "/"}
        )
        assert r.status_code == 422
    blocked = await client.post_form(
        "/sign-in", {"email": "lead@trust.example", "password": PASSWORD, "next": "/"}
    )
    assert blocked.status_code == 429
    assert "too many times" in blocked.text
    assert await Session.all().count() == 0


async def test_throttling_per_address(client, world):
    for i in range(20):
        await client.post_form(
            "/sign-in", {"email": f"someone{i}@trust.example", "password": "x" * 12, "next": "/"}
        )
    blocked = await client.post_form(
        "/sign-in", {"email": "another@trust.example", "password": "x" * 12, "next": "/"}
    )
    assert blocked.status_code == 429


async def test_inactive_users_cannot_sign_in(client, world):
    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    await User.filter(id=user.id).update(is_active=False)
    r = await client.post_form(
        "/sign-in", {"email": "lead@trust.example", "password": PASSWORD, "next": "/"}
    )
    assert r.status_code == 422


async def test_choosing_between_organisations(client, world):
    first = await world.org("First Trust")
    second = await world.org("Second Trust")
    await world.user(first, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    await world.user(second, "lead@trust.example", Role.ORG_ADMIN)
    await sign_in(client, "lead@trust.example")
    assert "First Trust" in (await client.get("/")).text
    bad = await client.post_form("/organisations", {"organisation": "99999"})
    assert bad.status_code == 422 and "Select an organisation" in bad.text
    ok = await client.post_form("/organisations", {"organisation": str(second.id)})
    assert ok.status_code == 303
    assert "Second Trust" in (await client.get("/")).text
    assert (await client.get("/admin/audit")).status_code == 200
