"""Hold the Google emulator to the discovery documents google-api-python-client ships.

`GoogleApi` calls a method by its discovery id (``events.insert``), builds the path from the
document, and validates every answer: a JSON success against the method's response schema (as
JSON Schema with ``additionalProperties: false``, so a field Google does not have fails), an error
against Google's error shape.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any
from urllib.parse import quote

import jsonschema
from googleapiclient.discovery_cache import get_static_doc
from werkzeug.test import Client

VERSIONS = {"calendar": "v3", "drive": "v3", "gmail": "v1"}

ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "message", "errors", "status"],
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"type": "string", "pattern": "^[A-Z_]+$"},
                "errors": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["domain", "reason", "message"],
                        "properties": {
                            "domain": {"type": "string"},
                            "reason": {"type": "string"},
                            "message": {"type": "string"},
                            "location": {"type": "string"},
                            "locationType": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}
"""Google's JSON error body (not part of the discovery documents)."""

DATE_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"


@functools.cache
def document(api: str) -> dict[str, Any]:
    """The discovery document of `api` as the client library ships it."""
    return json.loads(get_static_doc(api, VERSIONS[api]))


@functools.cache
def json_schema(api: str) -> dict[str, Any]:
    """Every schema of the document as JSON Schema definitions."""
    doc = document(api)
    return {"definitions": {name: convert(schema) for name, schema in doc["schemas"].items()}}


def convert(schema: dict[str, Any]) -> dict[str, Any]:
    """One discovery schema as JSON Schema: closed objects, typed strings for formats."""
    if "$ref" in schema:
        return {"$ref": f"#/definitions/{schema['$ref']}"}
    kind = schema.get("type")
    if kind == "object":
        out: dict[str, Any] = {"type": "object"}
        if "properties" in schema:
            out["properties"] = {k: convert(v) for k, v in schema["properties"].items()}
        if "additionalProperties" in schema:
            out["additionalProperties"] = convert(schema["additionalProperties"])
        else:
            out["additionalProperties"] = False
        return out
    if kind == "array":
        return {"type": "array", "items": convert(schema.get("items", {"type": "any"}))}
    if kind == "string":
        out = {"type": "string"}
        pattern = {
            "date-time": DATE_TIME,
            "google-datetime": DATE_TIME,
            "date": r"^\d{4}-\d{2}-\d{2}$",
            "int64": r"^-?\d+$",
            "uint64": r"^\d+$",
            "byte": r"^[A-Za-z0-9_\-+/=]*$",
        }.get(schema.get("format", ""))
        if pattern:
            out["pattern"] = pattern
        if "enum" in schema:
            out["enum"] = schema["enum"]
        return out
    if kind in ("integer", "number", "boolean"):
        return {"type": kind}
    return {}


@functools.cache
def validator(api: str, schema_name: str) -> jsonschema.Draft7Validator:
    """A validator for one schema of `api` (built once: the documents are large)."""
    schema = {**json_schema(api), "$ref": f"#/definitions/{schema_name}"}
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def validate(api: str, schema_name: str, value: Any) -> None:
    """Raise if `value` is not a valid `schema_name` of `api`."""
    validator(api, schema_name).validate(value)


def method(api: str, dotted: str) -> dict[str, Any]:
    """A method description by its dotted id within the API (``users.messages.send``)."""
    node: dict[str, Any] = document(api)
    *resources, name = dotted.split(".")
    for resource in resources:
        node = node["resources"][resource]
    return dict(node["methods"][name])


class GoogleApi:
    """Calls the emulator by discovery method id, as one user, validating every answer."""

    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.token = token

    def __call__(
        self,
        api: str,
        dotted: str,
        *,
        body: Any = None,
        expect: int | None = None,
        headers: dict[str, str] | None = None,
        media: tuple[bytes, str] | None = None,
        upload: str = "media",
        **params: Any,
    ) -> Any:
        """Call a method (path and query parameters from `params`); `expect` None is any 2xx."""
        desc = method(api, dotted)
        doc = document(api)
        names = re.findall(r"{\+?(\w+)}", desc["path"])
        values = {name: quote(str(params.pop(name)), safe="") for name in names}
        path = desc["path"]
        for name, value in values.items():
            path = re.sub(r"{\+?" + name + "}", value, path)
        url = "/" + doc["servicePath"] + path
        data: bytes | None = None
        content_type = None
        if media is not None:
            url = desc["mediaUpload"]["protocols"]["simple"]["path"]
            for name, value in values.items():
                url = url.replace("{" + name + "}", value)
            params["uploadType"] = upload
            data, content_type = _upload_body(media, body, upload)
        elif body is not None:
            data, content_type = json.dumps(body).encode(), "application/json"
        query = [
            (k, str(v).lower() if isinstance(v, bool) else str(v))
            for k, values in params.items()
            for v in (values if isinstance(values, list) else [values])
        ]
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        if content_type:
            sent["Content-Type"] = content_type
        response = self.client.open(
            url, method=desc["httpMethod"], query_string=query, data=data, headers=sent
        )
        status = response.status_code
        ok = status == expect if expect is not None else 200 <= status < 300
        assert ok, (status, response.get_data(True))
        if response.status_code == 204:
            assert response.get_data() == b""
            return None
        if not response.content_type.startswith("application/json"):
            return response.get_data()
        answer = response.get_json()
        if response.status_code >= 400:
            jsonschema.Draft7Validator(ERROR_SCHEMA).validate(answer)
            assert answer["error"]["code"] == response.status_code
        elif "response" in desc:
            validate(api, desc["response"]["$ref"], answer)
        return answer


def _upload_body(media: tuple[bytes, str], body: Any, upload: str) -> tuple[bytes, str]:
    content, mime = media
    if upload == "media":
        return content, mime
    boundary = "===============boundary7=="
    meta = json.dumps(body or {}).encode()
    data = (
        f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode()
        + meta
        + f"\r\n--{boundary}\r\nContent-Type: {mime}\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--".encode()
    )
    return data, f'multipart/related; boundary="{boundary}"'


def error_reason(answer: dict[str, Any]) -> str:
    """The reason of an error body's first error."""
    return str(answer["error"]["errors"][0]["reason"])
