"""Put the agreed agenda into an event body between two visible marker lines.

The same algorithm as the pane's ``splice.js`` (both pass ``tests/data/splice_cases.json``):

- markers are found as text; a space in a marker also matches any run of whitespace or ``&nbsp;``
  (mail clients turn spaces into non-breaking ones);
- the block replaced is the last end marker with the last start marker before it, so a stray
  marker the user half deleted never swallows their text;
- the replaced span grows outwards over tags that wrap both markers alike, pair by pair, so the
  body stays balanced; empty elements right after the end marker (``<o:p></o:p>``) belong to it;
- no markers: the block goes before the last ``</body>``, or at the end;
- marker text inside the copy is neutralised (first character as a numeric reference).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MARKER_START = "[Goed Gesprek: agenda]"
MARKER_END = "[/Goed Gesprek]"

_VOID = frozenset(
    "area base br col embed hr img input link meta source track wbr".split()  # noqa: SIM905
)
_SPACE = r"(?:\s|&nbsp;|&#160;|&#xa0;|\u00a0)+"
_MAX_WRAPPERS = 8
_OPEN_BEFORE = re.compile(r"<([a-zA-Z][\w:.-]*)\b[^<>]*>\s*$")
_CLOSE_AFTER = re.compile(r"^\s*</([a-zA-Z][\w:.-]*)\s*>")
_EMPTY_AFTER = re.compile(r"^\s*<([a-zA-Z][\w:.-]*)\b[^<>]*>\s*</\1\s*>")


@dataclass(frozen=True, slots=True)
class Markers:
    """The two marker lines."""

    start: str = MARKER_START
    end: str = MARKER_END


def _escape(text: str) -> str:
    return html.escape(text, quote=True).replace("&#x27;", "&#39;")


def _pattern(marker: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in _escape(marker.strip()).split()]
    return re.compile(_SPACE.join(words))


def neutralise(copy_html: str, markers: Markers) -> str:
    """The copy with any marker text in it made unfindable."""
    result = copy_html
    for marker in (markers.start, markers.end):
        result = _pattern(marker).sub(lambda m: f"&#{ord(m.group(0)[0])};{m.group(0)[1:]}", result)
    return result


def marker_block(copy_html: str, markers: Markers) -> str:
    """The block that goes into the body: marker lines around the copy."""
    start, end = _escape(markers.start), _escape(markers.end)
    return f"<p>{start}</p>{neutralise(copy_html, markers)}<p>{end}</p>"


def _last_pair(body: str, markers: Markers) -> tuple[int, int] | None:
    ends = list(_pattern(markers.end).finditer(body))
    for end in reversed(ends):
        starts = list(_pattern(markers.start).finditer(body, 0, end.start()))
        if starts:
            return starts[-1].start(), end.end()
    return None


def _openers_before(body: str, at: int) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    head = body[:at]
    while len(found) < _MAX_WRAPPERS:
        m = _OPEN_BEFORE.search(head)
        if not m or m.group(0).rstrip().endswith("/>") or m.group(1).lower() in _VOID:
            break
        found.append((m.group(1).lower(), m.start()))
        head = head[: m.start()]
    return found


def _closers_after(body: str, at: int) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    pos = at
    for _step in range(_MAX_WRAPPERS * 2):
        if len(found) >= _MAX_WRAPPERS:
            break
        tail = body[pos:]
        empty = _EMPTY_AFTER.match(tail)
        if empty:
            pos += len(empty.group(0))
            continue
        m = _CLOSE_AFTER.match(tail)
        if not m:
            break
        pos += len(m.group(0))
        found.append((m.group(1).lower(), pos))
    return found


def splice(body: str, copy_html: str, markers: Markers | None = None) -> str:
    """The body with the copy between the markers (or appended with its markers)."""
    markers = markers or Markers()
    block = marker_block(copy_html, markers)
    pair = _last_pair(body, markers)
    if pair is None:
        close = body.lower().rfind("</body>")
        return body + block if close < 0 else body[:close] + block + body[close:]
    left, right = pair
    openers = _openers_before(body, left)
    closers = _closers_after(body, right)
    for (opened, index), (closed, end) in zip(openers, closers, strict=False):
        if opened != closed:
            break
        left, right = index, end
    return body[:left] + block + body[right:]
