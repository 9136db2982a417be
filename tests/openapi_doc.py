"""Reading the published OpenAPI document in tests: following references, and the checks every
area's operations must pass (a described reply, a described body, lists that page)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref` followed, and an optional's non-null choice taken."""
    if "$ref" in schema:
        return resolve(doc, doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    choices = [c for c in schema.get("anyOf", []) if c.get("type") != "null"]
    return resolve(doc, choices[0]) if len(choices) == 1 else schema


def operations_tagged(doc: dict[str, Any], tag: str) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if op["tags"] == [tag]
    }


def assert_described(doc: dict[str, Any], operations: Iterable[tuple[str, str]]) -> None:
    """Each JSON reply and body is a described object, and every list takes a limit and cursor."""
    for method, path in operations:
        op = doc["paths"][path][method]
        success = next(code for code in op["responses"] if code.startswith("2"))
        content = op["responses"][success].get("content", {})
        if "application/json" not in content:
            continue  # a file: its media type is checked where it is named
        reply = resolve(doc, content["application/json"]["schema"])
        assert reply["properties"], (method, path)
        if method in ("post", "put", "patch") and "requestBody" in op:
            body = op["requestBody"]["content"]["application/json"]["schema"]
            assert "properties" in resolve(doc, body), (method, path)
        if method == "get" and {"items", "next_cursor"} <= reply["properties"].keys():
            # Every list pages, and says so.
            assert {"limit", "cursor"} <= {p["name"] for p in op["parameters"]}, path
