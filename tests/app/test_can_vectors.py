"""The Outlook pane and the Google cards offer the same steps for the same context.

Both hosts render the context's ``can`` lists (decided by `cadence.rules`) and decide nothing
themselves. tests/data/can_cases.json holds, per state and role, the steps both show; the cards are
built here, the pane's views are rendered in Node (tests/js/pane_offers.mjs).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from addin.workspace import flows

ROOT = Path(__file__).resolve().parents[2]
CASES_FILE = ROOT / "tests" / "data" / "can_cases.json"
DATA = json.loads(CASES_FILE.read_text("utf-8"))
CASES = DATA["cases"]
STATIC = ROOT / "addin" / "pane" / "static"


def context(case: dict[str, Any]) -> dict[str, Any]:
    """The vector's context: the shared base with the case's state, role, agenda, record, can."""
    return {
        **DATA["base"],
        "state": case["state"],
        "user": {**DATA["base"]["user"], "role": case["role"]},
        "agenda": case["agenda"],
        "record": case.get("record"),
        "can": case["can"],
    }


def _buttons(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "onClick" in node and "text" in node:
            yield node
        for value in node.values():
            yield from _buttons(value)
    elif isinstance(node, list):
        for value in node:
            yield from _buttons(value)


def _card_text(node: Any) -> str:
    if isinstance(node, dict):
        return " ".join(_card_text(v) for v in node.values())
    if isinstance(node, list):
        return " ".join(_card_text(v) for v in node)
    return node if isinstance(node, str) else ""


def card_offers(card: dict[str, Any]) -> list[str]:
    """The steps a card's buttons take, in the vectors' keys."""
    keys: set[str] = set()
    for button in _buttons(card):
        action = button["onClick"].get("action") or {}
        params = {p["key"]: p["value"] for p in action.get("parameters") or []}
        if action.get("function", "").endswith("/agenda_add"):
            adds = button["text"] == "Add to the agenda"
            keys.add("agenda.add_item" if adds else "agenda.propose_item")
        for op in json.loads(params.get("ops") or "[]"):
            keys.add(_key(op))
    return sorted(keys)


def _key(op: dict[str, Any]) -> str:
    name = op["op"]
    target = op.get("agreement") or op.get("item") or op.get("action") or ""
    status = {"done": "mark_done", "open": "reopen", "dropped": "drop"}.get(op.get("status", ""))
    keys = {
        "agenda.share": "agenda.share",
        "agenda.agree": "agenda.agree",
        "agenda.remove_item": f"item.{target}.remove",
        "agenda.set_action_status": f"carried.{target}.{status}",
        "record.set_status": f"action.{target}.{status}",
        "record.remove_agreement": f"agreement.{target}.remove",
        "record.decline": f"agreement.{target}.decline",
    }
    if name in ("record.propose", "record.accept"):
        step = name.split(".")[1]
        return f"record.{step}_all" if target == "*" else f"agreement.{target}.{step}"
    return keys[name]


def ui() -> flows.Ui:
    """English cards for a reader in the pair's zone."""
    return flows.Ui("en", ZoneInfo("Europe/Amsterdam"), lambda name: f"https://gg.example/{name}")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_cards_offer_what_the_vectors_say(case: dict[str, Any]) -> None:
    """The Google card for the vector's context has exactly its steps as buttons."""
    card = flows.context_card(ui(), context(case))
    assert card_offers(card) == sorted(case["shown"])
    text = _card_text(card)
    for mention in case.get("mentions", []):
        assert mention in text


def render_pane(cases_file: Path) -> dict[str, dict[str, Any]]:
    """The pane's views rendered in Node for every case of `cases_file`, by case name."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [
            "node",
            "--no-warnings",
            str(ROOT / "tests" / "js" / "pane_offers.mjs"),
            STATIC.as_uri() + "/",
            str(cases_file),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {r["name"]: r for r in json.loads(done.stdout)}


@pytest.fixture(scope="module")
def pane_results() -> dict[str, dict[str, Any]]:
    """The pane's views rendered in Node for every vector, by case name."""
    return render_pane(CASES_FILE)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_pane_offers_what_the_vectors_say(
    case: dict[str, Any], pane_results: dict[str, dict[str, Any]]
) -> None:
    """The pane rendered for the vector's context has exactly its steps as controls."""
    result = pane_results[case["name"]]
    assert result["shown"] == sorted(case["shown"])
    for mention in case.get("mentions", []):
        assert mention in result["text"]


def test_the_vectors_cover_every_role_and_both_states() -> None:
    """Both roles, before and after the conversation, a decline and carried actions are held."""
    seen = {(c["role"], c["state"]) for c in CASES}
    assert seen == {(r, s) for r in ("employee", "manager") for s in ("upcoming", "ended")}
    shown = {key.rsplit(".", 1)[-1] for c in CASES for key in c["shown"]}
    assert {"share", "agree", "accept", "decline", "propose", "remove", "mark_done"} <= shown


def test_the_cards_agenda_status_speaks_to_its_reader() -> None:
    """The card says "you" to the reader: Grace waits for herself as "you", not as Grace."""
    case = next(c for c in CASES if c["name"] == "shared agenda, the manager has not agreed")
    text = _card_text(flows.context_card(ui(), context(case)))
    assert "The agenda is shared. Waiting for you to agree." in text
    draft = next(c for c in CASES if c["name"] == "draft agenda, the employee")
    text = _card_text(flows.context_card(ui(), context(draft)))
    assert "The agenda is a draft: share it with Grace when it is ready." in text


def test_both_hosts_name_their_reader_you_in_agreement_lists(
    pane_results: dict[str, dict[str, Any]],
) -> None:
    """Who accepted, who is waited for and who declined: the reader is "you", never their name."""
    asked = next(c for c in CASES if c["name"] == "ended, the manager is asked to accept")
    card = _card_text(flows.context_card(ui(), context(asked)))
    assert "waiting for you" in card and "waiting for Grace" not in card
    pane = pane_results[asked["name"]]["text"]
    assert "Waiting for you" in pane and "Waiting for Grace" not in pane
    waits = "ended, the employee accepted and waits for the manager"
    assert "Accepted by you" in pane_results[waits]["text"]
    agreed = "shared agenda, the employee agreed already"
    assert "Agreed by you" in pane_results[agreed]["text"]


def test_the_final_card_keeps_the_carried_actions_as_the_pane_does() -> None:
    """A final record still lists the actions carried from earlier conversations, to mark done."""
    carried = next(
        c for c in CASES if c["name"] == "agreed agenda with carried actions, the manager"
    )
    final = next(c for c in CASES if c["name"] == "ended, a final agreement is only changed")
    ctx = context(final)
    ctx["agenda"] = {**ctx["agenda"], "actions": carried["agenda"]["actions"]}
    ctx["record"] = {**ctx["record"], "final": True}
    ctx["turn"] = {**ctx["turn"], "what": "done"}
    card = flows.context_card(ui(), ctx)
    assert card["name"] == "final"
    assert card_offers(card) == ["carried.ca1.mark_done", "carried.ca2.reopen"]
    assert "Agreed in the conversation of" in _card_text(card)


def test_the_panes_final_record_names_the_carried_actions_still_open(tmp_path: Path) -> None:
    """What the next agenda carries: the open actions from earlier conversations too."""
    carried = next(
        c for c in CASES if c["name"] == "agreed agenda with carried actions, the manager"
    )
    final = next(c for c in CASES if c["name"] == "ended, a final agreement is only changed")
    case = {
        **final,
        "agenda": {**final["agenda"], "actions": carried["agenda"]["actions"]},
        "record": {
            **final["record"],
            "final": True,
            # The pane lists what the context says the next agenda takes: it decides nothing.
            "carries": {"items": [], "actions": carried["agenda"]["actions"][:1]},
        },
    }
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({**DATA, "cases": [case]}), "utf-8")
    text = render_pane(cases)[case["name"]]["text"]
    assert "Carried over to its agenda: Action: Cursus zoeken" in text


def test_the_cards_offer_the_event_copy_choice_only_when_the_context_allows_it() -> None:
    """The series' can list decides whether the card asks what the event shows, as in the pane."""
    case = next(c for c in CASES if c["name"] == "draft agenda, the employee")
    allowed = json.dumps(flows.context_card(ui(), context(case)))
    assert "gg.example/event_copy" in allowed
    refused = {**case, "can": {**case["can"], "series": []}}
    assert "gg.example/event_copy" not in json.dumps(flows.context_card(ui(), context(refused)))


def test_both_hosts_offer_the_same_lengths_and_the_pane_shows_a_series_length(
    tmp_path: Path,
) -> None:
    """A 75-minute series planned in Google shows its length in the pane's series form too."""
    plan = json.dumps(flows.plan_card(ui(), event_id="", partner=""))
    for minutes in (30, 45, 60, 75, 90, 120):
        assert f'"value": "{minutes}"' in plan, minutes
    case = next(c for c in CASES if c["name"] == "draft agenda, the employee")
    base = {**DATA["base"], "series": {**DATA["base"]["series"], "duration": 75}}
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({**DATA, "base": base, "cases": [case]}), "utf-8")
    assert "75 minutes" in render_pane(cases)[case["name"]]["text"]
