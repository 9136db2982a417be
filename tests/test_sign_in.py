"""Sign-in by password and by emailed link, password reset, sign-out, throttling."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from coprod.models import EmailLink, Role, Session, SignInAttempt, User
from coprod.security import verify_password
from coprod.web.middleware import SESSION_COOKIE
from tests.conftest import PASSWORD, deliver_mail, postgres_only, sign_in

WRONG = "not my password"


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


async def try_password(client, email: str, password: str = PASSWORD) -> Any:
    return await client.post_form("/sign-in", {"email": email, "password": password, "next": "/"})


def assert_told_to_wait(response: Any, *, at_most_minutes: int = 15) -> None:
    assert response.status_code == 429
    assert "There is a problem" in response.text
    wait = int(response.headers["retry-after"])
    assert 0 < wait <= at_most_minutes * 60
    minutes = -(-wait // 60)
    assert f"Wait {minutes} minute" in response.text


async def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client, world):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    await world.user(org, "colleague@trust.example", Role.INVOLVEMENT_LEAD)
    for _ in range(5):
        assert (await try_password(client, "lead@trust.example", WRONG)).status_code == 422

    blocked = await try_password(client, "lead@trust.example")
    assert_told_to_wait(blocked)
    assert "You have tried to sign in too many times" in blocked.text
    assert "get a sign-in link by email instead" in blocked.text
    assert await Session.all().count() == 0
    # The same address, and any spelling of the address, is still the locked account.
    assert_told_to_wait(await try_password(client, " Lead@Trust.example"))
    # Only that account waits: a colleague at the same address signs in.
    assert (await try_password(client, "colleague@trust.example")).status_code == 303
    # And the owner can still get in by an emailed link.
    assert (
        await client.post_form("/sign-in/link", {"email": "lead@trust.example"})
    ).status_code == 303


async def test_the_lock_lifts_when_the_window_has_passed(client, world):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    for _ in range(5):
        await try_password(client, "lead@trust.example", WRONG)
    assert_told_to_wait(await try_password(client, "lead@trust.example"))
    # Age the failures as fifteen minutes passing would.
    await SignInAttempt.all().update(
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=15, seconds=1)
    )
    assert (await try_password(client, "lead@trust.example")).status_code == 303


async def test_a_right_password_clears_the_accounts_failures(client, world):
    """Someone who mistypes now and then is never locked out: signing in wipes the slate."""
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    for _ in range(3):
        for _ in range(4):
            assert (await try_password(client, "lead@trust.example", WRONG)).status_code == 422
        assert (await try_password(client, "lead@trust.example")).status_code == 303
    assert await Session.all().count() == 3


async def test_thirty_colleagues_behind_one_trust_address_all_sign_in(make_client, world):
    """Every client here comes from one address, as staff behind a trust's gateway do."""
    org = await world.org()
    emails = [f"colleague{i:02d}@trust.example" for i in range(30)]
    for email in emails:
        await world.user(org, email, Role.INVOLVEMENT_LEAD)
    for i, email in enumerate(emails):
        client = make_client()
        if i % 3 == 0:  # a third of them mistype first
            assert (await try_password(client, email, WRONG)).status_code == 422
        response = await try_password(client, email)
        assert response.status_code == 303, response.text
    assert await Session.all().count() == 30


async def test_guessing_across_many_accounts_from_one_address_is_slowed(client, world):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    for i in range(50):
        response = await try_password(client, f"someone{i}@trust.example", "Summer2026!!")
        assert response.status_code == 422
    blocked = await try_password(client, "another@trust.example", "Summer2026!!")
    assert_told_to_wait(blocked)
    # A right password from that address does not reset the count.
    assert_told_to_wait(await try_password(client, "lead@trust.example"))
    assert await Session.all().count() == 0


async def test_asking_for_links_never_blocks_password_sign_in(client, world, mailbox):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    for i in range(30):
        response = await client.post_form("/sign-in/link", {"email": f"rep{i}@people.example"})
        assert response.status_code == 303
    # Links from this address are now limited...
    assert_told_to_wait(await client.post_form("/sign-in/link", {"email": "new@people.example"}))
    # ...but signing in with a password is not.
    assert (await try_password(client, "lead@trust.example")).status_code == 303


async def test_links_to_one_email_address_are_limited(client, make_client, world, mailbox):
    org = await world.org()
    await world.user(org, "rep@people.example", Role.REPRESENTATIVE, password=None)
    await world.user(org, "other@people.example", Role.REPRESENTATIVE, password=None)
    for _ in range(3):
        response = await client.post_form("/sign-in/link", {"email": "rep@people.example"})
        assert response.status_code == 303
    # Reset links count too: both fill the same inbox.
    blocked = await make_client().post_form("/password-reset", {"email": "Rep@People.example"})
    assert_told_to_wait(blocked)
    assert "You have asked for too many links" in blocked.text
    # Nobody learns whether the address has an account: an unknown one is limited the same way.
    for _ in range(3):
        await client.post_form("/sign-in/link", {"email": "nobody@people.example"})
    assert_told_to_wait(await client.post_form("/sign-in/link", {"email": "nobody@people.example"}))
    assert (
        await client.post_form("/sign-in/link", {"email": "other@people.example"})
    ).status_code == 303
    assert await deliver_mail() == 4
    assert len(mailbox.to("rep@people.example")) == 3


@postgres_only
async def test_twenty_guesses_at_once_get_no_more_than_five_tries(make_client, world):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    clients = [make_client() for _ in range(20)]
    for c in clients:
        await c.csrf("/sign-in")
    responses = await asyncio.gather(
        *(try_password(c, "lead@trust.example", f"guess number {i}") for i, c in enumerate(clients))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(422) <= 5
    assert set(codes) <= {422, 429}
    checked = await SignInAttempt.filter(account="lead@trust.example").count()
    assert checked == codes.count(422)
    # Refusing too many at once is safe; what must hold is five guesses in all, then a wait.
    for _ in range(5 - checked):
        response = await try_password(make_client(), "lead@trust.example", WRONG)
        assert response.status_code == 422
    assert_told_to_wait(await try_password(make_client(), "lead@trust.example"))


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
