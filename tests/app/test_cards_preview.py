"""The Google cards preview: Card JSON as HTML, form inputs back in Google's shape, the card stack,
and the demo's cards view calling add-on endpoints exactly as Google would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Blueprint, Flask, jsonify, request, url_for
from flask.testing import FlaskClient
from jsonschema import Draft7Validator
from lxml import html as lxml_html
from werkzeug.datastructures import MultiDict

from addin.demo import ADA, FIRST_MEETING, GRACE, create_demo_app, seed
from addin.demo import host as demo
from addin.demo.clock import DemoClock
from addin.demo.preview import (
    ACTION_FIELD,
    MAX_STACK,
    HostAction,
    PreviewWords,
    apply_response,
    calendar_object,
    clicked_action,
    event_object,
    form_inputs,
    formatted,
    render_card,
)
from addin.workspace import cards as c
from addin.workspace.schema import definitions_from_discovery, discovery_schemas, validate_card
from addin.workspace.verify import Unauthorized
from connectors.memory import MemoryStore
from connectors.models import Attendee, Event

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SAVE = "https://addon.example.org/workspace/action/save"


def _render(card: dict[str, Any], **kwargs: Any) -> lxml_html.HtmlElement:
    validate_card(card)  # every card the tests render is one Google accepts
    markup = render_card(card, action_url="/demo/cards/action", **kwargs)
    return lxml_html.fragment_fromstring(str(markup))


def _submit(form: lxml_html.HtmlElement, button: lxml_html.HtmlElement) -> list[tuple[str, str]]:
    """The fields a browser sends when `button` submits `form`."""
    return [*form.form_values(), (button.get("name"), button.get("value"))]


# -- formatted text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<b>bold</b> and <i>it</i>", "<b>bold</b> and <i>it</i>"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("&lt;b&gt;typed&lt;/b&gt;", "&lt;b&gt;typed&lt;/b&gt;"),
        ('<img src=x onerror="alert(1)">', "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"),
        ('<a href="javascript:alert(1)">x</a>', "<a>x</a>"),
        (
            '<a href="https://example.org/?a=1&b=2">x</a>',
            '<a href="https://example.org/?a=1&amp;b=2" target="_blank" '
            'rel="noopener noreferrer">x</a>',
        ),
        ('<font color="#ff0000">red</font>', '<span class="fmt-font">red</span>'),
        ("<b>open", "<b>open</b>"),
        ("stray</b> end", "stray&lt;/b&gt; end"),
        ("<b><i>x</b>", "<b><i>x</i></b>"),
        ("line<br>next<br/>", "line<br>next<br>"),
        ("<!-- hidden -->", "&lt;!-- hidden --&gt;"),
        ('<b onclick="x()">b</b>', "<b>b</b>"),
    ],
)
def test_formatted_text_keeps_googles_subset_only(source: str, expected: str) -> None:
    """Google's tags stay; everything else, including attributes on them, shows as text."""
    assert str(formatted(source)) == expected


# -- rendering -----------------------------------------------------------------------------------


def test_user_text_shows_as_typed_everywhere() -> None:
    """Markup in titles, labels, values, options and hints is text, never elements."""
    evil = '<script>alert("x")</script>'
    card = c.card(
        evil,
        [
            c.section(
                evil,
                [
                    c.text(evil),
                    c.decorated_text(evil, top_label=evil, bottom_label=evil),
                    c.text_input("notes", evil, value=evil, hint=evil),
                    c.selection_input("pick", evil, [(evil, evil)], selected=[evil]),
                    c.button_list([c.button(evil, c.action(SAVE, {"p": evil}))]),
                ],
            )
        ],
        subtitle=evil,
    )
    markup = str(render_card(card, action_url="/demo/cards/action"))
    assert "<script" not in markup
    doc = lxml_html.fragment_fromstring(markup)
    assert not doc.xpath("//script")
    assert doc.xpath("string(//h2)") == evil
    assert doc.xpath("//input[@name='f.notes']/@value") == [evil]
    assert doc.xpath("//option/@value") == [evil]
    button = doc.xpath(f"//button[@name='{ACTION_FIELD}']")[0]
    assert json.loads(button.get("value"))["parameters"] == {"p": evil}


def test_every_widget_kind_renders_accessibly() -> None:
    """Each widget kind becomes its HTML counterpart, and every field has a label."""
    act = c.action(SAVE, {"step": "1"})
    card = c.card(
        "Agenda",
        [
            c.section(
                "Items",
                [
                    c.text("A paragraph"),
                    c.decorated_text(
                        "Ada", top_label="employee", icon="PERSON", button=c.button("Go", act)
                    ),
                    c.decorated_text("Open me", on_click=act),
                    c.text_input("title", "Title", hint="Short"),
                    c.text_input("notes", "Notes", multiline=True),
                    c.selection_input("dd", "Dropdown", [("a", "A"), ("b", "B")], selected=["b"]),
                    c.selection_input(
                        "radio", "Radio", [("a", "A"), ("b", "B")], kind="RADIO_BUTTON"
                    ),
                    c.selection_input("check", "Check", [("a", "A"), ("b", "B")], kind="CHECK_BOX"),
                    c.selection_input("switch", "Switch", [("on", "On")], kind="SWITCH"),
                    c.date_time_picker(
                        "when", "When", value=datetime(2026, 12, 1, 9, 30, tzinfo=AMS)
                    ),
                    c.date_time_picker("day", "Day", kind="DATE_ONLY", value=date(2026, 12, 1)),
                    c.date_time_picker("at", "At", kind="TIME_ONLY"),
                    c.divider(),
                    c.button_list(
                        [
                            c.button("Save", act),
                            c.button("Help", "https://example.org/help"),
                            c.button("Later", act, disabled=True),
                        ]
                    ),
                ],
            )
        ],
    )
    doc = _render(card)
    assert doc.xpath("string(//h2[@class='c-title'])") == "Agenda"
    assert doc.xpath("string(//h3)") == "Items"
    assert doc.xpath("//p[contains(@class,'w-text')]")
    assert doc.xpath("//span[@class='w-icon']")
    assert doc.xpath("//textarea[@name='f.notes']")
    assert doc.xpath("//select[@name='f.dd']/option[@selected]/@value") == ["b"]
    assert len(doc.xpath("//input[@type='radio'][@name='f.radio']")) == 2
    assert len(doc.xpath("//input[@type='checkbox'][@name='f.check']")) == 2
    assert doc.xpath("//input[@role='switch'][@name='f.switch']")
    assert doc.xpath("//input[@type='datetime-local'][@name='dt.when']/@value") == [
        "2026-12-01T09:30"
    ]
    assert doc.xpath("//input[@type='date'][@name='d.day']/@value") == ["2026-12-01"]
    assert doc.xpath("//input[@type='time'][@name='t.at']")
    assert doc.xpath("//hr")
    link = doc.xpath("//a[contains(@class,'c-button')]")[0]
    assert link.get("href") == "https://example.org/help" and "noopener" in link.get("rel")
    assert doc.xpath("//button[text()='Later']/@disabled") is not None
    assert doc.xpath("//button[text()='Later'][@disabled]")
    assert doc.xpath("//button[contains(@class,'w-dt-click')]//span[text()='Open me']")
    # Every input, select and textarea has a label (for=) or sits in a fieldset with a legend.
    for field in doc.xpath("//input[not(@type='hidden')] | //select | //textarea"):
        labelled = doc.xpath(f"//label[@for='{field.get('id')}']")
        grouped = field.xpath("ancestor::fieldset/legend")
        assert labelled or grouped or field.get("aria-labelledby"), lxml_html.tostring(field)
    # Pressing Enter submits the disabled default button first: nothing runs by accident.
    first = doc.xpath("//button[@type='submit']")[0]
    assert first.get("disabled") is not None and first.get("name") is None


def test_collapsible_sections_footer_menu_and_more() -> None:
    """Collapsed widgets go in a details element; footer, card menu, grid, columns, chips, image."""
    act = c.action(SAVE)
    card = {
        "header": {"title": "More"},
        "sections": [
            {
                "header": "Folded",
                "collapsible": True,
                "uncollapsibleWidgetsCount": 1,
                "widgets": [c.text("seen"), c.text("folded away")],
            },
            {
                "widgets": [
                    {
                        "grid": {
                            "title": "Grid",
                            "columnCount": 2,
                            "items": [{"id": "g1", "title": "One"}, {"id": "g2", "title": "Two"}],
                            "onClick": {"action": act},
                        }
                    },
                    {
                        "columns": {
                            "columnItems": [
                                {"widgets": [c.text("left")]},
                                {"widgets": [c.text("right")]},
                            ]
                        }
                    },
                    {"chipList": {"chips": [{"label": "Chip", "onClick": {"action": act}}]}},
                    {"image": {"imageUrl": "https://example.org/x.png", "altText": "A photo"}},
                    {
                        "decoratedText": {
                            "text": "Reminders",
                            "switchControl": {"name": "remind", "value": "yes", "selected": True},
                        }
                    },
                ]
            },
        ],
        "fixedFooter": {
            "primaryButton": c.button("Save", act),
            "secondaryButton": c.button("Cancel", act),
        },
        "cardActions": [{"actionLabel": "Settings", "onClick": {"action": act}}],
    }
    doc = _render(card, words=PreviewWords(show_more="Meer tonen"))
    details = doc.xpath("//details")[0]
    assert details.xpath("string(summary)") == "Meer tonen"
    assert "folded away" in details.text_content() and "seen" not in details.text_content()
    grid = doc.xpath("//div[@class='w-grid']//button")
    assert [json.loads(b.get("value"))["parameters"] for b in grid] == [
        {"gridItemId": "g1"},
        {"gridItemId": "g2"},
    ]
    assert len(doc.xpath("//div[@class='w-column']")) == 2
    assert doc.xpath("//div[contains(@class,'w-chips')]/button[text()='Chip']")
    # A foreign image is named, not fetched (the page's CSP would refuse it anyway).
    assert not doc.xpath("//img") and "A photo" in doc.xpath(
        "string(//span[@class='w-image-missing'])"
    )
    switch = doc.xpath("//input[@name='f.remind']")[0]
    assert switch.get("checked") is not None and switch.get("role") == "switch"
    label_id = switch.get("aria-labelledby")
    assert doc.xpath(f"string(//*[@id='{label_id}'])") == "Reminders"
    footer = doc.xpath("//div[@class='c-footer']/button/text()")
    assert footer == ["Save", "Cancel"]
    assert doc.xpath("//div[@class='c-menu']/button[text()='Settings']")


def test_unknown_widgets_are_named_not_dropped() -> None:
    """A widget the preview does not draw says so, with its kind."""
    card = {"sections": [{"widgets": [{"carousel": {"carouselCards": []}}]}]}
    markup = str(render_card(card, action_url="/x", words=PreviewWords(unsupported="Niet getoond")))
    assert "Niet getoond" in markup and "<code>carousel</code>" in markup


def test_hidden_fields_and_change_actions() -> None:
    """Hidden fields go into the form; an input's change action gets an apply button."""
    act = c.action(SAVE, {"field": "day"})
    card = c.card(
        None, [c.section(None, [c.selection_input("d", "Day", [("a", "A")], on_change=act)])]
    )
    doc = _render(card, hidden={"csrf": 'tok"en'}, words=PreviewWords(apply="Toepassen"))
    assert doc.xpath("//input[@type='hidden'][@name='csrf']/@value") == ['tok"en']
    apply = doc.xpath("//button[@data-on-change]")[0]
    assert apply.text == "Toepassen"
    assert clicked_action(apply.get("value")) is not None


def test_values_the_user_left_win_over_the_cards() -> None:
    """Re-drawn after an action that kept it, a card shows what the user typed and chose."""
    card = c.card(
        "Keep",
        [
            c.section(
                None,
                [
                    c.text_input("title", "Title", value="from the card"),
                    c.selection_input("dd", "Dropdown", [("a", "A"), ("b", "B")], selected=["a"]),
                    c.selection_input(
                        "check", "Check", [("a", "A"), ("b", "B")], selected=["a"], kind="CHECK_BOX"
                    ),
                    c.date_time_picker("day", "Day", kind="DATE_ONLY", value=date(2026, 12, 1)),
                    {
                        "decoratedText": {
                            "text": "On",
                            "switchControl": {"name": "on", "selected": True},
                        }
                    },
                ],
            )
        ],
    )
    values = {"f.title": ["typed <b>"], "f.dd": ["b"], "f.check": ["b"], "d.day": ["2026-12-24"]}
    doc = _render(card, values=values)
    assert doc.xpath("//input[@name='f.title']/@value") == ["typed <b>"]
    assert doc.xpath("//select/option[@selected]/@value") == ["b"]
    assert doc.xpath("//input[@name='f.check'][@checked]/@value") == ["b"]
    assert doc.xpath("//input[@name='d.day']/@value") == ["2026-12-24"]
    assert doc.xpath("//input[@name='f.on']/@checked") == []  # unchecked when posted: absent
    untouched = _render(card)
    assert untouched.xpath("//input[@name='f.title']/@value") == ["from the card"]
    assert untouched.xpath("//input[@name='f.on']/@checked") == ["checked"]


# -- form inputs round trip ----------------------------------------------------------------------


def test_form_inputs_round_trip_in_googles_shape() -> None:
    """What the user leaves or picks comes back in formInputs as Google sends it."""
    when = datetime(2026, 12, 1, 9, 30, tzinfo=AMS)
    card = c.card(
        "Plan",
        [
            c.section(
                None,
                [
                    c.text_input("title", "Title", value="Werkdruk"),
                    c.text_input("empty", "Empty"),
                    c.selection_input(
                        "days",
                        "Days",
                        [("TU", "Tue"), ("WE", "Wed"), ("TH", "Thu")],
                        selected=["TU", "TH"],
                        kind="CHECK_BOX",
                    ),
                    c.selection_input(
                        "owner",
                        "Owner",
                        [("employee", "Ada"), ("manager", "Grace")],
                        selected=["manager"],
                    ),
                    c.selection_input("online", "Online", [("yes", "Online")], kind="SWITCH"),
                    c.date_time_picker("when", "When", value=when),
                    c.date_time_picker("due", "Due", kind="DATE_ONLY", value=date(2026, 12, 15)),
                    c.button_list([c.button("Save", c.action(SAVE, {"occ": "20261201T083000Z"}))]),
                ],
            )
        ],
    )
    doc = _render(card, tz=AMS)
    form = doc if doc.tag == "form" else doc.xpath("//form")[0]
    button = doc.xpath("//button[text()='Save']")[0]
    fields = _submit(form, button)
    action = clicked_action(dict(fields)[ACTION_FIELD])
    assert action is not None
    assert action.function == SAVE and action.parameters == {"occ": "20261201T083000Z"}
    inputs = form_inputs([(k, v) for k, v in fields if k != ACTION_FIELD], AMS)
    assert inputs == {
        "title": {"stringInputs": {"value": ["Werkdruk"]}},
        "days": {"stringInputs": {"value": ["TU", "TH"]}},
        "owner": {"stringInputs": {"value": ["manager"]}},
        "when": {
            "dateTimeInput": {
                "msSinceEpoch": str(round(when.timestamp() * 1000)),
                "hasDate": True,
                "hasTime": True,
            }
        },
        "due": {
            "dateInput": {
                "msSinceEpoch": str(round(datetime(2026, 12, 15, tzinfo=UTC).timestamp() * 1000))
            }
        },
    }
    # Google's own shape: each value validates against the discovery document's Inputs schema.
    validator = _discovery_validator("Inputs")
    for value in inputs.values():
        validator.validate(value)


def test_form_inputs_edge_cases() -> None:
    """A picker's own offset wins over the user's zone; times and junk are read carefully."""
    fields = [
        ("dt.meet", "2026-07-01T10:00"),
        ("o.meet", "-240"),
        ("dt.local", "2026-07-01T10:00"),
        ("t.at", "09:05"),
        ("t.bad", "nine"),
        ("d.bad", "2026-13-01"),
        ("dt.bad", "tomorrow"),
        ("f.multi", "a"),
        ("f.multi", ""),
        ("f.multi", "b"),
        ("other", "ignored"),
    ]
    inputs = form_inputs(fields, AMS)
    meet = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)
    local = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert inputs["meet"]["dateTimeInput"]["msSinceEpoch"] == str(round(meet.timestamp() * 1000))
    assert inputs["local"]["dateTimeInput"]["msSinceEpoch"] == str(round(local.timestamp() * 1000))
    assert inputs["at"] == {"timeInput": {"hours": 9, "minutes": 5}}
    assert inputs["multi"] == {"stringInputs": {"value": ["a", "b"]}}
    assert set(inputs) == {"meet", "local", "at", "multi"}


@pytest.mark.parametrize(
    "value",
    [None, "", "not json", "[]", '{"parameters": {}}', '{"function": "x", "parameters": []}'],
)
def test_clicked_action_refuses_what_is_not_an_action(value: str | None) -> None:
    """Only a JSON object with a function (and a parameter object) is an action."""
    assert clicked_action(value) is None


# -- the event object ----------------------------------------------------------------------------


def _discovery_validator(name: str) -> Draft7Validator:
    definitions = definitions_from_discovery(discovery_schemas(), [name])
    return Draft7Validator({"$ref": f"#/definitions/{name}", "definitions": definitions})


def _event(**changes: Any) -> Event:
    fields: dict[str, Any] = {
        "id": "abc_20261201T083000Z",
        "subject": "Goed gesprek",
        "start": datetime(2026, 12, 1, 9, 30, tzinfo=AMS),
        "end": datetime(2026, 12, 1, 10, 30, tzinfo=AMS),
        "tz": "Europe/Amsterdam",
        "organizer": ADA.email,
        "etag": '"1"',
        "ical_uid": "uid",
        "attendees": (Attendee(GRACE.email, "Grace", "accepted"),),
        "series_id": "abc",
    }
    fields.update(changes)
    return Event(**fields)


def test_event_object_has_googles_shape() -> None:
    """commonEventObject validates against Google's discovery schema; calendar and tokens fit."""
    body = event_object(
        locale="nl",
        tz_name="Europe/Amsterdam",
        now=NOW,
        system_id_token="sys",
        user_id_token="usr",
        calendar=calendar_object(_event(), GRACE.email),
        parameters={"occ": "x"},
        inputs={"title": {"stringInputs": {"value": ["A"]}}},
    )
    _discovery_validator("CommonEventObject").validate(body["commonEventObject"])
    common = body["commonEventObject"]
    assert common["hostApp"] == "CALENDAR" and common["platform"] == "WEB"
    assert common["userLocale"] == "nl-NL"
    assert common["timeZone"] == {"id": "Europe/Amsterdam", "offset": 3_600_000}
    assert common["parameters"] == {"occ": "x"}
    assert common["formInputs"]["title"] == {"stringInputs": {"value": ["A"]}}
    assert body["authorizationEventObject"] == {"systemIdToken": "sys", "userIdToken": "usr"}
    calendar = body["calendar"]
    assert calendar["calendarId"] == GRACE.email
    assert calendar["id"] == "abc_20261201T083000Z" and calendar["recurringEventId"] == "abc"
    assert calendar["organizer"] == {"email": ADA.email}
    assert [(a["email"], a["self"], a["organizer"]) for a in calendar["attendees"]] == [
        (ADA.email, False, True),
        (GRACE.email, True, False),
    ]
    assert calendar["capabilities"]["canAddAttendees"] is False  # Grace is not the organizer


def test_event_object_for_the_homepage_and_in_summer() -> None:
    """A homepage trigger carries no calendar; the offset follows daylight saving time."""
    body = event_object(
        locale="en",
        tz_name="Europe/Amsterdam",
        now=datetime(2026, 7, 1, tzinfo=UTC),
        system_id_token="s",
        user_id_token="u",
    )
    assert "calendar" not in body
    assert body["commonEventObject"]["userLocale"] == "en-GB"
    assert body["commonEventObject"]["timeZone"]["offset"] == 7_200_000
    assert "formInputs" not in body["commonEventObject"]
    single = calendar_object(_event(series_id=None, id="single"), ADA.email)
    assert "recurringEventId" not in single and single["capabilities"]["canAddAttendees"]


# -- the card stack ------------------------------------------------------------------------------


def _named(name: str) -> dict[str, Any]:
    return c.card(name, [c.section(None, [c.text(name)])], name=name)


def test_navigations_run_in_order() -> None:
    """push, update, pop, popToRoot and popToCard change the stack as Google's host does."""
    root, a, b = _named("root"), _named("a"), _named("b")
    outcome = apply_response([], c.push_card(root))
    assert [x["name"] for x in outcome.stack] == ["root"]
    stack = apply_response(outcome.stack, c.render_actions(push=a)).stack
    stack = apply_response(stack, c.render_actions(push=b)).stack
    assert [x["name"] for x in stack] == ["root", "a", "b"]
    stack = apply_response(
        stack, {"renderActions": {"action": {"navigations": [{"popToCard": "a"}]}}}
    ).stack
    assert [x["name"] for x in stack] == ["root", "a"]
    stack = apply_response(stack, c.render_actions(pop=True, update=_named("a2"))).stack
    assert [x["name"] for x in stack] == ["a2"]
    stack = apply_response([root, a, b], c.render_actions(pop_to_root=True, push=_named("c"))).stack
    assert [x["name"] for x in stack] == ["root", "c"]
    stack = apply_response(
        [root, a], {"renderActions": {"action": {"navigations": [{"popCard": True}]}}}
    ).stack
    assert [x["name"] for x in stack] == ["root"]
    assert [x["name"] for x in apply_response([], c.update_card(a)).stack] == ["a"]


def test_notifications_links_and_calendar_actions_are_reported() -> None:
    """Beside the stack, the host shows a notification, a link and what Calendar would do."""
    answer = c.render_actions(notification="Opgeslagen", add_attendees=["hr@example.org"])
    answer["renderActions"]["action"]["link"] = {"url": "https://example.org/record"}
    outcome = apply_response([_named("root")], answer)
    assert outcome.notification == "Opgeslagen"
    assert outcome.link == "https://example.org/record"
    assert outcome.host_actions == (HostAction("add_guests", ("hr@example.org",)),)
    assert outcome.problems == ()
    unsafe = {"renderActions": {"action": {"link": {"url": "javascript:alert(1)"}}}}
    assert apply_response([], unsafe).link is None


def test_unreadable_answers_are_named() -> None:
    """Unknown navigations, a missing card name and a full stack are problems, not crashes."""
    assert apply_response([], "nope").problems
    odd = {"action": {"navigations": [{"sideways": True}, {"popToCard": "ghost"}, 3]}}
    problems = apply_response([_named("root")], odd).problems
    assert len(problems) == 3 and "sideways" in problems[0] and "ghost" in problems[1]
    full = [_named(str(i)) for i in range(MAX_STACK)]
    outcome = apply_response(full, c.render_actions(push=_named("more")))
    assert len(outcome.stack) == MAX_STACK and "full" in outcome.problems[0]


# -- the demo's cards view -----------------------------------------------------------------------


class _FakeAddon:
    """Card endpoints in the add-on's shape: verify the request, record it, answer with cards."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, Any] = {}
        bp = Blueprint("fake_addon", __name__, url_prefix="/workspace/fake")
        bp.add_url_rule("/homepage", "homepage", self._trigger("homepage"), methods=["POST"])
        bp.add_url_rule("/event-open", "open", self._trigger("open"), methods=["POST"])
        bp.add_url_rule("/event-update", "update", self._trigger("update"), methods=["POST"])
        bp.add_url_rule("/action/<name>", "act", self._act, methods=["POST"])
        app.register_blueprint(bp)

    def _verified(self) -> Any:
        verifier = self.app.extensions["goedgesprek.verifier"]
        try:
            verifier.verify(request.headers.get("Authorization"), request.url)
        except Unauthorized as exc:
            return jsonify(error="unauthorized", message=exc.reason), 401
        return None

    def _trigger(self, kind: str) -> Any:
        def view() -> Any:
            refused = self._verified()
            if refused:
                return refused
            body = request.get_json()
            self.calls.append((kind, body))
            if kind in self.answers:
                return jsonify(self.answers[kind])
            title = {"homepage": "Home", "open": "Event card", "update": "Updated card"}[kind]
            widgets = [
                {"textParagraph": {"text": f"{title} <b>for</b> <script>x</script>"}},
                c.text_input("title", "Title"),
                c.selection_input("owner", "Owner", [("employee", "Ada"), ("manager", "Grace")]),
                c.button_list(
                    [
                        c.button(
                            "Next",
                            c.action(
                                url_for("fake_addon.act", name="next", _external=True),
                                {"step": "2"},
                            ),
                        ),
                        c.button("Elsewhere", c.action("https://evil.example.org/workspace/x")),
                    ]
                ),
            ]
            return jsonify(c.push_card(c.card(title, [c.section(None, widgets)], name="root")))

        return view

    def _act(self, name: str) -> Any:
        refused = self._verified()
        if refused:
            return refused
        self.calls.append((name, request.get_json()))
        if name in self.answers:
            return jsonify(self.answers[name])
        pushed = c.card("Second card", [c.section(None, [c.text("pushed")])], name="second")
        return jsonify(c.render_actions(push=pushed, notification="Saved <b>!</b>"))


@pytest.fixture
def store() -> MemoryStore:
    """A memory store seeded like the demo."""
    s = MemoryStore(clock=lambda: NOW)
    seed(s, NOW)
    return s


@pytest.fixture
def app(tmp_path: Path, store: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app with fake card endpoints standing in for the add-on's."""
    monkeypatch.setattr(
        demo,
        "ENDPOINTS",
        {
            "homepage": "/workspace/fake/homepage",
            "open": "/workspace/fake/event-open",
            "update": "/workspace/fake/event-update",
        },
    )
    clock = DemoClock(tmp_path, base=lambda: NOW)
    return create_demo_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store, clock=clock)


@pytest.fixture
def addon(app: Flask) -> _FakeAddon:
    """The fake add-on, registered on the app."""
    return _FakeAddon(app)


@pytest.fixture
def client(app: Flask, addon: _FakeAddon) -> Iterator[FlaskClient]:
    """A browser session."""
    yield app.test_client()


def _meeting(store: MemoryStore) -> Event:
    events = store.calendar(ADA.email).events(NOW - timedelta(days=1), NOW + timedelta(days=7))
    return next(e for e in events if e.subject == FIRST_MEETING)


def _view(client: FlaskClient, url: str) -> lxml_html.HtmlElement:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return lxml_html.fromstring(response.get_data(as_text=True))


def _press(client: FlaskClient, doc: lxml_html.HtmlElement, label: str, **typed: str) -> Any:
    form = doc.xpath("//form[@class='c-card']")[0]
    for name, value in typed.items():
        form.fields[name] = value
    button = form.xpath(f".//button[normalize-space()='{label}']")[0]
    return client.post(form.get("action"), data=MultiDict(_submit(form, button)))


def test_homepage_is_called_like_google(client: FlaskClient, addon: _FakeAddon) -> None:
    """No event open: the homepage trigger, signed, with no calendar; its card is shown."""
    doc = _view(client, "/demo/cards?as=grace&lang=en")
    kind, body = addon.calls[-1]
    assert kind == "homepage" and "calendar" not in body
    assert body["commonEventObject"]["userLocale"] == "en-GB"
    assert doc.xpath("string(//h2[@class='c-title'])") == "Home"
    # Google's formatted text: bold kept, the script shown as text.
    paragraph = doc.xpath("//p[contains(@class,'w-text')]")[0]
    assert paragraph.xpath("string(b)") == "for" and not doc.xpath("//p//script")
    assert "<script>x</script>" in paragraph.text_content()


def test_event_open_carries_the_event_and_buttons_call_back(
    client: FlaskClient, addon: _FakeAddon, store: MemoryStore
) -> None:
    """Opening an event, then a button with inputs: Google's event object, the stack, a toast."""
    meeting = _meeting(store)
    doc = _view(client, f"/demo/cards?as=ada&event={meeting.id}&lang=nl")
    kind, body = addon.calls[-1]
    assert kind == "open"
    assert body["calendar"]["id"] == meeting.id and body["calendar"]["calendarId"] == ADA.email
    assert body["commonEventObject"]["userLocale"] == "nl-NL"
    assert doc.xpath("string(//h2[@class='c-title'])") == "Event card"
    assert not doc.xpath("//button[contains(@class,'back')]")

    response = _press(client, doc, "Next", **{"f.title": "Werkdruk", "f.owner": "manager"})
    assert response.status_code == 303
    kind, body = addon.calls[-1]
    assert kind == "next"
    common = body["commonEventObject"]
    assert common["parameters"] == {"step": "2"}
    assert common["formInputs"] == {
        "title": {"stringInputs": {"value": ["Werkdruk"]}},
        "owner": {"stringInputs": {"value": ["manager"]}},
    }
    assert body["calendar"]["id"] == meeting.id

    doc = _view(client, response.headers["Location"])
    assert doc.xpath("string(//h2[@class='c-title'])") == "Second card"
    assert doc.xpath("string(//p[@class='toast'])") == "Saved <b>!</b>"  # as text
    back = doc.xpath("//button[contains(@class,'back')]")[0]
    assert back.get("aria-label") == "Terug"

    form = back.getparent()
    response = client.post(form.get("action"), data=dict(form.form_values()))
    assert response.status_code == 303
    doc = _view(client, response.headers["Location"])
    assert doc.xpath("string(//h2[@class='c-title'])") == "Event card"
    assert doc.xpath("string(//details[@class='card-json']/pre)").startswith("{")


def test_the_event_update_trigger(
    client: FlaskClient, addon: _FakeAddon, store: MemoryStore
) -> None:
    """ "The event was changed" calls the update trigger with the open event."""
    meeting = _meeting(store)
    doc = _view(client, f"/demo/cards?as=grace&event={meeting.id}&lang=en")
    form = doc.xpath("//form[.//button[@name='_trigger']]")[0]
    response = client.post(
        form.get("action"), data={**dict(form.form_values()), "_trigger": "update"}
    )
    kind, body = addon.calls[-1]
    assert kind == "update" and body["calendar"]["calendarId"] == GRACE.email
    doc = _view(client, response.headers["Location"])
    assert doc.xpath("string(//h2[@class='c-title'])") == "Updated card"


def test_foreign_endpoints_are_not_called(client: FlaskClient, addon: _FakeAddon) -> None:
    """A card action pointing outside the app is refused, and nothing is sent there."""
    doc = _view(client, "/demo/cards?as=ada&lang=en")
    calls = len(addon.calls)
    response = _press(client, doc, "Elsewhere")
    doc = _view(client, response.headers["Location"])
    assert len(addon.calls) == calls
    assert "outside this app" in doc.xpath("string(//p[@role='alert'])")
    assert doc.xpath("string(//h2[@class='c-title'])") == "Home"


def test_errors_and_invalid_cards_are_shown(
    client: FlaskClient, addon: _FakeAddon, store: MemoryStore
) -> None:
    """A refused request names its status; a card Google would refuse names the problem."""
    addon.answers["next"] = {
        "renderActions": {
            "action": {
                "navigations": [
                    {"pushCard": {"sections": [{"widgets": [{"textParagraf": {"text": "x"}}]}]}}
                ]
            }
        }
    }
    doc = _view(client, "/demo/cards?as=ada&lang=en")
    response = _press(client, doc, "Next")
    doc = _view(client, response.headers["Location"])
    problems = doc.xpath("string(//div[@role='alert'])")
    assert "textParagraf" in problems
    assert "textParagraf" in doc.xpath("string(//p[@class='w-unsupported'])")

    # A token signed by someone else: the add-on answers 401 and the view says so.
    from addin.workspace.verify import LocalSigner

    client.application.extensions["goedgesprek.signer"] = LocalSigner.generate()
    doc = _view(client, f"/demo/cards?as=ada&event={_meeting(store).id}&lang=en")
    alert = doc.xpath("string(//p[@role='alert'])")
    assert "401" in alert and "not signed by Google" in alert


def test_without_card_endpoints_the_view_says_so(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Until the add-on's endpoints exist, the view explains instead of failing."""
    monkeypatch.setattr(demo, "ENDPOINTS", {k: f"/workspace/none/{k}" for k in demo.ENDPOINTS})
    doc = _view(client, "/demo/cards?lang=en&reset=1")
    assert "not part of this app yet" in doc.xpath("string(//p[@role='alert'])")


def test_actions_need_the_page_token(client: FlaskClient, addon: _FakeAddon) -> None:
    """A post without the page's token is refused and calls nothing."""
    doc = _view(client, "/demo/cards?lang=en")
    form = doc.xpath("//form[@class='c-card']")[0]
    button = form.xpath(".//button[normalize-space()='Next']")[0]
    fields = [(k, v) for k, v in _submit(form, button) if k != "csrf"]
    calls = len(addon.calls)
    response = client.post("/demo/cards/action", data=MultiDict(fields))
    assert response.status_code == 400 and len(addon.calls) == calls


def test_each_browser_has_its_own_stack(app: Flask, client: FlaskClient) -> None:
    """Another browser session starts from the trigger, not from someone else's stack."""
    doc = _view(client, "/demo/cards?lang=en")
    _press(client, doc, "Next")
    assert (
        _view(client, "/demo/cards?lang=en").xpath("string(//h2[@class='c-title'])")
        == "Second card"
    )
    other = app.test_client()
    assert _view(other, "/demo/cards?lang=en").xpath("string(//h2[@class='c-title'])") == "Home"
    # Changing the language asks the add-on again, in that language.
    assert _view(client, "/demo/cards?lang=nl").xpath("string(//h2[@class='c-title'])") == "Home"


def test_the_real_add_on_through_the_preview(tmp_path: Path, store: MemoryStore) -> None:
    """The app's own card endpoints, called by the preview as Google would: no refusal, and a
    button on the event's card leads to the next card."""
    clock = DemoClock(tmp_path, base=lambda: NOW)
    app = create_demo_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store, clock=clock)
    adapter = app.url_map.bind("localhost")
    if not adapter.test(demo.ENDPOINTS["homepage"], method="POST"):
        pytest.skip("the add-on's card endpoints are not in this app yet")
    client = app.test_client()
    doc = _view(client, "/demo/cards?as=grace&lang=en")
    assert not doc.xpath("//*[@role='alert']") and doc.xpath("//form[@class='c-card']")
    doc = _view(client, f"/demo/cards?as=ada&event={_meeting(store).id}&lang=en")
    assert not doc.xpath("//*[@role='alert']")
    title = doc.xpath("string(//h2[@class='c-title'])")
    form = doc.xpath("//form[@class='c-card']")[0]
    button = form.xpath(f".//button[@name='{ACTION_FIELD}']")[-1]
    response = client.post(form.get("action"), data=MultiDict(_submit(form, button)))
    assert response.status_code == 303
    doc = _view(client, response.headers["Location"])
    assert not doc.xpath("//*[@role='alert']")
    assert doc.xpath("string(//h2[@class='c-title'])") not in ("", title)


def test_a_card_left_in_place_keeps_what_was_typed(client: FlaskClient, addon: _FakeAddon) -> None:
    """An answer with only a notification leaves the card and the user's input as they were;
    a new card on top starts from its own values."""
    addon.answers["next"] = c.render_actions(notification="Nog niet opgeslagen")
    doc = _view(client, "/demo/cards?as=ada&lang=en")
    response = _press(client, doc, "Next", **{"f.title": "Half typed", "f.owner": "manager"})
    doc = _view(client, response.headers["Location"])
    assert doc.xpath("string(//p[@class='toast'])") == "Nog niet opgeslagen"
    assert doc.xpath("//input[@name='f.title']/@value") == ["Half typed"]
    assert doc.xpath("//select[@name='f.owner']/option[@selected]/@value") == ["manager"]
    del addon.answers["next"]
    response = _press(client, doc, "Next")
    doc = _view(client, response.headers["Location"])
    assert doc.xpath("string(//h2[@class='c-title'])") == "Second card"
    form = doc.xpath("//form[contains(@action,'back')]")[0]
    response = client.post(form.get("action"), data=dict(form.form_values()))
    doc = _view(client, response.headers["Location"])
    assert doc.xpath("//input[@name='f.title']/@value") == [""]


def test_the_demo_flow_through_the_cards(tmp_path: Path, store: MemoryStore) -> None:
    """With the real add-on: plan from the first meeting (preview, then schedule), open the first
    conversation, move the clock past it from the cards view: the add-on answers afresh."""
    clock = DemoClock(tmp_path, base=lambda: NOW)
    app = create_demo_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store, clock=clock)
    if not app.url_map.bind("localhost").test(demo.ENDPOINTS["homepage"], method="POST"):
        pytest.skip("the add-on's card endpoints are not in this app yet")
    client = app.test_client()

    def last_button(doc: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
        doc = _view(client, _press_last(client, doc))
        assert not doc.xpath("//*[@role='alert']"), doc.xpath("string(//*[@role='alert'])")
        return doc

    doc = _view(client, f"/demo/cards?as=ada&event={_meeting(store).id}&lang=nl")
    doc = last_button(doc)  # the proposal
    doc = last_button(doc)  # scheduled
    window = (NOW, NOW + timedelta(days=120))
    occurrences = [e for e in store.calendar(GRACE.email).events(*window) if e.series_id]
    assert occurrences, "the series is in Grace's calendar too"
    first = occurrences[0]
    before = _view(client, f"/demo/cards?as=ada&event={first.id}&lang=nl")
    assert not before.xpath("//*[@role='alert']")
    assert "Naar het einde van dit gesprek" in before.xpath("string(//section[@class='clock'])")
    form = before.xpath("//form[contains(@class,'clock-buttons')]")[0]
    fields = MultiDict([*form.form_values(), ("action", "end")])
    response = client.post(form.get("action"), data=fields)
    assert response.status_code == 303 and "reset=1" in response.headers["Location"]
    assert clock() == first.end + demo.AFTER_THE_END
    after = _view(client, response.headers["Location"])
    assert not after.xpath("//*[@role='alert']")
    card_json = "string(//details[@class='card-json']/pre)"
    assert after.xpath(card_json) != before.xpath(card_json)


def _press_last(client: FlaskClient, doc: lxml_html.HtmlElement) -> str:
    """Press the card's last action button; the address the view redirects to."""
    form = doc.xpath("//form[@class='c-card']")[0]
    button = form.xpath(f".//button[@name='{ACTION_FIELD}']")[-1]
    response = client.post(form.get("action"), data=MultiDict(_submit(form, button)))
    assert response.status_code == 303
    return str(response.headers["Location"])
