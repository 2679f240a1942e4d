"""The Google Calendar add-on without Google: cards as HTML, event objects as Google builds them.

The demo's cards view shows what the add-on's endpoints answer, the way Google Calendar's side
panel would, so anyone can click through the Google flows with no Workspace account:

- `render_card` turns one card (``GoogleAppsCardV1Card``) into accessible HTML: one form per card,
  every input labelled, every action a real submit button. Card text fields that Google formats
  (paragraphs, decorated text, section headers) keep only the small markup subset Google renders;
  anything else in them shows as text, so markup in user text can never run.
- `form_inputs` reads that form back into Google's ``commonEventObject.formInputs`` shape, and
  `event_object` builds the whole event object an HTTP add-on endpoint receives.
- `apply_response` applies an endpoint's answer (a trigger's ``action`` or a callback's
  ``renderActions``) to the card stack, the way Google's host does.

Shapes follow Google's add-on reference: the event object (``commonEventObject``, ``calendar``,
``authorizationEventObject``), the ``Inputs`` of the Chat v1 discovery document shipped with
google-api-python-client (``stringInputs``, ``dateTimeInput``, ``dateInput``, ``timeInput``),
and the navigations of the card-navigation guide.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from connectors.models import Event

Json = Mapping[str, Any]

ACTION_FIELD = "_action"
"""The form field a clicked action button sends: JSON ``{"function", "parameters"}``."""

MAX_STACK = 20
"""How deep the card stack may grow; a push beyond it is refused (Google keeps stacks short)."""

# Prefixes of form-field names, one per kind of value, so the posted form maps back exactly.
_TEXT, _DATETIME, _DATE, _TIME, _OFFSET = "f.", "dt.", "d.", "t.", "o."

# The tags Google renders in a card's formatted-text fields; everything else shows as text.
_ALLOWED_TAGS = frozenset({"b", "strong", "i", "em", "u", "s", "strike", "del", "br", "font", "a"})
_ALLOWED_TAGS_LISTS = frozenset({"ul", "ol", "li"})
_SAFE_LINK = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)

# Google's known icons, shown as a glyph beside the text (decorative: the text says it all).
# Plain symbols rather than emoji, so they show with common fonts too.
_KNOWN_ICONS = {
    "AIRPLANE": "✈",
    "BOOKMARK": "⚑",
    "BUS": "⌂",
    "CAR": "⌂",
    "CLOCK": "◷",
    "CONFIRMATION_NUMBER_ICON": "☑",
    "DESCRIPTION": "☰",
    "DOLLAR": "$",
    "EMAIL": "✉",
    "EVENT_SEAT": "◎",
    "FLIGHT_ARRIVAL": "✈",
    "FLIGHT_DEPARTURE": "✈",
    "HOTEL": "⌂",
    "HOTEL_ROOM_TYPE": "⌂",
    "INVITE": "✉",
    "MAP_PIN": "⚲",
    "MEMBERSHIP": "☑",
    "MULTIPLE_PEOPLE": "⚇",
    "PERSON": "☺",
    "PHONE": "☎",
    "RESTAURANT_ICON": "⌂",
    "SHOPPING_CART": "⌂",
    "STAR": "★",
    "STORE": "⌂",
    "TICKET": "☑",
    "TRAIN": "⌂",
    "VIDEO_CAMERA": "▶",
    "VIDEO_PLAY": "▶",
}


@dataclass(frozen=True, slots=True)
class PreviewWords:
    """The few words the renderer writes itself, translated by the caller."""

    show_more: str = "Show more"
    apply: str = "Apply"
    card_menu: str = "Card menu"
    image: str = "Image"
    unsupported: str = "Not shown in this preview"


# ---------------------------------------------------------------------------------------------
# Formatted text


class _FormattedText(HTMLParser):
    """Keeps Google's formatted-text subset, escapes the rest (tags included) as visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS | _ALLOWED_TAGS_LISTS:
            self.out.append(str(escape(self.get_starttag_text() or f"<{tag}>")))
            return
        if tag == "br":
            self.out.append("<br>")
            return
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if _SAFE_LINK.match(href.strip()):
                self.out.append(
                    f'<a href="{escape(href.strip())}" target="_blank" rel="noopener noreferrer">'
                )
            else:
                self.out.append("<a>")
        elif tag == "font":
            # Colour would need an inline style, which the page's CSP refuses: keep the text.
            self.out.append('<span class="fmt-font">')
        else:
            self.out.append(f"<{tag}>")
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.out.append("<br>")
        else:
            self.out.append(str(escape(self.get_starttag_text() or f"<{tag}/>")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "br" or tag not in self.open:
            self.out.append(str(escape(f"</{tag}>")))
            return
        while self.open:
            last = self.open.pop()
            self.out.append(_closing(last))
            if last == tag:
                break

    def handle_data(self, data: str) -> None:
        self.out.append(str(escape(data)))

    def handle_comment(self, data: str) -> None:
        self.out.append(str(escape(f"<!--{data}-->")))

    def handle_decl(self, decl: str) -> None:
        self.out.append(str(escape(f"<!{decl}>")))

    def handle_pi(self, data: str) -> None:
        self.out.append(str(escape(f"<?{data}>")))

    def unknown_decl(self, data: str) -> None:
        self.out.append(str(escape(f"<![{data}]>")))

    def result(self) -> str:
        self.close()
        tail = "".join(_closing(tag) for tag in reversed(self.open))
        return "".join(self.out) + tail


def _closing(tag: str) -> str:
    return "</span>" if tag == "font" else f"</{tag}>"


def formatted(text: str) -> Markup:
    """A card's formatted text as safe HTML: Google's tags kept, anything else shown as typed."""
    parser = _FormattedText()
    parser.feed(text)
    return Markup(parser.result())


# ---------------------------------------------------------------------------------------------
# Rendering


@dataclass
class _Context:
    """What every widget renderer needs: words, unique ids and the zone pickers show."""

    words: PreviewWords
    tz: tzinfo
    values: Mapping[str, Sequence[str]] | None = None
    ids: Iterator[int] = field(default_factory=itertools.count)

    def new_id(self, stem: str) -> str:
        return f"c-{stem}-{next(self.ids)}"

    def text(self, field_name: str, default: str) -> str:
        """What the user left in a field, else the card's value."""
        if self.values is not None and self.values.get(field_name):
            return self.values[field_name][0]
        return default

    def chosen(self, field_name: str, value: str, default: bool) -> bool:
        """Whether the user left `value` chosen in a field, else the card's choice."""
        if self.values is None:
            return default
        return value in self.values.get(field_name, ())


def render_card(
    card: Json,
    *,
    action_url: str,
    hidden: Mapping[str, str] | None = None,
    words: PreviewWords | None = None,
    tz: tzinfo = UTC,
    values: Mapping[str, Sequence[str]] | None = None,
) -> Markup:
    """One card as an HTML form that posts to `action_url`.

    `hidden` fields (a CSRF token, say) go into the form; `words` are the renderer's own words in
    the user's language; `tz` is the user's zone, shown by date-time pickers with no offset.
    `values` are the fields as this same card last posted them: Google keeps what the user typed
    when an action leaves the card in place, so the preview shows them instead of the card's.
    """
    ctx = _Context(words=words or PreviewWords(), tz=tz, values=values)
    parts = [
        f'<form class="c-card" method="post" action="{escape(action_url)}" novalidate>',
        # Pressing Enter in a field submits the first submit button: make that one do nothing.
        '<button type="submit" class="c-default" disabled hidden aria-hidden="true" '
        'tabindex="-1"></button>',
    ]
    for name, value in (hidden or {}).items():
        parts.append(f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">')
    header = card.get("header")
    if isinstance(header, Mapping):
        parts.append(_header(header))
    for section in _list(card.get("sections")):
        if isinstance(section, Mapping):
            parts.append(_section(section, ctx))
    footer = card.get("fixedFooter")
    if isinstance(footer, Mapping):
        buttons = [footer.get("primaryButton"), footer.get("secondaryButton")]
        rendered = [
            _button(b, ctx, primary=i == 0) for i, b in enumerate(buttons) if isinstance(b, Mapping)
        ]
        if rendered:
            parts.append(f'<div class="c-footer">{"".join(rendered)}</div>')
    menu = [a for a in _list(card.get("cardActions")) if isinstance(a, Mapping)]
    if menu:
        items = "".join(
            _button({"text": a.get("actionLabel", ""), "onClick": a.get("onClick")}, ctx)
            for a in menu
        )
        parts.append(
            f'<div class="c-menu" role="group" aria-label="{escape(ctx.words.card_menu)}">'
            f"{items}</div>"
        )
    parts.append("</form>")
    return Markup("".join(parts))


def _header(header: Json) -> str:
    title = str(header.get("title", ""))
    out = f'<div class="c-header"><h2 class="c-title">{escape(title)}</h2>'
    if header.get("subtitle"):
        out += f'<p class="c-subtitle">{escape(str(header["subtitle"]))}</p>'
    return out + "</div>"


def _section(section: Json, ctx: _Context) -> str:
    widgets = [w for w in _list(section.get("widgets")) if isinstance(w, Mapping)]
    out = ['<section class="c-section">']
    header = section.get("header")
    if header:
        out.append(f'<h3 class="c-section-header fmt">{formatted(str(header))}</h3>')
    shown = widgets
    hidden: list[Json] = []
    if section.get("collapsible"):
        count = section.get("uncollapsibleWidgetsCount")
        keep = count if isinstance(count, int) and count > 0 else 0
        shown, hidden = widgets[:keep], widgets[keep:]
    out.extend(_widget(w, ctx) for w in shown)
    if hidden:
        more = escape(ctx.words.show_more)
        out.append(f'<details class="c-more"><summary>{more}</summary>')
        out.extend(_widget(w, ctx) for w in hidden)
        out.append("</details>")
    out.append("</section>")
    return "".join(out)


_WIDGETS = (
    "textParagraph",
    "decoratedText",
    "buttonList",
    "textInput",
    "selectionInput",
    "dateTimePicker",
    "divider",
    "image",
    "grid",
    "columns",
    "chipList",
)


def _widget(widget: Json, ctx: _Context) -> str:
    kind = next((k for k in _WIDGETS if k in widget), None)
    if kind is None:
        known = [k for k in widget if k not in ("horizontalAlignment", "id", "visibility")]
        name = known[0] if known else "?"
        label = escape(ctx.words.unsupported)
        return f'<p class="w-unsupported">{label}: <code>{escape(name)}</code></p>'
    body = widget[kind]
    if not isinstance(body, Mapping):
        body = {}
    renderer: Callable[[Json, _Context], str] = _RENDERERS[kind]
    return renderer(body, ctx)


def _text_paragraph(body: Json, ctx: _Context) -> str:
    return f'<p class="w-text fmt">{formatted(str(body.get("text", "")))}</p>'


def _icon(icon: Any) -> str:
    if not isinstance(icon, Mapping):
        return ""
    glyph = _KNOWN_ICONS.get(str(icon.get("knownIcon", "")), "")
    if not glyph and icon.get("materialIcon"):
        glyph = "•"
    alt = str(icon.get("altText", ""))
    if alt:
        return f'<span class="w-icon" role="img" aria-label="{escape(alt)}">{glyph or "•"}</span>'
    return f'<span class="w-icon" aria-hidden="true">{glyph}</span>' if glyph else ""


def _decorated_text(body: Json, ctx: _Context) -> str:
    text_id = ctx.new_id("dt")
    inner = []
    if body.get("topLabel"):
        inner.append(f'<span class="dt-top fmt">{formatted(str(body["topLabel"]))}</span>')
    inner.append(
        f'<span class="dt-text fmt" id="{text_id}">{formatted(str(body.get("text", "")))}</span>'
    )
    if body.get("bottomLabel"):
        inner.append(f'<span class="dt-bottom fmt">{formatted(str(body["bottomLabel"]))}</span>')
    content = "".join(inner)
    click = _click(body.get("onClick"))
    if click is not None:
        content = _clickable(click, f'<span class="dt-body">{content}</span>', ctx, "w-dt-click")
    else:
        content = f'<span class="dt-body">{content}</span>'
    end = ""
    if isinstance(body.get("button"), Mapping):
        end = _button(body["button"], ctx)
    elif isinstance(body.get("switchControl"), Mapping):
        end = _switch_control(body["switchControl"], text_id, ctx)
    icon = _icon(body.get("startIcon") or body.get("icon"))
    wrap = "" if body.get("wrapText", True) else " nowrap"
    return f'<div class="w-decorated{wrap}">{icon}{content}{end}</div>'


def _switch_control(control: Json, labelled_by: str, ctx: _Context) -> str:
    name = str(control.get("name", ""))
    value = str(control.get("value", "on"))
    input_id = ctx.new_id("sw")
    role = "" if str(control.get("controlType", "SWITCH")).startswith("CHECK") else ' role="switch"'
    checked = " checked" if ctx.chosen(_TEXT + name, value, bool(control.get("selected"))) else ""
    out = (
        f'<input type="checkbox"{role} id="{input_id}" name="{escape(_TEXT + name)}" '
        f'value="{escape(value)}"{checked} aria-labelledby="{labelled_by}">'
    )
    return out + _on_change(control.get("onChangeAction"), ctx)


def _button_list(body: Json, ctx: _Context) -> str:
    buttons = [b for b in _list(body.get("buttons")) if isinstance(b, Mapping)]
    return f'<div class="w-buttons">{"".join(_button(b, ctx) for b in buttons)}</div>'


def _button(button: Json, ctx: _Context, *, primary: bool = False) -> str:
    text = str(button.get("text") or "")
    icon = button.get("icon")
    if not text and isinstance(icon, Mapping):
        text = str(icon.get("altText") or icon.get("knownIcon") or "")
    filled = primary or button.get("type") == "FILLED" or "color" in button
    cls = "c-button filled" if filled else "c-button"
    label = escape(text or "…")
    if button.get("disabled"):
        return f'<button type="button" class="{cls}" disabled>{label}</button>'
    click = button.get("onClick")
    link = _open_link(click)
    if link is not None:
        return (
            f'<a class="{cls}" href="{escape(link)}" target="_blank" '
            f'rel="noopener noreferrer">{label}</a>'
        )
    action = _click(click)
    if action is None:
        return f'<button type="button" class="{cls}" disabled>{label}</button>'
    return (
        f'<button type="submit" class="{cls}" name="{ACTION_FIELD}" '
        f'value="{escape(_action_value(action))}">{label}</button>'
    )


def _clickable(action: Json, content: str, ctx: _Context, cls: str) -> str:
    return (
        f'<button type="submit" class="{cls}" name="{ACTION_FIELD}" '
        f'value="{escape(_action_value(action))}">{content}</button>'
    )


def _text_input(body: Json, ctx: _Context) -> str:
    name = str(body.get("name", ""))
    input_id = ctx.new_id("in")
    label = str(body.get("label") or name)
    hint = str(body.get("hintText") or "")
    value = ctx.text(_TEXT + name, str(body.get("value") or ""))
    described = ""
    out = [f'<div class="w-field"><label for="{input_id}">{escape(label)}</label>']
    if hint:
        described = f' aria-describedby="{input_id}-hint"'
    limit = ""
    validation = body.get("validation")
    if isinstance(validation, Mapping) and isinstance(validation.get("characterLimit"), int):
        limit = f' maxlength="{validation["characterLimit"]}"'
    field_name = escape(_TEXT + name)
    if body.get("type") == "MULTIPLE_LINE":
        out.append(
            f'<textarea id="{input_id}" name="{field_name}" rows="4"{described}{limit}>'
            f"{escape(value)}</textarea>"
        )
    else:
        out.append(
            f'<input type="text" id="{input_id}" name="{field_name}" value="{escape(value)}"'
            f"{described}{limit}>"
        )
    if hint:
        out.append(f'<span class="w-hint" id="{input_id}-hint">{escape(hint)}</span>')
    out.append(_on_change(body.get("onChangeAction"), ctx))
    out.append("</div>")
    return "".join(out)


def _selection_input(body: Json, ctx: _Context) -> str:
    name = str(body.get("name", ""))
    label = str(body.get("label") or name)
    kind = str(body.get("type") or "CHECK_BOX")
    items = [i for i in _list(body.get("items")) if isinstance(i, Mapping)]
    field_name = escape(_TEXT + name)
    on_change = _on_change(body.get("onChangeAction"), ctx)
    if kind == "DROPDOWN":
        select_id = ctx.new_id("sel")
        options = "".join(
            f'<option value="{escape(str(i.get("value", "")))}"'
            f"{' selected' if _picked(ctx, name, i) else ''}>"
            f"{escape(str(i.get('text', '')))}</option>"
            for i in items
        )
        return (
            f'<div class="w-field"><label for="{select_id}">{escape(label)}</label>'
            f'<select id="{select_id}" name="{field_name}">{options}</select>{on_change}</div>'
        )
    input_type = "radio" if kind == "RADIO_BUTTON" else "checkbox"
    role = ' role="switch"' if kind == "SWITCH" else ""
    choices = []
    for item in items:
        item_id = ctx.new_id("opt")
        checked = " checked" if _picked(ctx, name, item) else ""
        choices.append(
            f'<div class="w-choice"><input type="{input_type}"{role} id="{item_id}" '
            f'name="{field_name}" value="{escape(str(item.get("value", "")))}"{checked}>'
            f'<label for="{item_id}">{escape(str(item.get("text", "")))}</label></div>'
        )
    return (
        f'<fieldset class="w-field w-group"><legend>{escape(label)}</legend>'
        f"{''.join(choices)}{on_change}</fieldset>"
    )


def _picked(ctx: _Context, name: str, item: Json) -> bool:
    return ctx.chosen(_TEXT + name, str(item.get("value", "")), bool(item.get("selected")))


def _date_time_picker(body: Json, ctx: _Context) -> str:
    name = str(body.get("name", ""))
    label = str(body.get("label") or name)
    kind = str(body.get("type") or "DATE_AND_TIME")
    picker_id = ctx.new_id("dtp")
    offset = body.get("timezoneOffsetDate")
    if isinstance(offset, int):
        shown_in: tzinfo = _offset_zone(offset)
    else:
        shown_in = ctx.tz
    moment = _from_ms(body.get("valueMsEpoch"))
    hidden = ""
    if kind == "DATE_ONLY":
        input_type, prefix = "date", _DATE
        value = moment.astimezone(UTC).date().isoformat() if moment else ""
    elif kind == "TIME_ONLY":
        input_type, prefix = "time", _TIME
        value = moment.astimezone(shown_in).strftime("%H:%M") if moment else ""
    else:
        input_type, prefix = "datetime-local", _DATETIME
        value = moment.astimezone(shown_in).strftime("%Y-%m-%dT%H:%M") if moment else ""
        if isinstance(offset, int):
            hidden = f'<input type="hidden" name="{escape(_OFFSET + name)}" value="{offset}">'
    value = ctx.text(prefix + name, value)
    return (
        f'<div class="w-field"><label for="{picker_id}">{escape(label)}</label>'
        f'<input type="{input_type}" id="{picker_id}" name="{escape(prefix + name)}" '
        f'value="{escape(value)}">{hidden}{_on_change(body.get("onChangeAction"), ctx)}</div>'
    )


def _divider(body: Json, ctx: _Context) -> str:
    return '<hr class="w-divider">'


def _image(body: Json, ctx: _Context) -> str:
    url = str(body.get("imageUrl", ""))
    alt = str(body.get("altText", ""))
    # The page's CSP loads images from this app only: a foreign image is named, not fetched.
    if (url.startswith("/") and not url.startswith("//")) or url.startswith("data:image/"):
        image = f'<img class="w-image" src="{escape(url)}" alt="{escape(alt)}">'
    else:
        text = escape(alt or ctx.words.image)
        image = f'<span class="w-image-missing">[{text}]</span>'
    action = _click(body.get("onClick"))
    if action is not None:
        return _clickable(action, image, ctx, "w-image-click")
    return f'<div class="w-image-box">{image}</div>'


def _grid(body: Json, ctx: _Context) -> str:
    out = ['<div class="w-grid">']
    if body.get("title"):
        out.append(f'<p class="w-grid-title">{escape(str(body["title"]))}</p>')
    action = _click(body.get("onClick"))
    out.append('<ul class="w-grid-items">')
    for item in _list(body.get("items")):
        if not isinstance(item, Mapping):
            continue
        content = f'<span class="w-grid-item-title">{escape(str(item.get("title", "")))}</span>'
        if item.get("subtitle"):
            content += f'<span class="w-grid-item-sub">{escape(str(item["subtitle"]))}</span>'
        if action is not None:
            # Google passes which item was clicked; the preview names it in the parameters.
            params = dict(action.get("parameters") or {})
            params["gridItemId"] = str(item.get("id", ""))
            content = _clickable({**action, "parameters": params}, content, ctx, "w-grid-click")
        out.append(f"<li>{content}</li>")
    out.append("</ul></div>")
    return "".join(out)


def _columns(body: Json, ctx: _Context) -> str:
    columns = []
    for column in _list(body.get("columnItems")):
        if not isinstance(column, Mapping):
            continue
        inner = "".join(
            _widget(w, ctx) for w in _list(column.get("widgets")) if isinstance(w, Mapping)
        )
        columns.append(f'<div class="w-column">{inner}</div>')
    return f'<div class="w-columns">{"".join(columns)}</div>'


def _chip_list(body: Json, ctx: _Context) -> str:
    chips = [
        _button({"text": c.get("label", ""), "onClick": c.get("onClick")}, ctx)
        for c in _list(body.get("chips"))
        if isinstance(c, Mapping)
    ]
    return f'<div class="w-buttons w-chips">{"".join(chips)}</div>'


_RENDERERS: dict[str, Callable[[Json, _Context], str]] = {
    "textParagraph": _text_paragraph,
    "decoratedText": _decorated_text,
    "buttonList": _button_list,
    "textInput": _text_input,
    "selectionInput": _selection_input,
    "dateTimePicker": _date_time_picker,
    "divider": _divider,
    "image": _image,
    "grid": _grid,
    "columns": _columns,
    "chipList": _chip_list,
}


def _on_change(action: Any, ctx: _Context) -> str:
    """An input's change action, as a small button beside it (the page's script clicks it)."""
    parsed = _action(action)
    if parsed is None:
        return ""
    return (
        f'<button type="submit" class="c-apply" data-on-change name="{ACTION_FIELD}" '
        f'value="{escape(_action_value(parsed))}">{escape(ctx.words.apply)}</button>'
    )


def _click(click: Any) -> Json | None:
    """The action an ``onClick`` runs on our server, if it runs one."""
    if not isinstance(click, Mapping):
        return None
    return _action(click.get("action")) or _action(click.get("openDynamicLinkAction"))


def _open_link(click: Any) -> str | None:
    if not isinstance(click, Mapping) or not isinstance(click.get("openLink"), Mapping):
        return None
    url = str(click["openLink"].get("url", ""))
    return url if urlsplit(url).scheme in ("http", "https") else None


def _action(action: Any) -> Json | None:
    if not isinstance(action, Mapping) or not isinstance(action.get("function"), str):
        return None
    params: dict[str, str] = {}
    for pair in _list(action.get("parameters")):
        if isinstance(pair, Mapping) and isinstance(pair.get("key"), str):
            params[pair["key"]] = str(pair.get("value", ""))
    return {"function": action["function"], "parameters": params}


def _action_value(action: Json) -> str:
    return json.dumps(
        {"function": action["function"], "parameters": action.get("parameters") or {}},
        separators=(",", ":"),
        sort_keys=True,
    )


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else []


def _offset_zone(minutes: int) -> tzinfo:
    return timezone(timedelta(minutes=minutes))


def _from_ms(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# ---------------------------------------------------------------------------------------------
# Reading a posted card back


@dataclass(frozen=True, slots=True)
class ClickedAction:
    """The action a posted card asks for: the endpoint URL and its parameters."""

    function: str
    parameters: Mapping[str, str]


def clicked_action(value: str | None) -> ClickedAction | None:
    """The action a clicked button carried, or None if the value is not one."""
    try:
        data = json.loads(value or "")
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("function"), str):
        return None
    params = data.get("parameters", {})
    if not isinstance(params, dict):
        return None
    return ClickedAction(
        function=data["function"], parameters={str(k): str(v) for k, v in params.items()}
    )


def form_inputs(fields: Iterable[tuple[str, str]], tz: tzinfo) -> dict[str, dict[str, Any]]:
    """A posted card's inputs in Google's ``formInputs`` shape, by widget name.

    Text and selections become ``{"stringInputs": {"value": [...]}}`` (every checked value of a
    multi-select); an empty text field is left out, as Google leaves out a widget with no value.
    Pickers become ``dateTimeInput`` (the instant, read in the picker's offset or else in `tz`),
    ``dateInput`` (that day at 00:00 UTC) or ``timeInput`` (hours and minutes).
    """
    pairs = list(fields)
    offsets = {k[len(_OFFSET) :]: v for k, v in pairs if k.startswith(_OFFSET)}
    out: dict[str, dict[str, Any]] = {}
    for key, value in pairs:
        if key.startswith(_TEXT):
            name = key[len(_TEXT) :]
            if value == "":
                continue
            entry = out.setdefault(name, {"stringInputs": {"value": []}})
            entry.setdefault("stringInputs", {"value": []})["value"].append(value)
        elif key.startswith(_DATETIME) and value:
            name = key[len(_DATETIME) :]
            moment = _parse_local(value, offsets.get(name), tz)
            if moment is not None:
                out[name] = {
                    "dateTimeInput": {
                        "msSinceEpoch": str(round(moment.timestamp() * 1000)),
                        "hasDate": True,
                        "hasTime": True,
                    }
                }
        elif key.startswith(_DATE) and value:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                continue
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
            out[key[len(_DATE) :]] = {
                "dateInput": {"msSinceEpoch": str(round(midnight.timestamp() * 1000))}
            }
        elif key.startswith(_TIME) and value:
            hours, _, minutes = value.partition(":")
            if hours.isdigit() and minutes[:2].isdigit():
                out[key[len(_TIME) :]] = {
                    "timeInput": {"hours": int(hours), "minutes": int(minutes[:2])}
                }
    return out


def _parse_local(value: str, offset: str | None, tz: tzinfo) -> datetime | None:
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return naive
    if offset is not None and offset.lstrip("-").isdigit():
        return naive.replace(tzinfo=_offset_zone(int(offset)))
    return naive.replace(tzinfo=tz)


# ---------------------------------------------------------------------------------------------
# The event object Google sends


def calendar_object(event: Event, viewer: str) -> dict[str, Any]:
    """The ``calendar`` part of the event object for `event` opened by `viewer`.

    Google's event ids for an occurrence are ``<series id>_<original start>``, as the local
    store's are; ``recurringEventId`` names the series.
    """
    me = viewer.lower()
    attendees = [
        {
            "email": event.organizer,
            "organizer": True,
            "self": event.organizer.lower() == me,
            "responseStatus": "accepted",
        }
    ]
    for attendee in event.attendees:
        if attendee.email.lower() == event.organizer.lower():
            continue
        entry: dict[str, Any] = {
            "email": attendee.email,
            "organizer": False,
            "self": attendee.email.lower() == me,
            "responseStatus": _RESPONSES.get(attendee.response, "needsAction"),
        }
        if attendee.name:
            entry["displayName"] = attendee.name
        attendees.append(entry)
    out: dict[str, Any] = {
        "calendarId": viewer,
        "id": event.id,
        "organizer": {"email": event.organizer},
        "attendees": attendees,
        "capabilities": {
            "canSeeAttendees": True,
            "canAddAttendees": event.organizer.lower() == me,
            "canSeeConferenceData": True,
            "canSetConferenceData": False,
        },
    }
    if event.series_id:
        out["recurringEventId"] = event.series_id
    return out


_RESPONSES = {
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentative",
    "none": "needsAction",
}


def event_object(
    *,
    locale: str,
    tz_name: str,
    now: datetime,
    system_id_token: str,
    user_id_token: str,
    calendar: Json | None = None,
    parameters: Mapping[str, str] | None = None,
    inputs: Mapping[str, Json] | None = None,
) -> dict[str, Any]:
    """The JSON body Google POSTs to an HTTP add-on endpoint.

    `locale` is ``nl`` or ``en`` (sent as Google's ``nl-NL`` / ``en-GB``); the user's zone is
    `tz_name` with its offset at `now` in milliseconds. A homepage trigger has no `calendar`.
    """
    from zoneinfo import ZoneInfo

    offset = now.astimezone(ZoneInfo(tz_name)).utcoffset() or timedelta(0)
    common: dict[str, Any] = {
        "hostApp": "CALENDAR",
        "platform": "WEB",
        "userLocale": {"nl": "nl-NL", "en": "en-GB"}.get(locale, locale),
        "timeZone": {"id": tz_name, "offset": int(offset.total_seconds() * 1000)},
    }
    if inputs:
        common["formInputs"] = {k: dict(v) for k, v in inputs.items()}
    if parameters:
        common["parameters"] = dict(parameters)
    out: dict[str, Any] = {
        "commonEventObject": common,
        "authorizationEventObject": {
            "systemIdToken": system_id_token,
            "userIdToken": user_id_token,
        },
    }
    if calendar is not None:
        out["calendar"] = dict(calendar)
    return out


# ---------------------------------------------------------------------------------------------
# Applying an answer to the card stack


@dataclass(frozen=True, slots=True)
class HostAction:
    """Something Google Calendar would do to the open event: ``add_guests`` or ``attach``."""

    kind: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an endpoint's answer did: the new stack and what the host shows beside it.

    `problems` name, in the card developer's terms, what in the answer could not be applied.
    """

    stack: list[Json]
    notification: str | None = None
    link: str | None = None
    host_actions: tuple[HostAction, ...] = ()
    problems: tuple[str, ...] = ()


def apply_response(stack: Sequence[Json], response: Any) -> Outcome:
    """Apply a trigger's ``{"action": ...}`` or a callback's ``{"renderActions": ...}``.

    Navigations run in order: ``pushCard``, ``updateCard`` (replace the top card, or show it
    when the stack is empty), ``pop``/``popCard``, ``popToRoot``, ``popToCard`` (by card
    name). A notification, a link to open and Calendar actions (guests or attachments to add)
    are returned for the host to show; anything it cannot read is named in `problems`.
    """
    cards = list(stack)
    problems: list[str] = []
    if not isinstance(response, Mapping):
        return Outcome(cards, problems=("the answer is not a JSON object",))
    render = response.get("renderActions")
    envelope = render if isinstance(render, Mapping) else response
    action = envelope.get("action")
    notification = link = None
    if isinstance(action, Mapping):
        for step in _list(action.get("navigations")):
            problem = _navigate(cards, step)
            if problem:
                problems.append(problem)
        note = action.get("notification")
        if isinstance(note, Mapping) and note.get("text"):
            notification = str(note["text"])
        opened = action.get("link")
        if isinstance(opened, Mapping) and urlsplit(str(opened.get("url", ""))).scheme in (
            "http",
            "https",
        ):
            link = str(opened["url"])
    elif "action" in envelope:
        problems.append("action is not an object")
    host = _host_actions(envelope.get("hostAppAction"))
    if not isinstance(render, Mapping) and "renderActions" in response:
        problems.append("renderActions is not an object")
    return Outcome(cards, notification, link, host, tuple(problems))


def _navigate(cards: list[Json], step: Any) -> str | None:
    if not isinstance(step, Mapping):
        return "a navigation is not an object"
    if isinstance(step.get("pushCard"), Mapping):
        if len(cards) >= MAX_STACK:
            return f"the card stack is full ({MAX_STACK} cards): pop before you push"
        cards.append(step["pushCard"])
    elif isinstance(step.get("updateCard"), Mapping):
        if cards:
            cards[-1] = step["updateCard"]
        else:
            cards.append(step["updateCard"])
    elif step.get("pop") is True or step.get("popCard") is True:
        if cards:
            cards.pop()
    elif step.get("popToRoot") is True:
        del cards[1:]
    elif isinstance(step.get("popToCard"), str):
        names = [c.get("name") for c in cards]
        if step["popToCard"] not in names:
            return f"no card named {step['popToCard']!r} on the stack"
        index = len(names) - 1 - names[::-1].index(step["popToCard"])
        del cards[index + 1 :]
    elif "endNavigation" in step:
        return None
    else:
        return f"unknown navigation {sorted(step)!r}"
    return None


def _host_actions(host: Any) -> tuple[HostAction, ...]:
    """What Google Calendar would do to the open event (add guests, attach files)."""
    if not isinstance(host, Mapping) or not isinstance(host.get("calendarAction"), Mapping):
        return ()
    calendar = host["calendarAction"]
    out = []
    attendees = calendar.get("editAttendeesActionMarkup")
    if isinstance(attendees, Mapping):
        emails = tuple(str(e) for e in _list(attendees.get("addAttendeeEmails")))
        if emails:
            out.append(HostAction("add_guests", emails))
    attachments = calendar.get("addAttachmentsActionMarkup")
    if isinstance(attachments, Mapping):
        titles = tuple(
            str(a.get("title", ""))
            for a in _list(attachments.get("addonAttachments"))
            if isinstance(a, Mapping)
        )
        if titles:
            out.append(HostAction("attach", titles))
    return tuple(out)
