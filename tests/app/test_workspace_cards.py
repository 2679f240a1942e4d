"""Golden tests for the Card JSON builders, held against Google's published card schema."""

from __future__ import annotations

import copy
import html
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addin.workspace import cards
from addin.workspace.schema import (
    CardError,
    card_schema,
    discovery_schemas,
    validate_card,
    validate_response,
)

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

BASE = "https://addin.example.org/addon"
SAVE = cards.action(f"{BASE}/save", {"series": "s-1", "occurrence": "2025-04-01"})


def one(widget: dict[str, Any]) -> dict[str, Any]:
    """A card holding just `widget`."""
    return cards.card("Goed Gesprek", [cards.section(None, [widget])])


def problem(check: Any, value: Any) -> CardError:
    """The CardError that `check` raises for `value`."""
    with pytest.raises(CardError) as caught:
        check(value)
    return caught.value


GOLDEN: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "text",
        cards.text("Hoe gaat het met je?"),
        {"textParagraph": {"text": "Hoe gaat het met je?"}},
    ),
    (
        "decorated_text",
        cards.decorated_text("1 april 2025", top_label="Volgend gesprek", icon="INVITE"),
        {
            "decoratedText": {
                "text": "1 april 2025",
                "wrapText": True,
                "topLabel": "Volgend gesprek",
                "startIcon": {"knownIcon": "INVITE"},
            }
        },
    ),
    (
        "decorated_text with a button",
        cards.decorated_text(
            "Agenda", bottom_label="gedeeld", button=cards.button("Open", f"{BASE}/agenda")
        ),
        {
            "decoratedText": {
                "text": "Agenda",
                "wrapText": True,
                "bottomLabel": "gedeeld",
                "button": {"text": "Open", "onClick": {"openLink": {"url": f"{BASE}/agenda"}}},
            }
        },
    ),
    (
        "decorated_text with on_click",
        cards.decorated_text("Actie", on_click=SAVE, wrap=False),
        {"decoratedText": {"text": "Actie", "wrapText": False, "onClick": {"action": SAVE}}},
    ),
    (
        "button_list",
        cards.button_list(
            [cards.button("Opslaan", SAVE), cards.button("Later", SAVE, disabled=True)]
        ),
        {
            "buttonList": {
                "buttons": [
                    {"text": "Opslaan", "onClick": {"action": SAVE}},
                    {"text": "Later", "onClick": {"action": SAVE}, "disabled": True},
                ]
            }
        },
    ),
    (
        "text_input",
        cards.text_input("summary", "Samenvatting", value="Goed", hint="per thema", multiline=True),
        {
            "textInput": {
                "name": "summary",
                "label": "Samenvatting",
                "type": "MULTIPLE_LINE",
                "value": "Goed",
                "hintText": "per thema",
            }
        },
    ),
    (
        "text_input with on_change",
        cards.text_input("title", "Titel", on_change=SAVE),
        {
            "textInput": {
                "name": "title",
                "label": "Titel",
                "type": "SINGLE_LINE",
                "onChangeAction": SAVE,
            }
        },
    ),
    (
        "selection_input",
        cards.selection_input(
            "themes",
            "Thema's",
            [("personal", "Persoonlijk"), ("role", "Huidige rol"), ("growth", "Groei")],
            selected={"personal", "growth"},
            kind="CHECK_BOX",
            on_change=SAVE,
        ),
        {
            "selectionInput": {
                "name": "themes",
                "label": "Thema's",
                "type": "CHECK_BOX",
                "items": [
                    {"text": "Persoonlijk", "value": "personal", "selected": True},
                    {"text": "Huidige rol", "value": "role", "selected": False},
                    {"text": "Groei", "value": "growth", "selected": True},
                ],
                "onChangeAction": SAVE,
            }
        },
    ),
    (
        "date_time_picker",
        cards.date_time_picker(
            "start",
            "Begin",
            value=datetime(2025, 4, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))),
        ),
        {
            "dateTimePicker": {
                "name": "start",
                "label": "Begin",
                "type": "DATE_AND_TIME",
                "valueMsEpoch": "1743494400000",
                "timezoneOffsetDate": 120,
            }
        },
    ),
    (
        "date_time_picker date only",
        cards.date_time_picker("day", "Dag", kind="DATE_ONLY", value=date(2025, 4, 1)),
        {
            "dateTimePicker": {
                "name": "day",
                "label": "Dag",
                "type": "DATE_ONLY",
                "valueMsEpoch": "1743465600000",
            }
        },
    ),
    ("divider", cards.divider(), {"divider": {}}),
]


@pytest.mark.parametrize(("label", "built", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_each_widget_builder_matches_its_golden_json_and_validates(
    label: str, built: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Every widget builder gives exactly the expected JSON, which Google's schema accepts."""
    assert built == expected
    validate_card(one(built))


def test_card_and_section_golden_json_validates() -> None:
    """A full card with header, subtitle, name and a collapsible section matches and validates."""
    built = cards.card(
        "Goed gesprek",
        [
            cards.section(
                "Agenda",
                [cards.text("Welzijn"), cards.divider(), cards.text("Groei")],
                collapsible=True,
                uncollapsible_widgets=1,
            ),
            cards.section(None, [cards.button_list([cards.button("Opslaan", SAVE)])]),
        ],
        subtitle="met Sam",
        name="agenda",
    )
    assert built == {
        "header": {"title": "Goed gesprek", "subtitle": "met Sam"},
        "name": "agenda",
        "sections": [
            {
                "header": "Agenda",
                "collapsible": True,
                "uncollapsibleWidgetsCount": 1,
                "widgets": [
                    {"textParagraph": {"text": "Welzijn"}},
                    {"divider": {}},
                    {"textParagraph": {"text": "Groei"}},
                ],
            },
            {
                "widgets": [
                    {"buttonList": {"buttons": [{"text": "Opslaan", "onClick": {"action": SAVE}}]}}
                ]
            },
        ],
    }
    validate_card(built)


def test_action_golden_json() -> None:
    """An action is the endpoint URL with its parameters as key/value pairs, in order."""
    built = cards.action(f"{BASE}/save", {"series": "s-1", "occurrence": "2025-04-01"})
    assert built == {
        "function": f"{BASE}/save",
        "parameters": [
            {"key": "series", "value": "s-1"},
            {"key": "occurrence", "value": "2025-04-01"},
        ],
    }
    assert cards.action(f"{BASE}/home") == {"function": f"{BASE}/home"}


def test_envelopes_golden_json_validates() -> None:
    """push_card, update_card and render_actions match Google's shapes and validate."""
    body = one(cards.text("Hallo"))
    assert cards.push_card(body) == {"action": {"navigations": [{"pushCard": body}]}}
    assert cards.update_card(body) == {"action": {"navigations": [{"updateCard": body}]}}
    everything = cards.render_actions(
        push=body,
        update=body,
        pop_to_root=True,
        notification="Opgeslagen",
        add_attendees=["sam@example.org"],
    )
    assert everything == {
        "renderActions": {
            "action": {
                "navigations": [{"popToRoot": True}, {"updateCard": body}, {"pushCard": body}],
                "notification": {"text": "Opgeslagen"},
            },
            "hostAppAction": {
                "calendarAction": {
                    "editAttendeesActionMarkup": {"addAttendeeEmails": ["sam@example.org"]}
                }
            },
        }
    }
    assert cards.render_actions(pop=True) == {
        "renderActions": {"action": {"navigations": [{"pop": True}]}}
    }
    for response in (
        cards.push_card(body),
        cards.update_card(body),
        everything,
        cards.render_actions(pop=True, notification="Terug"),
        cards.render_actions(notification="Alleen een melding"),
        cards.render_actions(add_attendees=["hr@example.org"]),
    ):
        validate_response(response)


def test_a_misspelt_card_field_fails_with_its_path() -> None:
    """A misspelt field deep in a card is named with its JSON path and the allowed fields."""
    broken = one(cards.text("x"))
    broken["sections"][0]["widgets"][0]["textParagraph"]["txt"] = "y"
    error = problem(validate_card, broken)
    assert error.path == "$.sections[0].widgets[0].textParagraph.txt"
    assert str(error) == (
        "$.sections[0].widgets[0].textParagraph.txt: unknown field 'txt' "
        "(allowed here: maxLines, text, textSyntax)"
    )


def test_a_misspelt_widget_kind_fails_with_its_path() -> None:
    """'textParagrap' is not a widget: the error points at it, not at the missing text."""
    broken = one(cards.text("x"))
    widget = broken["sections"][0]["widgets"][0]
    widget["textParagrap"] = widget.pop("textParagraph")
    assert problem(validate_card, broken).path == "$.sections[0].widgets[0].textParagrap"


def test_a_wrong_enum_value_and_a_wrong_type_fail_with_their_paths() -> None:
    """An unknown input type and a non-string title are refused where they are."""
    broken = one(cards.text_input("a", "A"))
    broken["sections"][0]["widgets"][0]["textInput"]["type"] = "MULTILINE"
    error = problem(validate_card, broken)
    assert str(error) == (
        "$.sections[0].widgets[0].textInput.type: 'MULTILINE' is not one of "
        "SINGLE_LINE, MULTIPLE_LINE"
    )
    titled = one(cards.divider())
    titled["header"]["title"] = 3
    assert problem(validate_card, titled).path == "$.header.title"


def test_fields_google_requires_are_required() -> None:
    """An action without a function or an input without a name is refused."""
    no_function = one(cards.button_list([cards.button("Go", SAVE)]))
    del no_function["sections"][0]["widgets"][0]["buttonList"]["buttons"][0]["onClick"]["action"][
        "function"
    ]
    error = problem(validate_card, no_function)
    assert error.path == "$.sections[0].widgets[0].buttonList.buttons[0].onClick.action"
    assert "'function' is a required property" in str(error)
    nameless = one(cards.text_input("a", "A"))
    del nameless["sections"][0]["widgets"][0]["textInput"]["name"]
    assert "'name' is a required property" in str(problem(validate_card, nameless))


def test_a_bad_card_inside_an_envelope_fails_with_the_full_path() -> None:
    """The path runs from the response root through the navigation into the card."""
    body = one(cards.text("x"))
    response = cards.render_actions(push=body, notification="ok")
    bad = copy.deepcopy(response)
    bad["renderActions"]["action"]["navigations"][0]["pushCard"]["sections"][0]["collapse"] = True
    assert problem(validate_response, bad).path == (
        "$.renderActions.action.navigations[0].pushCard.sections[0].collapse"
    )


@pytest.mark.parametrize(
    ("response", "path", "message"),
    [
        ({}, "$", "needs exactly one of action"),
        (
            {"action": {}, "renderActions": {"action": {}}},
            "$",
            "needs exactly one of action",
        ),
        ({"action": {}}, "$.action", "needs at least one of link, navigations, notification"),
        (
            {"action": {"navigations": [{"pushCard": {"sections": []}, "pop": True}]}},
            "$.action.navigations[0]",
            "needs exactly one of pop, popToCard, popToRoot, pushCard, updateCard",
        ),
        (
            {"action": {"navigations": [{"popCard": True}]}},
            "$.action.navigations[0].popCard",
            "unknown field 'popCard'",
        ),
        (
            {"renderActions": {"action": {"notification": {"txt": "x"}}}},
            "$.renderActions.action.notification.txt",
            "unknown field 'txt'",
        ),
        (
            {"renderActions": {"hostAppAction": {"gmailAction": {}}}},
            "$.renderActions.hostAppAction.gmailAction",
            "unknown field 'gmailAction'",
        ),
        (
            {
                "renderActions": {
                    "hostAppAction": {
                        "calendarAction": {"editAttendeesActionMarkup": {"addAttendeeEmails": []}}
                    }
                }
            },
            "$.renderActions.hostAppAction.calendarAction.editAttendeesActionMarkup"
            ".addAttendeeEmails",
            "should be non-empty",
        ),
    ],
)
def test_broken_envelopes_fail_with_their_paths(
    response: dict[str, Any], path: str, message: str
) -> None:
    """Each malformed envelope is refused where it goes wrong, saying what is expected."""
    error = problem(validate_response, response)
    assert error.path == path
    assert message in str(error)


def test_user_text_with_markup_stays_text() -> None:
    """Markup in user text is escaped in every formatted field, so it shows as typed."""
    typed = "<b>Sam</b> & <a href='x'>link</a> &amp; 3 > 2"
    shown = "&lt;b&gt;Sam&lt;/b&gt; &amp; &lt;a href='x'&gt;link&lt;/a&gt; &amp;amp; 3 &gt; 2"
    assert cards.text(typed) == {"textParagraph": {"text": shown}}
    decorated = cards.decorated_text(typed, top_label=typed, bottom_label=typed)["decoratedText"]
    assert (decorated["text"], decorated["topLabel"], decorated["bottomLabel"]) == (shown,) * 3
    assert cards.section(typed, [cards.divider()])["header"] == shown
    validate_card(cards.card(typed, [cards.section(typed, [cards.text(typed)])]))


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escaped_text_never_carries_markup_and_reads_back_as_typed(typed: str) -> None:
    """For any text: no tag can open, and unescaping gives back exactly what was typed."""
    shown = cards.text(typed)["textParagraph"]["text"]
    assert "<" not in shown
    assert ">" not in shown
    assert html.unescape(shown) == typed


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: cards.card("x", []), "at least one section"),
        (
            lambda: cards.card(None, [cards.section(None, [cards.divider()])], subtitle="s"),
            "subtitle",
        ),
        (lambda: cards.section("x", []), "at least one widget"),
        (lambda: cards.section("x", [cards.divider()], uncollapsible_widgets=1), "collapsible"),
        (
            lambda: cards.section("x", [cards.divider()], True, uncollapsible_widgets=2),
            "must be 1-1, got 2",
        ),
        (lambda: cards.action("/save"), "absolute http(s) URL, got '/save'"),
        (lambda: cards.action("javascript:alert(1)"), "absolute http(s) URL"),
        (lambda: cards.button("x", "mailto:a@b"), "a button link must be an absolute"),
        (lambda: cards.button_list([]), "at least one button"),
        (lambda: cards.text_input(" ", "x"), "needs a name"),
        (lambda: cards.selection_input("s", "S", []), "at least one option"),
        (lambda: cards.selection_input("s", "S", [("a", "A"), ("a", "B")]), "unique"),
        (lambda: cards.selection_input("s", "S", [("a", "A")], selected={"b"}), "['b']"),
        (
            lambda: cards.selection_input("s", "S", [("a", "A"), ("b", "B")], selected={"a", "b"}),
            "a DROPDOWN selects at most one option, got 2",
        ),
        (lambda: cards.selection_input("s", "S", [("a", "A")], kind="LIST"), "got 'LIST'"),  # type: ignore[arg-type]
        (lambda: cards.date_time_picker("d", "D", value=datetime(2025, 1, 1)), "timezone-aware"),
        (lambda: cards.date_time_picker("d", "D", kind="WEEK"), "got 'WEEK'"),  # type: ignore[arg-type]
        (
            lambda: cards.decorated_text("x", button=cards.button("b", SAVE), on_click=SAVE),
            "not both",
        ),
        (cards.render_actions, "needs a navigation"),
        (lambda: cards.render_actions(pop=True, pop_to_root=True), "choose one"),
        (lambda: cards.render_actions(notification=" "), "needs text"),
    ],
)
def test_builders_refuse_what_google_would_not_render(build: Any, message: str) -> None:
    """Builder misuse raises ValueError at build time, saying what to change."""
    with pytest.raises(ValueError) as caught:
        build()
    assert message in str(caught.value)


def test_action_parameters_must_be_strings() -> None:
    """Google passes parameters as strings: anything else is refused up front."""
    with pytest.raises(TypeError, match="'count' must be a string"):
        cards.action(f"{BASE}/x", {"count": 3})  # type: ignore[dict-item]


def test_the_picker_keeps_the_instant_and_the_zone() -> None:
    """A picker value in UTC+2 is the same instant as in UTC, shown with a +120 minute offset."""
    local = datetime(2025, 4, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    in_utc = cards.date_time_picker("a", "A", value=local.astimezone(UTC))["dateTimePicker"]
    shown = cards.date_time_picker("a", "A", value=local)["dateTimePicker"]
    assert shown["valueMsEpoch"] == in_utc["valueMsEpoch"]
    assert (shown["timezoneOffsetDate"], in_utc["timezoneOffsetDate"]) == (120, 0)


def test_the_schema_comes_from_googles_discovery_document() -> None:
    """Every GoogleAppsCardV1 schema is a definition, and every object refuses unknown fields."""
    definitions = card_schema()["definitions"]
    shipped = {name for name in discovery_schemas() if name.startswith("GoogleAppsCardV1")}
    assert shipped <= set(definitions)
    assert len(shipped) > 30
    objects = [d for d in definitions.values() if d.get("type") == "object"]
    assert objects
    assert all(d["additionalProperties"] is False for d in objects)
    assert definitions["GoogleAppsCardV1Action"]["required"] == ["function"]


def test_a_card_in_googles_documented_shape_validates() -> None:
    """A hand-made card using fields Google documents for add-ons is not refused."""
    documented = {
        "header": {"title": "Team", "subtitle": "Overzicht", "imageType": "CIRCLE"},
        "fixedFooter": {"primaryButton": {"text": "Plan", "onClick": {"action": SAVE}}},
        "cardActions": [{"actionLabel": "Help", "onClick": {"openLink": {"url": f"{BASE}/help"}}}],
        "sections": [
            {
                "header": "Status",
                "collapsible": True,
                "uncollapsibleWidgetsCount": 1,
                "widgets": [
                    {
                        "decoratedText": {
                            "topLabel": "Ritme",
                            "text": "4 per jaar",
                            "wrapText": True,
                        }
                    },
                    {"image": {"imageUrl": f"{BASE}/logo.png", "altText": "logo"}},
                    {
                        "dateTimePicker": {
                            "name": "next",
                            "label": "Volgende",
                            "type": "DATE_AND_TIME",
                            "valueMsEpoch": 1743494400000,
                            "timezoneOffsetDate": 120,
                            "onChangeAction": {"function": f"{BASE}/next"},
                        }
                    },
                    {
                        "decoratedText": {
                            "text": "Herinneringen",
                            "switchControl": {
                                "name": "remind",
                                "selected": True,
                                "controlType": "SWITCH",
                            },
                        }
                    },
                ],
            }
        ],
    }
    validate_card(documented)
