"""The OData query options the emulator understands: $select, $expand, $filter, paging.

Only the forms Graph documents for the resources served here: `$filter` on ``iCalUId``,
``subject`` and ``singleValueExtendedProperties/Any(ep: ep/id eq '...' and ep/value eq '...')``
joined by ``and``; `$expand=singleValueExtendedProperties($filter=id eq '...')`, on events also
beside `attachments($select=...)` (comma-separated, as Graph Explorer's samples show: "$select
can be used in $expand"); `$top` and `Prefer: odata.maxpagesize` as page size with `$skip` in
`@odata.nextLink`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from emulators._graph_common import GraphError

T = TypeVar("T")

_QUOTED = r"'((?:[^']|'')*)'"
_ANY = re.compile(
    r"^singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+"
    + _QUOTED
    + r"(?:\s+and\s+\1/value\s+eq\s+"
    + _QUOTED
    + r")?\s*\)$",
    re.IGNORECASE,
)
_EQ = re.compile(r"^(\w+)\s+eq\s+" + _QUOTED + "$", re.IGNORECASE)
_EXPAND = re.compile(r"^singleValueExtendedProperties(?:\(\s*\$filter=(.*)\))?$", re.IGNORECASE)
_ID_EQ = re.compile(r"id\s+eq\s+" + _QUOTED, re.IGNORECASE)
_ATTACHMENTS = re.compile(r"^attachments(?:\(\s*\$select=([^()]*)\))?$", re.IGNORECASE)


def _bad_filter(text: str) -> GraphError:
    return GraphError(400, "ErrorInvalidUrlQueryFilter", f"The query filter '{text}' is invalid.")


def _unquote(text: str) -> str:
    return text.replace("''", "'")


def _split_outside(text: str, separator: str) -> list[str]:
    """Split on `separator` (case-insensitive) where it stands outside quotes and parentheses."""
    parts: list[str] = []
    depth, quoted, start, i = 0, False, 0, 0
    width = len(separator)
    while i < len(text):
        char = text[i]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and text[i : i + width].lower() == separator:
            parts.append(text[start:i].strip())
            start = i + width
            i += width - 1
        i += 1
    parts.append(text[start:].strip())
    return parts


def _split_top(text: str) -> list[str]:
    """Split on top-level commas (outside quotes and parentheses)."""
    return _split_outside(text, ",")


def _split_and(text: str) -> list[str]:
    """Split on top-level ``and`` (outside quotes and parentheses)."""
    return _split_outside(text, " and ")


Predicate = Callable[[Mapping[str, Any], Mapping[str, str]], bool]
"""Takes an entity's JSON and its extended properties."""


def parse_filter(text: str | None, fields: Sequence[str]) -> Predicate | None:
    """A predicate for `$filter`, or None without one; 400 for a form not supported."""
    if not text:
        return None
    clauses: list[Predicate] = []
    for clause in _split_and(text.strip()):
        if match := _ANY.match(clause):
            prop_id, value = _unquote(match[2]).lower(), match[3]

            def has_property(
                _: Mapping[str, Any],
                props: Mapping[str, str],
                p: str = prop_id,
                v: str | None = None if value is None else _unquote(value),
            ) -> bool:
                found = {k.lower(): val for k, val in props.items()}
                return p in found and (v is None or found[p] == v)

            clauses.append(has_property)
        elif (match := _EQ.match(clause)) and match[1] in fields:
            name, value = match[1], _unquote(match[2])

            def equals(
                data: Mapping[str, Any], _: Mapping[str, str], n: str = name, v: str = value
            ) -> bool:
                return str(data.get(n)) == v

            clauses.append(equals)
        else:
            raise _bad_filter(text)
    return lambda data, props: all(c(data, props) for c in clauses)


def parse_select(text: str | None) -> set[str] | None:
    """The property names in `$select`, or None for all."""
    if not text:
        return None
    return {name.strip() for name in text.split(",") if name.strip()}


def parse_expand(text: str | None) -> Callable[[dict[str, str]], list[dict[str, str]]] | None:
    """The extended-property expansion `$expand` asks for, or None."""
    if not text:
        return None
    match = _EXPAND.match(text.strip())
    if not match:
        raise _bad_expand(text)
    wanted = {_unquote(i).lower() for i in _ID_EQ.findall(match[1] or "")}

    def expand(props: dict[str, str]) -> list[dict[str, str]]:
        return [
            {"id": k, "value": v}
            for k, v in props.items()
            if match[1] is None or k.lower() in wanted
        ]

    return expand


def _bad_expand(text: str) -> GraphError:
    return GraphError(
        400,
        "BadRequest",
        f"Parsing OData Select and Expand failed: Could not find a property named "
        f"'{text.strip().split('(')[0]}' on type 'microsoft.graph.outlookItem'.",
    )


@dataclass(frozen=True)
class EventExpand:
    """What `$expand` asks of an event: our properties and its attachments."""

    properties: Callable[[dict[str, str]], list[dict[str, str]]] | None = None
    attachments: bool = False
    attachment_select: set[str] | None = None
    """The attachment properties in the nested `$select`, or None for all."""


def parse_event_expand(text: str | None) -> EventExpand:
    """`$expand` on an event: ``singleValueExtendedProperties(...)`` and/or ``attachments``
    with an optional nested ``$select``, comma-separated; 400 for anything else."""
    if not text:
        return EventExpand()
    properties = None
    attachments, select = False, None
    for part in _split_top(text.strip()):
        if match := _ATTACHMENTS.match(part):
            attachments, select = True, parse_select(match[1])
        elif _EXPAND.match(part):
            properties = parse_expand(part)
        else:
            raise _bad_expand(part)
    return EventExpand(properties, attachments, select)


@dataclass(frozen=True)
class Page:
    """One page of a collection and the link to the next, if any."""

    items: list[Any]
    next_link: str | None
    applied: int | None


def page(
    items: Sequence[T],
    args: Mapping[str, str],
    prefer: Mapping[str, str],
    url: str,
    default: int,
) -> Page:
    """Cut a page: `$top` or `Prefer: odata.maxpagesize` sets its size, `$skip` its start."""
    try:
        skip = int(args.get("$skip", "0"))
        top = int(args["$top"]) if "$top" in args else None
        prefer_size = int(prefer["odata.maxpagesize"]) if "odata.maxpagesize" in prefer else None
    except ValueError as exc:
        raise GraphError(400, "BadRequest", "Invalid $top, $skip or maxpagesize.") from exc
    if skip < 0 or (top is not None and top < 0):
        raise GraphError(400, "BadRequest", "$top and $skip must not be negative.")
    size = top if top is not None else (prefer_size or default)
    size = max(size, 1) if top != 0 else 0
    chosen = list(items[skip : skip + size])
    next_link = None
    if skip + size < len(items) and size:
        query = {k: v for k, v in args.items() if k != "$skip"}
        query["$skip"] = str(skip + size)
        next_link = url + "?" + urlencode(query, safe="$:'(),")
    return Page(chosen, next_link, prefer_size if top is None else None)
