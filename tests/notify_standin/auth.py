"""Notify's authentication, as app/authentication/auth.py does it.

`Authorization: Bearer <JWT>`, HS256, `iss` the service id, `iat` within 30 seconds of now,
signed with the secret of one of the service's API keys. Notify checks the token with the
client library's own `decode_jwt_token`, and so does the stand-in.
"""

from __future__ import annotations

import uuid

from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.errors import (
    TokenAlgorithmError,
    TokenDecodeError,
    TokenError,
    TokenExpiredError,
    TokenIssuerError,
)

from tests.notify_standin.wire import Refused, error_reply

GENERAL_TOKEN_ERROR_MESSAGE = (
    "Invalid token: make sure your API token matches the example at "
    "https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header"
)

CLOCK_MESSAGE = "Error: Your system clock must be accurate to within 30 seconds"


def _auth_error(message: str, status: int = 403) -> Refused:
    return Refused(error_reply(status, "AuthError", message))


def key_type_for(authorization: str | None, service_id: str, secrets: dict[str, str]) -> str:
    """The type of key ("normal", "team" or "test") that signed the request's token.

    `secrets` maps each of the service's key secrets to its type; revoked keys are left out
    of it by the caller, and give "API key not found" (Notify says "revoked" only for keys
    it still holds, which the stand-in does not model).
    """
    if not authorization:
        raise _auth_error("Unauthorized: authentication token must be provided", 401)
    if authorization[:7].title() != "Bearer ":
        raise _auth_error("Unauthorized: authentication bearer scheme must be used", 401)
    token = authorization[7:]
    try:
        issuer = get_token_issuer(token)
    except TokenIssuerError as e:
        raise _auth_error("Invalid token: iss field not provided") from e
    except TokenDecodeError as e:
        raise _auth_error(GENERAL_TOKEN_ERROR_MESSAGE) from e
    try:
        uuid.UUID(str(issuer))
    except ValueError as e:
        raise _auth_error("Invalid token: service id is not the right data type") from e
    if str(issuer) != service_id:
        raise _auth_error("Invalid token: service not found")
    if not secrets:
        raise _auth_error("Invalid token: service has no API keys")
    for secret, key_type in secrets.items():
        try:
            decode_jwt_token(token, secret)
        except TokenExpiredError as e:
            raise _auth_error(CLOCK_MESSAGE) from e
        except TokenAlgorithmError as e:
            raise _auth_error("Invalid token: algorithm used is not HS256") from e
        except TokenDecodeError:
            # Not signed with this key: Notify tries the next one.
            continue
        except TokenError as e:
            raise _auth_error(GENERAL_TOKEN_ERROR_MESSAGE) from e
        return key_type
    raise _auth_error("Invalid token: API key not found")
