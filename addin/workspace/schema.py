"""Validate Card JSON against Google's published card schema, offline.

The card schema is Google's own: the ``GoogleAppsCardV1*`` schemas of the Chat v1 discovery
document that ships inside google-api-python-client (the same ``google.apps.card.v1`` cards serve
Chat apps and Workspace add-ons). They are turned into one JSON Schema in which every object
refuses unknown fields, so a misspelt field is an error instead of a silently blank widget.

The add-on's response envelopes (a trigger's ``action`` and a callback's ``renderActions``) are
not in any discovery document, so they are written here by hand from Google's add-on reference.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

DISCOVERY_DOCUMENT = "discovery_cache/documents/chat.v1.json"
"""The discovery document inside the ``googleapiclient`` package that holds the card schemas."""

CARD_PREFIX = "GoogleAppsCardV1"
CARD = f"{CARD_PREFIX}Card"


class CardError(ValueError):
    """Card JSON that Google would refuse or misrender; `path` points at the first problem."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@functools.cache
def discovery_schemas() -> Mapping[str, Any]:
    """The ``schemas`` of the Chat v1 discovery document shipped with google-api-python-client."""
    document = importlib.resources.files("googleapiclient").joinpath(DISCOVERY_DOCUMENT)
    schemas: Mapping[str, Any] = json.loads(document.read_text(encoding="utf-8"))["schemas"]
    return schemas


def definitions_from_discovery(
    schemas: Mapping[str, Any], roots: list[str]
) -> dict[str, dict[str, Any]]:
    """JSON Schema definitions for `roots` and every schema they reference, by discovery id.

    Discovery ``$ref: Name`` becomes ``#/definitions/Name``; every object gets
    ``additionalProperties: false``.
    """
    definitions: dict[str, dict[str, Any]] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in definitions:
            continue
        if name not in schemas:
            raise KeyError(f"discovery document has no schema {name!r}")
        refs: list[str] = []
        definition = _convert(schemas[name], refs)
        if name in _REQUIRED:
            definition["required"] = list(_REQUIRED[name])
        definitions[name] = definition
        pending.extend(refs)
    return definitions


# Discovery documents mark no field as required. These are the fields Google's own sample card
# schema for add-ons requires (https://developers.google.com/workspace/add-ons/guides/alternate-runtimes,
# "Sample JSON Schemas"): without them a widget renders blank or its input never reaches us.
_REQUIRED: dict[str, tuple[str, ...]] = {
    f"{CARD_PREFIX}Card": ("sections",),
    f"{CARD_PREFIX}CardHeader": ("title",),
    f"{CARD_PREFIX}Section": ("widgets",),
    f"{CARD_PREFIX}TextParagraph": ("text",),
    f"{CARD_PREFIX}Image": ("imageUrl",),
    f"{CARD_PREFIX}TextInput": ("name",),
    f"{CARD_PREFIX}SelectionInput": ("name",),
    f"{CARD_PREFIX}DateTimePicker": ("name",),
    f"{CARD_PREFIX}OpenLink": ("url",),
    f"{CARD_PREFIX}Action": ("function",),
}


def _convert(node: Mapping[str, Any], refs: list[str]) -> dict[str, Any]:
    if "$ref" in node:
        refs.append(node["$ref"])
        return {"$ref": f"#/definitions/{node['$ref']}"}
    kind = node.get("type")
    fmt = node.get("format")
    if "enum" in node:
        return {"type": "string", "enum": list(node["enum"])}
    if kind == "object":
        out: dict[str, Any] = {"type": "object"}
        if "properties" in node:
            out["properties"] = {k: _convert(v, refs) for k, v in node["properties"].items()}
        if "additionalProperties" in node:
            out["additionalProperties"] = _convert(node["additionalProperties"], refs)
        else:
            out["additionalProperties"] = False
        return out
    if kind == "array":
        return {"type": "array", "items": _convert(node.get("items", {}), refs)}
    if kind == "string" and fmt in ("int64", "uint64"):
        # Google's JSON mapping writes 64-bit integers as strings and also reads plain numbers.
        return {"anyOf": [{"type": "string", "pattern": r"^-?\d+$"}, {"type": "integer"}]}
    if kind in ("string", "boolean", "integer", "number"):
        return {"type": kind}
    # Discovery "any" (or no type at all): any JSON value.
    return {}


# Hand-written from Google's add-on reference, because no discovery document carries it:
# - response shapes per entry point, trigger {"action": ...} vs callback {"renderActions": ...}
#   (with optional "stateChanged"): https://developers.google.com/workspace/add-ons/guides/alternate-runtimes
# - navigations, card stacks, pushCard/updateCard/pop/popToCard/popToRoot:
#   https://developers.google.com/workspace/add-ons/how-tos/navigation
# - hostAppAction.calendarAction (CalendarClientActionMarkup: editAttendeesActionMarkup,
#   addAttachmentsActionMarkup): https://developers.google.com/workspace/add-ons/reference/rpc/apps.extensions.markup
# A trigger (homepage, eventOpen) answers {"action": {...}}; a widget callback answers
# {"renderActions": {"action": {...}, "hostAppAction": {...}}}. Only the Calendar host is ours.
_ENVELOPES = ("action", "renderActions")
_ENVELOPE_DEFINITIONS: dict[str, dict[str, Any]] = {
    "Navigation": {
        "type": "object",
        "properties": {
            "pushCard": {"$ref": f"#/definitions/{CARD}"},
            "updateCard": {"$ref": f"#/definitions/{CARD}"},
            "pop": {"type": "boolean", "const": True},
            "popToRoot": {"type": "boolean", "const": True},
            "popToCard": {"type": "string", "minLength": 1},
        },
        "additionalProperties": False,
        # One step per navigation; a list of navigations runs in order.
        "minProperties": 1,
        "maxProperties": 1,
    },
    "Notification": {
        "type": "object",
        "properties": {"text": {"type": "string", "minLength": 1}},
        "required": ["text"],
        "additionalProperties": False,
    },
    "Action": {
        "type": "object",
        "properties": {
            "navigations": {
                "type": "array",
                "items": {"$ref": "#/definitions/Navigation"},
                "minItems": 1,
            },
            "notification": {"$ref": "#/definitions/Notification"},
            "link": {"$ref": f"#/definitions/{CARD_PREFIX}OpenLink"},
        },
        "additionalProperties": False,
        "minProperties": 1,
    },
    "AddonAttachment": {
        "type": "object",
        "properties": {
            "resourceUrl": {"type": "string", "minLength": 1},
            "title": {"type": "string", "minLength": 1},
            "mimeType": {"type": "string"},
            "iconUrl": {"type": "string"},
        },
        "required": ["resourceUrl", "title"],
        "additionalProperties": False,
    },
    "CalendarAction": {
        "type": "object",
        "properties": {
            "editAttendeesActionMarkup": {
                "type": "object",
                "properties": {
                    "addAttendeeEmails": {
                        "type": "array",
                        "items": {"type": "string", "minLength": 3, "pattern": "@"},
                        "minItems": 1,
                    }
                },
                "required": ["addAttendeeEmails"],
                "additionalProperties": False,
            },
            "addAttachmentsActionMarkup": {
                "type": "object",
                "properties": {
                    "addonAttachments": {
                        "type": "array",
                        "items": {"$ref": "#/definitions/AddonAttachment"},
                        "minItems": 1,
                    }
                },
                "required": ["addonAttachments"],
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
        "minProperties": 1,
    },
    "HostAppAction": {
        "type": "object",
        "properties": {"calendarAction": {"$ref": "#/definitions/CalendarAction"}},
        "required": ["calendarAction"],
        "additionalProperties": False,
    },
    "RenderActions": {
        "type": "object",
        "properties": {
            "action": {"$ref": "#/definitions/Action"},
            "hostAppAction": {"$ref": "#/definitions/HostAppAction"},
        },
        "additionalProperties": False,
        "minProperties": 1,
    },
}


@functools.cache
def card_schema() -> dict[str, Any]:
    """The JSON Schema (draft 7) of one card, from Google's discovery document."""
    schemas = discovery_schemas()
    roots = sorted(name for name in schemas if name.startswith(CARD_PREFIX))
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": f"#/definitions/{CARD}",
        "definitions": definitions_from_discovery(schemas, roots),
    }


@functools.cache
def response_schema() -> dict[str, Any]:
    """The JSON Schema (draft 7) of an add-on response: a trigger's or a callback's envelope."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {
            "action": {"$ref": "#/definitions/Action"},
            "renderActions": {"$ref": "#/definitions/RenderActions"},
            "stateChanged": {"type": "boolean"},
        },
        "additionalProperties": False,
        "definitions": {**card_schema()["definitions"], **_ENVELOPE_DEFINITIONS},
    }


@functools.cache
def _validator(which: str) -> Draft7Validator:
    schema = card_schema() if which == "card" else response_schema()
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def validate_card(card: Mapping[str, Any]) -> None:
    """Raise `CardError` with the JSON path of the first problem unless `card` is a valid card."""
    _raise_first(_validator("card"), card)


def validate_response(response: Mapping[str, Any]) -> None:
    """Raise `CardError` unless `response` is a valid trigger or callback answer, cards included."""
    if not isinstance(response, Mapping) or len([k for k in _ENVELOPES if k in response]) != 1:
        raise CardError(
            "$",
            "needs exactly one of action (a trigger's answer) or renderActions (a callback's)",
        )
    _raise_first(_validator("response"), response)


def _raise_first(validator: Draft7Validator, instance: Mapping[str, Any]) -> None:
    errors = list(validator.iter_errors(instance))
    # A misspelt field also makes a required one "missing": name the misspelling, the cause.
    unknown_fields = [e for e in errors if e.validator == "additionalProperties"]
    error = best_match(unknown_fields or errors)
    if error is None:
        return
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    known = sorted(schema.get("properties", {}))
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        unknown = sorted(k for k in error.instance if k not in known)
        if unknown:
            raise CardError(
                _json_path([*error.absolute_path, unknown[0]]),
                f"unknown field {unknown[0]!r} (allowed here: {', '.join(known) or 'none'})",
            )
    raise CardError(_json_path(error.absolute_path), _problem(error, schema, known))


def _problem(error: ValidationError, schema: Mapping[str, Any], known: list[str]) -> str:
    if error.validator == "enum" and isinstance(error.validator_value, list):
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    if error.validator in ("minProperties", "maxProperties"):
        many = "exactly" if schema.get("maxProperties") == 1 else "at least"
        return f"needs {many} one of {', '.join(known)}"
    return error.message


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
