"""Small pure builders of Card JSON for the Google Workspace add-on (HTTP runtime).

Every builder returns a fresh JSON-ready dict that `addin.workspace.schema.validate_card` accepts.
Card text fields (paragraphs, decorated text and its labels, section headers) render a small HTML
subset, so the builders escape ``&``, ``<`` and ``>`` in the text they are given: user text always
shows as typed and never as markup. Titles, button labels, input labels and notifications are plain
text and are passed through.

A trigger (homepage, event open) answers with `push_card`; a widget callback answers with
`update_card` or `render_actions`.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

Json = dict[str, Any]

SelectionKind = Literal["DROPDOWN", "RADIO_BUTTON", "CHECK_BOX", "SWITCH"]
PickerKind = Literal["DATE_AND_TIME", "DATE_ONLY", "TIME_ONLY"]
ButtonStyle = Literal["OUTLINED", "FILLED", "FILLED_TONAL", "BORDERLESS"]
_SELECTION_KINDS = frozenset({"DROPDOWN", "RADIO_BUTTON", "CHECK_BOX", "SWITCH"})
_PICKER_KINDS = frozenset({"DATE_AND_TIME", "DATE_ONLY", "TIME_ONLY"})
_BUTTON_STYLES = frozenset({"OUTLINED", "FILLED", "FILLED_TONAL", "BORDERLESS"})


def escape(user_text: str) -> str:
    """`user_text` made safe for a card's formatted-text field: shown as typed, never as markup."""
    return html.escape(user_text, quote=False)


def card(
    header: str | None,
    sections: Sequence[Mapping[str, Any]],
    *,
    subtitle: str | None = None,
    name: str | None = None,
) -> Json:
    """A card with an optional header (plain-text title and subtitle) and at least one section.

    `name` identifies the card in the add-on's card stack (for ``popToCard``).
    """
    if not sections:
        raise ValueError("a card needs at least one section")
    out: Json = {}
    if header is not None:
        out["header"] = {"title": header}
        if subtitle is not None:
            out["header"]["subtitle"] = subtitle
    elif subtitle is not None:
        raise ValueError("a subtitle needs a header title")
    if name is not None:
        out["name"] = name
    out["sections"] = [dict(s) for s in sections]
    return out


def section(
    header: str | None,
    widgets: Sequence[Mapping[str, Any]],
    collapsible: bool = False,
    *,
    uncollapsible_widgets: int | None = None,
) -> Json:
    """A section of widgets under an optional (escaped) header.

    A collapsible section still shows its first `uncollapsible_widgets` widgets when collapsed.
    """
    if not widgets:
        raise ValueError("a section needs at least one widget")
    out: Json = {}
    if header is not None:
        out["header"] = escape(header)
    if collapsible:
        out["collapsible"] = True
        if uncollapsible_widgets is not None:
            if not 0 < uncollapsible_widgets <= len(widgets):
                raise ValueError(
                    f"uncollapsible_widgets must be 1-{len(widgets)}, got {uncollapsible_widgets}"
                )
            out["uncollapsibleWidgetsCount"] = uncollapsible_widgets
    elif uncollapsible_widgets is not None:
        raise ValueError("uncollapsible_widgets needs collapsible=True")
    out["widgets"] = [dict(w) for w in widgets]
    return out


def text(paragraph: str) -> Json:
    """A paragraph of user text, escaped."""
    return {"textParagraph": {"text": escape(paragraph)}}


def decorated_text(
    text: str,
    *,
    top_label: str | None = None,
    bottom_label: str | None = None,
    icon: str | None = None,
    wrap: bool = True,
    button: Mapping[str, Any] | None = None,
    on_click: Mapping[str, Any] | None = None,
) -> Json:
    """Text with optional labels above and below it, all escaped.

    Optionally a known icon in front (e.g. ``"EMAIL"``), and either a `button` at its end or an
    `on_click` `action` for the whole widget.
    """
    if button is not None and on_click is not None:
        raise ValueError("decorated_text takes a button or an on_click action, not both")
    body: Json = {"text": escape(text), "wrapText": wrap}
    if top_label is not None:
        body["topLabel"] = escape(top_label)
    if bottom_label is not None:
        body["bottomLabel"] = escape(bottom_label)
    if icon is not None:
        body["startIcon"] = {"knownIcon": icon}
    if button is not None:
        body["button"] = dict(button)
    if on_click is not None:
        body["onClick"] = {"action": dict(on_click)}
    return {"decoratedText": body}


def button(
    text: str,
    on_click: Mapping[str, Any] | str,
    *,
    disabled: bool = False,
    opens_link: bool = False,
    style: ButtonStyle | None = None,
) -> Json:
    """A button labelled `text` that runs an `action` or, given a URL string, opens that link.

    `opens_link`: the action answers with the link to open (``openDynamicLinkAction``).
    `style` is Google's button ``type``: unset draws it ``OUTLINED``; ``FILLED`` is for the
    one main step of a card, ``BORDERLESS`` for the least important ones.
    """
    if style is not None and style not in _BUTTON_STYLES:
        raise ValueError(f"style must be one of {', '.join(sorted(_BUTTON_STYLES))}, got {style!r}")
    if isinstance(on_click, str):
        _require_url(on_click, "a button link")
        click: Json = {"openLink": {"url": on_click}}
    elif opens_link:
        click = {"openDynamicLinkAction": dict(on_click)}
    else:
        click = {"action": dict(on_click)}
    out: Json = {"text": text, "onClick": click}
    if style is not None:
        out["type"] = style
    if disabled:
        out["disabled"] = True
    return out


def button_list(buttons: Sequence[Mapping[str, Any]]) -> Json:
    """A row of `button`s."""
    if not buttons:
        raise ValueError("a button list needs at least one button")
    return {"buttonList": {"buttons": [dict(b) for b in buttons]}}


def text_input(
    name: str,
    label: str,
    *,
    value: str | None = None,
    hint: str | None = None,
    multiline: bool = False,
    on_change: Mapping[str, Any] | None = None,
) -> Json:
    """A text field whose content comes back in the event's form inputs under `name`."""
    body: Json = {
        "name": _name(name),
        "label": label,
        "type": "MULTIPLE_LINE" if multiline else "SINGLE_LINE",
    }
    if value is not None:
        body["value"] = value
    if hint is not None:
        body["hintText"] = hint
    if on_change is not None:
        body["onChangeAction"] = dict(on_change)
    return {"textInput": body}


def selection_input(
    name: str,
    label: str,
    options: Sequence[tuple[str, str]],
    *,
    selected: Collection[str] = (),
    kind: SelectionKind = "DROPDOWN",
    on_change: Mapping[str, Any] | None = None,
) -> Json:
    """A choice among `options` given as ``(value, label)`` pairs; `selected` holds values."""
    if kind not in _SELECTION_KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(_SELECTION_KINDS))}, got {kind!r}")
    if not options:
        raise ValueError("a selection input needs at least one option")
    values = [value for value, _ in options]
    if len(set(values)) != len(values):
        raise ValueError("option values must be unique")
    stray = sorted(set(selected) - set(values))
    if stray:
        raise ValueError(f"selected values {stray} are not among the options")
    if kind in ("DROPDOWN", "RADIO_BUTTON") and len(set(selected)) > 1:
        raise ValueError(f"a {kind} selects at most one option, got {len(set(selected))}")
    body: Json = {
        "name": _name(name),
        "label": label,
        "type": kind,
        "items": [
            {"text": label_, "value": value, "selected": value in selected}
            for value, label_ in options
        ],
    }
    if on_change is not None:
        body["onChangeAction"] = dict(on_change)
    return {"selectionInput": body}


def date_time_picker(
    name: str,
    label: str,
    *,
    kind: PickerKind = "DATE_AND_TIME",
    value: datetime | date | None = None,
    on_change: Mapping[str, Any] | None = None,
) -> Json:
    """A date and/or time picker whose value comes back under `name`.

    A `value` datetime must be timezone-aware; its offset is the zone the picker shows. A plain
    `date` (for ``DATE_ONLY``) is that day at 00:00 UTC.
    """
    if kind not in _PICKER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(_PICKER_KINDS))}, got {kind!r}")
    body: Json = {"name": _name(name), "label": label, "type": kind}
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is None:
            raise ValueError("a picker's datetime value must be timezone-aware")
        body["valueMsEpoch"] = str(round(value.timestamp() * 1000))
        body["timezoneOffsetDate"] = int(offset.total_seconds() // 60)
    elif isinstance(value, date):
        midnight = datetime(value.year, value.month, value.day, tzinfo=UTC)
        body["valueMsEpoch"] = str(round(midnight.timestamp() * 1000))
    if on_change is not None:
        body["onChangeAction"] = dict(on_change)
    return {"dateTimePicker": body}


def divider() -> Json:
    """A horizontal line between widgets."""
    return {"divider": {}}


def action(function_url: str, parameters: Mapping[str, str] | None = None) -> Json:
    """What a click or change runs: Google POSTs the event to `function_url`.

    An HTTP add-on's "function" is the endpoint URL; `parameters` come back in the event's
    ``commonEventObject.parameters``.
    """
    _require_url(function_url, "an action's function")
    out: Json = {"function": function_url}
    if parameters:
        for key, value in parameters.items():
            if not isinstance(value, str):
                raise TypeError(f"action parameter {key!r} must be a string, got {value!r}")
        out["parameters"] = [{"key": k, "value": v} for k, v in parameters.items()]
    return out


def push_card(card: Mapping[str, Any]) -> Json:
    """A trigger's answer (homepage, event open): show `card` on top of the add-on's stack."""
    return {"action": {"navigations": [{"pushCard": dict(card)}]}}


def update_card(card: Mapping[str, Any]) -> Json:
    """A trigger's answer that replaces the card on top of the stack with `card`."""
    return {"action": {"navigations": [{"updateCard": dict(card)}]}}


def render_actions(
    *,
    push: Mapping[str, Any] | None = None,
    update: Mapping[str, Any] | None = None,
    pop: bool = False,
    pop_to_root: bool = False,
    notification: str | None = None,
    add_attendees: Sequence[str] = (),
    link: str | None = None,
) -> Json:
    """A widget callback's answer: navigate, show a notification, and/or act on the open event.

    Navigations run in the order Google documents for a stack change: pop to the root or pop one
    card, then update the card now on top, then push a new one. `add_attendees` asks Calendar to
    add those guests to the event being edited. `link` opens that URL (the answer an
    ``openDynamicLinkAction`` button waits for).
    """
    if pop and pop_to_root:
        raise ValueError("pop and pop_to_root together: choose one")
    navigations: list[Json] = []
    if pop_to_root:
        navigations.append({"popToRoot": True})
    if pop:
        navigations.append({"pop": True})
    if update is not None:
        navigations.append({"updateCard": dict(update)})
    if push is not None:
        navigations.append({"pushCard": dict(push)})
    act: Json = {}
    if navigations:
        act["navigations"] = navigations
    if notification is not None:
        if not notification.strip():
            raise ValueError("a notification needs text")
        act["notification"] = {"text": notification}
    if link is not None:
        _require_url(link, "a link to open")
        act["link"] = {"url": link, "openAs": "FULL_SIZE", "onClose": "NOTHING"}
    out: Json = {}
    if act:
        out["action"] = act
    if add_attendees:
        out["hostAppAction"] = {
            "calendarAction": {
                "editAttendeesActionMarkup": {"addAttendeeEmails": list(add_attendees)}
            }
        }
    if not out:
        raise ValueError(
            "render_actions needs a navigation, a notification, a link or attendees to add"
        )
    return {"renderActions": out}


def _require_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{what} must be an absolute http(s) URL, got {url!r}")


def _name(name: str) -> str:
    if not name.strip():
        raise ValueError("an input needs a name: its value comes back under that key")
    return name
