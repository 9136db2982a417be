"""Declaring JSON API operations once, to get their routes, their validation and the OpenAPI
document from the same typed declarations (see `coprod.web.api.schema`)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import Role
from coprod.services.actor import Actor
from coprod.validation import FieldError, ValidationFailed, check_text_is_safe
from coprod.web import csrf
from coprod.web.api.schema import Body, Errors, Query, field_errors

ApiHandler = Callable[..., Awaitable[Any]]

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
    """The errors shape (`schema.Errors`) every 4xx and 503 reply uses."""
    return JSONResponse({"errors": [e.as_dict() for e in errors]}, status_code=status)


def error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"field": field, "message": message}]}, status_code=status)


REF = "#/components/schemas/{model}"


@dataclass
class Operation:
    method: str
    path: str
    handler: ApiHandler
    summary: str
    roles: tuple[Role, ...]
    body: type[Body] | None
    reply: type[BaseModel] | None
    query: type[Query] | None
    status: int
    tag: str
    public: bool
    session_only: bool
    content_type: str = "application/json"
    description: str = ""
    # For a public operation another service calls (GOV.UK Notify's callbacks): whether the
    # request carries that service's credentials, checked before the body is read.
    guard: Callable[[Request], bool] | None = None
    adapter: TypeAdapter[Any] | None = field(default=None, repr=False)


class Api:
    def __init__(self, prefix: str = "/api/v1") -> None:
        self.prefix = prefix
        self.operations: list[Operation] = []
        self._document: dict[str, Any] | None = None

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        roles: tuple[Role, ...] = (),
        body: type[Body] | None = None,
        reply: type[BaseModel] | None = None,
        query: type[Query] | None = None,
        status: int = 200,
        public: bool = False,
        session_only: bool = False,
        content_type: str = "application/json",
        description: str = "",
        guard: Callable[[Request], bool] | None = None,
    ) -> Callable[[ApiHandler], ApiHandler]:
        """Declare an operation. The handler gets `body` (an instance of `body`) and `query`
        (of `query`) as keyword arguments when those are declared, and the path's ids. It
        returns an instance of `reply`, a dict of its fields, or a ready `Response` (a file, or
        an error). `content_type` other than JSON means the handler returns the file itself."""

        def decorate(handler: ApiHandler) -> ApiHandler:
            self._document = None
            self.operations.append(
                Operation(
                    method=method,
                    path=self.prefix + path,
                    handler=handler,
                    summary=summary,
                    roles=roles,
                    body=body,
                    reply=reply,
                    query=query,
                    status=status,
                    tag=tag,
                    public=public,
                    session_only=session_only,
                    content_type=content_type,
                    description=description,
                    guard=guard,
                    adapter=TypeAdapter(reply) if reply is not None else None,
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
        if op.guard is not None and not op.guard(request):
            return error(
                401, "Send the bearer token this service was given in the Authorization header"
            )
        kwargs: dict[str, Any] = dict(request.path_params)
        try:
            if op.query is not None:
                try:
                    kwargs["query"] = op.query.model_validate(dict(request.query_params))
                except ValidationError as exc:
                    return error_response(422, field_errors(exc, op.query))
            if op.body is not None:
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
                try:
                    kwargs["body"] = op.body.model_validate(body)
                except ValidationError as exc:
                    return error_response(422, field_errors(exc, op.body))
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
        assert op.adapter is not None, f"{op.handler.__name__} declares no JSON reply"
        # A reply that does not match its declaration is our bug: it fails loudly here rather
        # than reaching a client as something the published schema does not describe.
        checked = op.adapter.validate_python(result)
        return Response(
            op.adapter.dump_json(checked), status_code=op.status, media_type="application/json"
        )

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document, built once from the declarations (they do not change while
        the app runs)."""
        if self._document is None:
            self._document = self._build_document()
        return self._document

    def _build_document(self) -> dict[str, Any]:
        models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Errors, "serialization")]
        for op in self.operations:
            models += [(m, "validation") for m in (op.body, op.query) if m is not None]
            if op.reply is not None:
                models.append((op.reply, "serialization"))
        refs, defs = models_json_schema(models, ref_template=REF)
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            paths.setdefault(op.path.replace(":int}", "}"), {})[op.method.lower()] = self._entry(
                op, refs, defs.get("$defs", {})
            )
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
                "schemas": defs.get("$defs", {}),
                "securitySchemes": {
                    "token": {"type": "http", "scheme": "bearer"},
                    "session": {"type": "apiKey", "in": "cookie", "name": "coprod_session"},
                },
            },
            "security": [{"token": []}, {"session": []}],
            "paths": paths,
        }

    def _entry(self, op: Operation, refs: Any, components: dict[str, Any]) -> dict[str, Any]:
        if op.reply is not None and op.content_type == "application/json":
            success: dict[str, Any] = {op.content_type: {"schema": refs[op.reply, "serialization"]}}
        else:
            success = {op.content_type: {"schema": {"type": "string"}}}
        responses: dict[str, Any] = {str(op.status): {"description": "Success", "content": success}}
        errors = {"application/json": {"schema": refs[Errors, "serialization"]}}
        for status, description in ERROR_STATUSES.items():
            if (op.public and status == 403) or (op.body is None and status == 415):
                continue
            if op.public and status == 401 and op.guard is None:
                continue
            responses[str(status)] = {"description": description, "content": errors}
        entry: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.handler.__name__,
            "tags": [op.tag],
            "responses": responses,
        }
        description = " ".join(
            part
            for part in (
                op.description,
                "Roles: " + ", ".join(r.value for r in op.roles) if op.roles else "",
            )
            if part
        )
        if description:
            entry["description"] = description
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
            for name in _path_params(op.path)
        ]
        if op.query is not None:
            params += _query_params(components[_ref_name(refs[op.query, "validation"])])
        if params:
            entry["parameters"] = params
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[op.body, "validation"]}},
            }
        if op.public:
            entry["security"] = []
        return entry


def _ref_name(ref: dict[str, str]) -> str:
    return ref["$ref"].rsplit("/", 1)[-1]


def _query_params(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A query model's fields as OpenAPI parameters."""
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            param["description"] = prop.pop("description")
        param["schema"] = prop
        params.append(param)
    return params


def _path_params(path: str) -> list[str]:
    # A parameter may share its segment with a suffix, as in "{id:int}.csv".
    return re.findall(r"\{(\w+)(?::\w+)?\}", path)


api = Api()
