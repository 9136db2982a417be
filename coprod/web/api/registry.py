"""Declaring JSON API operations once, to get both the routes and the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import Role
from coprod.services.actor import Actor
from coprod.validation import FieldError, ValidationFailed, check_text_is_safe
from coprod.web import csrf

ApiHandler = Callable[..., Awaitable[Any]]

ERROR_SCHEMA = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                },
            },
        },
        "conflicts": {
            "type": "array",
            "description": "Only when a change would leave bookings breaking a rule: who and "
            "why, for the lead to send a decision for each",
            "items": {
                "type": "object",
                "properties": {
                    "booking_id": {"type": "integer"},
                    "representative_id": {"type": "integer"},
                    "full_name": {"type": "string"},
                    "starts_at": {"type": "string", "format": "date-time"},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}

ERROR_STATUSES = {
    401: "Not signed in, or the token is not valid",
    403: "Signed in, but not allowed to do this",
    404: "No such record in your organisation",
    409: "The request conflicts with a rule about the current state",
    413: "The request body is larger than the service accepts",
    415: "The request body is not JSON",
    422: "The input is not valid; each error names its field",
    503: "The service is unavailable for a short time; try again after Retry-After seconds",
}


def error_response(status: int, errors: list[FieldError]) -> JSONResponse:
    return JSONResponse({"errors": [e.as_dict() for e in errors]}, status_code=status)


def error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"field": field, "message": message}]}, status_code=status)


@dataclass
class Operation:
    method: str
    path: str
    handler: ApiHandler
    summary: str
    roles: tuple[Role, ...]
    request_schema: dict[str, Any] | None
    response_schema: dict[str, Any] | None
    status: int
    tag: str
    public: bool
    session_only: bool
    query: list[dict[str, Any]] = field(default_factory=list)
    content_type: str = "application/json"


class Api:
    def __init__(self, prefix: str = "/api/v1") -> None:
        self.prefix = prefix
        self.operations: list[Operation] = []

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        roles: tuple[Role, ...] = (),
        request: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
        status: int = 200,
        public: bool = False,
        session_only: bool = False,
        query: list[dict[str, Any]] | None = None,
        content_type: str = "application/json",
    ) -> Callable[[ApiHandler], ApiHandler]:
        def decorate(handler: ApiHandler) -> ApiHandler:
            self.operations.append(
                Operation(
                    method=method,
                    path=self.prefix + path,
                    handler=handler,
                    summary=summary,
                    roles=roles,
                    request_schema=request,
                    response_schema=response,
                    status=status,
                    tag=tag,
                    public=public,
                    session_only=session_only,
                    query=query or [],
                    content_type=content_type,
                )
            )
            return handler

        return decorate

    def routes(self) -> list[Route]:
        by_path: dict[str, dict[str, Operation]] = {}
        for op in self.operations:
            by_path.setdefault(op.path, {})[op.method] = op
        return [
            Route(path, self._endpoint(ops), methods=list(ops)) for path, ops in by_path.items()
        ]

    def _endpoint(self, ops: dict[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            op = ops.get(request.method) or ops.get("GET")
            assert op is not None
            return await self._run(op, request)

        return endpoint

    async def _run(self, op: Operation, request: Request) -> Response:
        actor: Actor | None = request.state.actor
        if not op.public:
            if actor is None:
                return error(401, "Sign in, or send an API token in the Authorization header")
            via_token = request.state.via_token
            if via_token and op.session_only:
                return error(403, "This can only be done by a person signed in, not by a token")
            unsafe = request.method not in ("GET", "HEAD")
            if (
                unsafe
                and not via_token
                and not csrf.is_valid(request, request.headers.get(csrf.HEADER))
            ):
                return error(403, "Send the X-CSRF-Token header with requests made in a browser")
            if op.roles and not actor.has(*op.roles):
                return error(403, "You do not have a role that can do this")
        kwargs: dict[str, Any] = dict(request.path_params)
        try:
            if op.request_schema is not None:
                raw = await request.body()
                media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if raw and media_type != "application/json" and not media_type.endswith("+json"):
                    return error(
                        415, "Send the request body as JSON, with Content-Type: application/json"
                    )
                try:
                    body = json.loads(raw or b"{}")
                except (ValueError, UnicodeDecodeError, RecursionError):
                    return error(422, "The request body must be valid JSON")
                if not isinstance(body, dict):
                    return error(422, "The request body must be a JSON object")
                check_text_is_safe(body)
                kwargs["body"] = body
            result = await op.handler(request, actor, **kwargs)
        except ValidationFailed as exc:
            return error_response(422, exc.errors)
        except NotFound:
            return error(404, "There is no such record in your organisation")
        except Conflict as exc:
            return error(409, exc.message, exc.field)
        except Forbidden:
            return error(403, "You do not have a role that can do this")
        if isinstance(result, Response):
            return result
        return JSONResponse(result, status_code=op.status)

    def openapi(self) -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            responses: dict[str, Any] = {
                str(op.status): {
                    "description": "Success",
                    "content": {op.content_type: {"schema": op.response_schema or {}}},
                }
            }
            for status, description in ERROR_STATUSES.items():
                if op.public and status in (401, 403):
                    continue
                if op.request_schema is None and status == 415:
                    continue
                responses[str(status)] = {
                    "description": description,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}
                    },
                }
            entry: dict[str, Any] = {
                "summary": op.summary,
                "operationId": op.handler.__name__,
                "tags": [op.tag],
                "responses": responses,
            }
            params = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
                for name in _path_params(op.path)
            ] + op.query
            if params:
                entry["parameters"] = params
            if op.request_schema is not None:
                entry["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": op.request_schema}},
                }
            if op.public:
                entry["security"] = []
            if op.roles:
                entry["description"] = "Roles: " + ", ".join(r.value for r in op.roles)
            openapi_path = op.path.replace(":int}", "}")
            paths.setdefault(openapi_path, {})[op.method.lower()] = entry
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "Coprod API",
                "version": "1",
                "description": "Co-production records for NHS mental-health trusts. "
                "Authenticate with a session (browsers send X-CSRF-Token on changes) or an "
                "organisation-scoped token: Authorization: Bearer cpd_...",
            },
            "servers": [{"url": "/"}],
            "components": {
                "schemas": {"Errors": ERROR_SCHEMA},
                "securitySchemes": {
                    "token": {"type": "http", "scheme": "bearer"},
                    "session": {"type": "apiKey", "in": "cookie", "name": "coprod_session"},
                },
            },
            "security": [{"token": []}, {"session": []}],
            "paths": paths,
        }


def _path_params(path: str) -> list[str]:
    names = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            names.append(part[1:-1].split(":")[0])
    return names


api = Api()
