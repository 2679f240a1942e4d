"""Hold Graph JSON to the msgraph-sdk's typed models: every field must be one the SDK knows.

`unknown_fields` parses a body with kiota's JSON parse node into the model the SDK would use
and returns every key that landed in some ``additional_data`` (what the SDK did not recognise),
as a dotted path. Instance annotations (keys starting with ``@``, such as ``@odata.etag`` or
``@microsoft.graph.downloadUrl``) are allowed: OData defines them outside the model.

msgraph-sdk is large, so it is imported only when a check runs.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from werkzeug.test import Client

MODELS = {
    "event": "msgraph.generated.models.event.Event",
    "events": "msgraph.generated.models.event_collection_response.EventCollectionResponse",
    "attachment": "msgraph.generated.models.attachment.Attachment",
    "attachments": (
        "msgraph.generated.models.attachment_collection_response.AttachmentCollectionResponse"
    ),
    "drive_item": "msgraph.generated.models.drive_item.DriveItem",
    "drive_items": (
        "msgraph.generated.models.drive_item_collection_response.DriveItemCollectionResponse"
    ),
    "drive_item_version": "msgraph.generated.models.drive_item_version.DriveItemVersion",
    "drive_item_versions": "msgraph.generated.models.drive_item_version_collection_response."
    "DriveItemVersionCollectionResponse",
    "message": "msgraph.generated.models.message.Message",
    "messages": "msgraph.generated.models.message_collection_response.MessageCollectionResponse",
    "schedule": "msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_response."
    "GetSchedulePostResponse",
    "error": "msgraph.generated.models.o_data_errors.o_data_error.ODataError",
    "batch": "msgraph_core.requests.batch_response_content.BatchResponseContent",
}
"""What each kind of body parses into."""


def _model(kind: str) -> Any:
    module, _, name = MODELS[kind].rpartition(".")
    return getattr(importlib.import_module(module), name)


def parse(kind: str, body: bytes | str | dict[str, Any]) -> Any:
    """Parse a Graph JSON body into the SDK's model for `kind` (a key of `MODELS`)."""
    # Imported here: the SDK's modules are large and only checks need them.
    from kiota_serialization_json.json_parse_node_factory import (  # noqa: PLC0415
        JsonParseNodeFactory,
    )

    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    raw = raw.encode() if isinstance(raw, str) else raw
    node = JsonParseNodeFactory().get_root_parse_node("application/json", raw)
    model = _model(kind)
    return node.get_object_value(model)


def _walk(value: Any, path: str, seen: set[int], found: list[str]) -> None:
    if value is None or isinstance(value, str | bytes | int | float | bool) or id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", seen, found)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{path}.{key}", seen, found)
        return
    attributes = getattr(value, "__dict__", None)
    if attributes is None:
        return
    for key, item in attributes.items():
        if key in ("additional_data", "_additional_data") and isinstance(item, dict):
            found.extend(f"{path}.{k}" for k in item if not str(k).startswith("@"))
        elif key not in ("backing_store",):
            _walk(item, f"{path}.{key.lstrip('_')}", seen, found)


def unknown_fields(kind: str, body: bytes | str | dict[str, Any]) -> list[str]:
    """Keys the SDK's model for `kind` does not know, as dotted paths (empty: nothing lost)."""
    found: list[str] = []
    _walk(parse(kind, body), kind, set(), found)
    return found


class CheckedClient:
    """An in-process client for the emulator that holds every JSON answer to the SDK models.

    `call` sends a request as `email` (a token is minted on first use) and fails when a JSON
    answer has a field the SDK's model for `kind` does not know; error answers are held to
    ``ODataError`` whatever `kind` says.
    """

    def __init__(self, app: Any, email: str) -> None:
        self.app = app
        self.email = email
        self.client = Client(app)
        self.token = app.token(email)

    def call(
        self,
        method: str,
        path: str,
        kind: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Send a request (``/v1.0`` is prefixed to a path that lacks it) and check the answer."""
        url = path if path.startswith(("/v1.0", "/_download")) else "/v1.0" + path
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        response = self.client.open(url, method=method, headers=sent, **kwargs)
        if "json" in (response.content_type or "") and response.get_data():
            check = "error" if response.status_code >= 400 else kind
            if check is not None:
                lost = unknown_fields(check, response.get_data())
                assert lost == [], f"fields the SDK does not know: {lost}"
        return response
