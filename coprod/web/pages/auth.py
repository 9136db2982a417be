"""Sign in (password, emailed link or texted code), sign out, password reset, choosing an
organisation."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.config import get_settings
from coprod.errors import NotFound
from coprod.models import LinkPurpose, Organisation, User
from coprod.services import auth, sign_in_codes
from coprod.services.actor import Actor
from coprod.validation import Checker, ValidationFailed
from coprod.web.guards import checked_form, form_values, public_form, signed_in
from coprod.web.middleware import SESSION_COOKIE
from coprod.web.render import page, redirect, set_cookie


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(value: str | None) -> str:
    """Only ever send people back to a page on this site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


async def _signed_in_response(user: User, next_url: str) -> Response:
    secret = await auth.start_session(user)
    response = redirect(safe_next(next_url))
    set_cookie(response, SESSION_COOKIE, secret, max_age=get_settings().session_days * 86400)
    return response


def _throttled(
    request: Request,
    template: str,
    form: dict[str, str],
    exc: auth.Throttled,
    message: str,
    field: str = "email",
    context: dict[str, object] | None = None,
) -> Response:
    seconds = math.ceil(exc.wait.total_seconds())
    minutes = math.ceil(seconds / 60)
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    response = page(
        request,
        template,
        {**(context or {}), "form": form},
        status_code=429,
        errors=ValidationFailed.one(field, message.format(wait=wait)),
    )
    response.headers["Retry-After"] = str(seconds)
    return response


@public_form
async def sign_in(request: Request) -> Response:
    next_url = request.query_params.get("next", "/")
    codes = get_settings().uses("text")
    if request.method == "GET":
        return page(request, "auth/sign_in.html", {"next": next_url, "codes": codes})
    form = form_values(await request.form())
    checker = Checker(form)
    email = checker.email("email")
    password = checker.raw("password")
    if not password:
        checker.fail("password", "Enter your password")
    context = {"form": {"email": email}, "next": next_url, "codes": codes}
    try:
        checker.done()
        user = await auth.sign_in_with_password(email, password, client_address(request))
    except ValidationFailed as exc:
        return page(request, "auth/sign_in.html", context, status_code=422, errors=exc)
    except auth.Throttled as exc:
        message = (
            "You have tried to sign in too many times. Wait {wait}, then try again, "
            "or get a sign-in link by email instead."
        )
        return _throttled(
            request, "auth/sign_in.html", {"email": email}, exc, message, context=context
        )
    except auth.SignInFailed:
        error = ValidationFailed.one("email", "Your email address or password is not right")
        return page(request, "auth/sign_in.html", context, status_code=422, errors=error)
    return await _signed_in_response(user, str(form.get("next", "/")))


async def _send_link_form(request: Request, purpose: LinkPurpose, template: str) -> Response:
    if request.method == "GET":
        return page(request, template)
    form = form_values(await request.form())
    checker = Checker(form)
    email = checker.email("email")
    try:
        checker.done()
        await auth.send_link(email, purpose, client_address(request))
    except ValidationFailed as exc:
        return page(request, template, {"form": {"email": email}}, status_code=422, errors=exc)
    except auth.Throttled as exc:
        message = "You have asked for too many links. Wait {wait}, then try again."
        return _throttled(request, template, {"email": email}, exc, message)
    return redirect(f"/sign-in/check-email?for={purpose.value}")


@public_form
async def request_link(request: Request) -> Response:
    return await _send_link_form(request, LinkPurpose.SIGN_IN, "auth/request_link.html")


async def check_email(request: Request) -> Response:
    reset = request.query_params.get("for") == LinkPurpose.PASSWORD_RESET.value
    return page(
        request,
        "auth/check_email.html",
        {"reset": reset, "minutes": get_settings().link_expiry_minutes},
    )


@public_form
async def use_link(request: Request) -> Response:
    """GET only shows a button: mail scanners that fetch links must not spend them."""
    token = request.path_params["token"]
    if request.method == "GET":
        usable = await auth.link_is_usable(token, LinkPurpose.SIGN_IN)
        return page(
            request, "auth/use_link.html", {"usable": usable}, status_code=200 if usable else 410
        )
    try:
        user = await auth.use_link(token, LinkPurpose.SIGN_IN)
    except auth.SignInFailed:
        return page(request, "auth/use_link.html", {"usable": False}, status_code=410)
    return await _signed_in_response(user, "/")


def _codes_in_use() -> None:
    # An installation that sends no texts has no codes to offer.
    if not get_settings().uses("text"):
        raise NotFound


@public_form
async def request_code(request: Request) -> Response:
    _codes_in_use()
    template = "auth/request_code.html"
    if request.method == "GET":
        return page(request, template)
    form = form_values(await request.form())
    mobile = str(form.get("mobile", "")).strip()
    try:
        challenge = await sign_in_codes.send_code(mobile, client_address(request))
    except ValidationFailed as exc:
        return page(request, template, {"form": {"mobile": mobile}}, status_code=422, errors=exc)
    except auth.Throttled as exc:
        message = "You have asked for too many codes. Wait {wait}, then try again."
        return _throttled(request, template, {"mobile": mobile}, exc, message, field="mobile")
    return redirect(f"/sign-in/code/{challenge}")


@public_form
async def enter_code(request: Request) -> Response:
    """The same page, and the same answers, whether or not the number had an account."""
    _codes_in_use()
    challenge = request.path_params["token"]
    template = "auth/enter_code.html"
    context = {"usable": True, "minutes": get_settings().sign_in_code_minutes}
    stopped = {**context, "usable": False}
    if request.method == "GET":
        usable = await sign_in_codes.code_is_usable(challenge)
        return page(
            request, template, context if usable else stopped, status_code=200 if usable else 410
        )
    form = form_values(await request.form())
    try:
        user = await sign_in_codes.use_code(challenge, str(form.get("code", "")))
    except ValidationFailed as exc:
        return page(request, template, context, status_code=422, errors=exc)
    except sign_in_codes.WrongCode as exc:
        if exc.tries_left == 0:
            return page(request, template, {**stopped, "tries_spent": True}, status_code=410)
        times = "1 more time" if exc.tries_left == 1 else f"{exc.tries_left} more times"
        error = ValidationFailed.one("code", f"The code is not right. You can try {times}")
        return page(request, template, context, status_code=422, errors=error)
    except auth.SignInFailed:
        return page(request, template, stopped, status_code=410)
    return await _signed_in_response(user, "/")


@public_form
async def request_reset(request: Request) -> Response:
    return await _send_link_form(request, LinkPurpose.PASSWORD_RESET, "auth/request_reset.html")


@public_form
async def choose_password(request: Request) -> Response:
    token = request.path_params["token"]
    usable = await auth.link_is_usable(token, LinkPurpose.PASSWORD_RESET)
    if not usable:
        return page(request, "auth/choose_password.html", {"usable": False}, status_code=410)
    if request.method == "GET":
        return page(request, "auth/choose_password.html", {"usable": True})
    form = form_values(await request.form())
    password = str(form.get("password", ""))
    try:
        if password != form.get("confirm_password"):
            raise ValidationFailed.one("confirm_password", "The two passwords do not match")
        await auth.reset_password(token, password)
    except ValidationFailed as exc:
        return page(
            request, "auth/choose_password.html", {"usable": True}, status_code=422, errors=exc
        )
    except auth.SignInFailed:
        return page(request, "auth/choose_password.html", {"usable": False}, status_code=410)
    return redirect("/sign-in?reset=done")


@signed_in()
async def sign_out(request: Request, actor: Actor) -> Response:
    if secret := request.cookies.get(SESSION_COOKIE):
        await auth.end_session(secret)
    response = redirect("/sign-in?signed_out=1")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@signed_in()
async def choose_organisation(request: Request, actor: Actor) -> Response:
    assert actor.user is not None
    org_ids = await auth.organisations_of(actor.user)
    organisations = await Organisation.filter(id__in=org_ids)
    if request.method == "POST":
        form = await checked_form(request)
        chosen = str(form.get("organisation", ""))
        session = request.state.session
        if (
            session is None
            or not chosen.isdigit()
            or not await auth.switch_organisation(session, int(chosen))
        ):
            error = ValidationFailed.one("organisation", "Select an organisation")
            return page(
                request,
                "auth/choose_organisation.html",
                {"organisations": organisations},
                status_code=422,
                errors=error,
            )
        return redirect("/")
    return page(request, "auth/choose_organisation.html", {"organisations": organisations})


routes = [
    Route("/sign-in", sign_in, methods=["GET", "POST"]),
    Route("/sign-in/link", request_link, methods=["GET", "POST"]),
    Route("/sign-in/check-email", check_email, methods=["GET"]),
    Route("/sign-in/link/{token}", use_link, methods=["GET", "POST"]),
    Route("/sign-in/code", request_code, methods=["GET", "POST"]),
    Route("/sign-in/code/{token}", enter_code, methods=["GET", "POST"]),
    Route("/password-reset", request_reset, methods=["GET", "POST"]),
    Route("/password-reset/{token}", choose_password, methods=["GET", "POST"]),
    Route("/sign-out", sign_out, methods=["POST"]),
    Route("/organisations", choose_organisation, methods=["GET", "POST"]),
]
