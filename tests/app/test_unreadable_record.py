"""A sealed record that does not open is said to be so, in both hosts, and never retried.

Damaged (a changed byte), swapped (another document's file under this name), foreign (sealed for
another series), keyless, or sealed right but not a document: no retry cures any of them, so the
answer is 422 ``record_unreadable`` with a sentence that says nothing was changed (no 503, no
Retry-After), the operator's log names the file and the reason, and the drive keeps the file as it
was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from test_api import ADA, NOW, Api
from test_workspace_endpoints import BASE, Panel, texts

from addin.app import create_app
from addin.demo import seed
from connectors.keyring import Keyring
from connectors.local import LocalDrive, LocalStore
from connectors.models import File
from connectors.sealed import KEY_FILE, SealedDrive
from connectors.testing import ManualClock


class CountingStore:
    """The local store, counting how often each drive file is read."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self.reads: dict[str, int] = {}

    def drive(self, email: str) -> Any:
        return _CountingDrive(self.store.drive(email), self.reads)


class _CountingDrive:
    def __init__(self, drive: LocalDrive, reads: dict[str, int]) -> None:
        self._drive = drive
        self._reads = reads

    def get(self, folder: str, name: str) -> File:
        self._reads[name] = self._reads.get(name, 0) + 1
        return self._drive.get(folder, name)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._drive, attr)


@pytest.fixture
def counting(tmp_path: Path) -> CountingStore:
    """The seeded local store behind a read counter."""
    store = LocalStore(tmp_path, clock=ManualClock(NOW))
    seed(store, NOW)
    return CountingStore(store)


@pytest.fixture
def app(tmp_path: Path, counting: CountingStore) -> Flask:
    """The app reading the drive through the counter."""
    store = counting.store
    return create_app(
        {"TESTING": True, "DATA_DIR": str(tmp_path)},
        store=store,
        drive=counting.drive,
        clock=ManualClock(NOW),
    )


@pytest.fixture
def planned(app: Flask) -> tuple[Api, dict[str, Any]]:
    """Ada's series with a saved agenda item (so a sealed record exists)."""
    clock = app.extensions["goedgesprek.clock"]
    api = Api(app, clock)
    ctx = api.plan()["context"]
    ctx = api.ops(ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "Geheim"})
    return api, ctx.get_json()


def _name(ctx: dict[str, Any]) -> str:
    return f"occ-{ctx['occurrence']['key']}.json"


def _damaged(drive: LocalDrive, sealed: SealedDrive, ctx: dict[str, Any]) -> None:
    folder, name = ctx["series"]["id"], _name(ctx)
    content = bytearray(drive.get(folder, name).content)
    content[40] ^= 1
    drive.put(folder, name, bytes(content))


def _swapped(drive: LocalDrive, sealed: SealedDrive, ctx: dict[str, Any]) -> None:
    folder, name = ctx["series"]["id"], _name(ctx)
    sealed.put(folder, "occ-20270301T100000Z.json", b"{}")
    drive.put(folder, name, drive.get(folder, "occ-20270301T100000Z.json").content)


def _foreign(drive: LocalDrive, sealed: SealedDrive, ctx: dict[str, Any]) -> None:
    folder, name = ctx["series"]["id"], _name(ctx)
    sealed.put("another-series", name, b"{}")
    drive.put(folder, name, drive.get("another-series", name).content)


def _malformed(drive: LocalDrive, sealed: SealedDrive, ctx: dict[str, Any]) -> None:
    sealed.put(ctx["series"]["id"], _name(ctx), b'{"schema": "other"}')


def _not_an_object(drive: LocalDrive, sealed: SealedDrive, ctx: dict[str, Any]) -> None:
    sealed.put(ctx["series"]["id"], _name(ctx), b"[]")


def _too_deep(drive: LocalDrive, sealed: SealedDrive, ctx: dict[str, Any]) -> None:
    deep = b'{"schema": "goedgesprek.occurrence/1", "agenda": ' + b"[" * 50_000 + b"]" * 50_000
    sealed.put(ctx["series"]["id"], _name(ctx), deep + b"}")


def _keyless(drive: LocalDrive, sealed: SealedDrive, ctx: dict[str, Any]) -> None:
    drive.delete(ctx["series"]["id"], KEY_FILE)


SPOIL: dict[str, Callable[[LocalDrive, SealedDrive, dict[str, Any]], None]] = {
    "damaged": _damaged,
    "swapped": _swapped,
    "foreign": _foreign,
    "malformed": _malformed,
    "not an object": _not_an_object,
    "too deep": _too_deep,
    "keyless": _keyless,
}


def _spoil(app: Flask, tmp_path: Path, how: str, ctx: dict[str, Any]) -> bytes:
    """Spoil the record as `how` says; returns the bytes the drive then holds."""
    drive = app.extensions["goedgesprek.store"].drive(ADA)
    # Sealed as the app seals: the keyring and the server's part of each series' key.
    parts = app.extensions["goedgesprek.service"].series_keys
    SPOIL[how](drive, SealedDrive(drive, Keyring.from_default(tmp_path), server_keys=parts), ctx)
    return bytes(drive.get(ctx["series"]["id"], _name(ctx)).content)


@pytest.mark.parametrize("how", SPOIL)
def test_the_api_says_the_record_cannot_be_opened_and_does_not_retry(
    tmp_path: Path,
    counting: CountingStore,
    planned: tuple[Api, dict[str, Any]],
    how: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """422 record_unreadable, no Retry-After, one read, the file logged and left as it was."""
    api, ctx = planned
    before = _spoil(api.app, tmp_path, how, ctx)
    # A fresh app: the running one keeps the series' data key in memory.
    fresh = create_app(
        {"TESTING": True, "DATA_DIR": str(tmp_path)},
        store=counting.store,
        drive=counting.drive,
        clock=ManualClock(NOW),
    )
    api = Api(fresh, api.clock)
    counting.reads.clear()
    event = ctx["event"]["id"]
    series, occ = ctx["series"]["id"], ctx["occurrence"]["key"]
    with caplog.at_level(logging.ERROR):
        answers = {
            lang: api.call("GET", f"/api/context?event={event}", lang=lang) for lang in ("nl", "en")
        }
    if how != "keyless":
        assert counting.reads[_name(ctx)] == 2  # once per request: never read again
    for response in answers.values():
        assert response.status_code == 422
        assert response.get_json()["error"] == "record_unreadable"
        assert "Retry-After" not in response.headers
    english = answers["en"].get_json()["message"]
    assert "Nothing was changed" in english
    assert answers["nl"].get_json()["message"] != english
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(f"{series}/" in m and "not retried" in m for m in logged), logged

    write = api.call(
        "POST",
        f"/api/series/{series}/occurrences/{occ}",
        body={"event": event, "ops": [{"op": "agenda.share"}]},
        headers={"If-Match": ctx["etag"]},
        lang="en",
    )
    assert write.status_code == 422
    assert write.get_json()["error"] == "record_unreadable"
    for path in ("export?format=md", "event-copy"):
        response = api.call("GET", f"/api/series/{series}/occurrences/{occ}/{path}")
        assert response.status_code == 422
    drive = counting.store.drive(ADA)
    assert bytes(drive.get(series, _name(ctx)).content) == before


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_google_cards_say_it_too(
    tmp_path: Path, counting: CountingStore, planned: tuple[Api, dict[str, Any]], lang: str
) -> None:
    """The event's card and a button's notification carry the same sentence."""
    from addin.errors import error_message

    api, ctx = planned
    _spoil(api.app, tmp_path, "damaged", ctx)
    fresh = create_app(
        {"TESTING": True, "DATA_DIR": str(tmp_path)},
        store=counting.store,
        drive=counting.drive,
        clock=ManualClock(NOW),
    )
    sentence = error_message("record_unreadable", lang)
    panel = Panel(fresh, ADA, lang)
    card = panel.open(ctx["event"]["id"])
    assert sentence in texts(card)
    url = f"{BASE}/workspace/action/ops"
    parameters = {
        "series": ctx["series"]["id"],
        "occ": ctx["occurrence"]["key"],
        "etag": ctx["etag"],
        "event": ctx["event"]["id"],
        "ops": '[{"op": "agenda.share"}]',
    }
    answer = panel.post(url, panel.event_object(url, parameters=parameters))
    assert answer["renderActions"]["action"]["notification"]["text"] == sentence
