"""Reading a request's JSON object, shared by the pane's API and the Google card endpoints.

`json.loads` accepts two things the rest of the app cannot handle: nesting deep enough to
exhaust the recursion limit (it raises `RecursionError`, or the parsed value does later, in any
recursive walk), and lone UTF-16 surrogates written as ``"\\ud800"`` (a `str` that cannot be
encoded as UTF-8, so a database, a drive or `jsonify` fails on it). Both are refused here, before
any service sees the value, with a code from `addin.errors.MESSAGES`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 32
"""The deepest nesting read; the requests we expect are at most about six levels deep."""

_SURROGATE = re.compile("[\ud800-\udfff]")


class BadBody(ValueError):
    """A body that is not a usable JSON object; `code` is a key of `addin.errors.MESSAGES`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def read_object(raw: bytes) -> Mapping[str, Any]:
    """The JSON object in `raw`: at most `MAX_DEPTH` deep, every string valid Unicode text.

    Raises `BadBody` with code ``invalid_json``, ``json_too_deep``, ``not_text`` or
    ``bad_request`` (valid JSON, but not an object).
    """
    data = loads(raw)
    if not isinstance(data, dict):
        raise BadBody("bad_request")
    return data


def loads(text: str | bytes) -> Any:
    """Any JSON value in `text`, held to the same rules; raises `BadBody` (a `ValueError`)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadBody("json_too_deep") from None
    except (ValueError, UnicodeDecodeError):
        raise BadBody("invalid_json") from None
    check(value)
    return value


def check(value: Any) -> None:
    """Refuse nesting beyond `MAX_DEPTH` and strings (keys too) with a lone surrogate."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise BadBody("not_text")
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise BadBody("json_too_deep")
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        else:
            stack.extend((child, depth + 1) for child in item)
