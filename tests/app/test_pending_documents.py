"""A save while the employee's drive does not answer waits on the server, sealed, and the worker
delivers it: nothing is refused, lost or written twice.

The API on the local store, with the drive's writes (and then reads) made to fail as a drive that
is down fails after the retries: `Unavailable`. The server store holds the waiting document only
as ciphertext; the drive is the witness of delivery.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_api import ADA, GRACE, Api, seeded_api

from addin.background.service import build_sweep
from addin.conversations.document import Doc, doc_name
from addin.store.tables import pending_documents_table
from connectors.errors import Unavailable
from connectors.local import LocalDrive

MARKER = "Zeer vertrouwelijk: Ada wil een cursus"


class Outage:
    """Switches the local drive's writes, and optionally its reads, to fail."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writes = False
        self.reads = False
        self.lost_answer = False
        put, get, listing = LocalDrive.put, LocalDrive.get, LocalDrive.list
        outage = self

        def failing_put(drive: LocalDrive, *args: Any, **kwargs: Any) -> Any:
            if outage.lost_answer:
                put(drive, *args, **kwargs)
                raise Unavailable("the answer was lost")
            if outage.writes:
                raise Unavailable("drive down")
            return put(drive, *args, **kwargs)

        def failing_get(drive: LocalDrive, *args: Any, **kwargs: Any) -> Any:
            if outage.reads:
                raise Unavailable("drive down")
            return get(drive, *args, **kwargs)

        def failing_list(drive: LocalDrive, *args: Any, **kwargs: Any) -> Any:
            if outage.reads:
                raise Unavailable("drive down")
            return listing(drive, *args, **kwargs)

        monkeypatch.setattr(LocalDrive, "put", failing_put)
        monkeypatch.setattr(LocalDrive, "get", failing_get)
        monkeypatch.setattr(LocalDrive, "list", failing_list)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield seeded_api(tmp_path)


def _context(api: Api, planned: dict[str, Any], who: str = ADA) -> dict[str, Any]:
    event = planned["context"]["event"]["id"]
    found: dict[str, Any] = api.call("GET", f"/api/context?event={event}", who).get_json()
    return found


def _drive_doc(api: Api, context: dict[str, Any]) -> Doc | None:
    conversations = api.app.extensions["goedgesprek.service"]
    entry = conversations.registry.get(context["series"]["id"])
    sealed = conversations._sealed_drive(entry)
    name = doc_name(context["occurrence"]["key"])
    names = {info.name for info in sealed.list(entry.id)}
    if name not in names:
        return None
    file = sealed.get(entry.id, name)
    return Doc.from_bytes(file.content, file.info.etag)


def _sweep(api: Api) -> dict[str, int]:
    services = api.app.extensions["goedgesprek.services"]
    report = build_sweep(services, api.app.config).run()
    return report.documents


def _item(title: str) -> dict[str, str]:
    return {"op": "agenda.add_item", "theme": "role", "title": title}


def test_a_save_while_the_drive_is_down_waits_sealed_and_is_delivered_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = Outage(monkeypatch)
    planned = api.plan()
    context = _context(api, planned)
    outage.writes = True
    answer = api.ops(ADA, context, _item(MARKER), change_id="change-0001")
    assert answer.status_code == 200, answer.get_json()
    saved = answer.get_json()
    assert saved["pending"] is True and saved["etag"].startswith("pending:")
    assert [i["title"] for i in saved["agenda"]["items"]][-1] == MARKER
    # The server store holds it sealed: the typed text is nowhere in the row.
    engine = api.app.extensions["goedgesprek.service"].registry.engine
    with engine.connect() as conn:
        rows = conn.execute(select(pending_documents_table)).all()
    assert len(rows) == 1
    assert MARKER.encode() not in rows[0].sealed and b"Ada wil" not in bytes(rows[0].sealed)
    # Both partners read the waiting version; a second save builds on it.
    again = _context(api, planned)
    assert again["pending"] is True and again["etag"] == saved["etag"]
    assert MARKER in [i["title"] for i in again["agenda"]["items"]]
    second = api.ops(ADA, again, _item("Tweede punt"), change_id="change-0002")
    assert second.status_code == 200 and second.get_json()["pending"] is True
    # The resend of a change whose answer was lost is not applied twice.
    resent = api.ops(ADA, second.get_json(), _item("Tweede punt"), change_id="change-0002")
    assert resent.status_code == 200
    titles = [i["title"] for i in resent.get_json()["agenda"]["items"]]
    assert titles.count("Tweede punt") == 1
    # The drive still has nothing; the sweep while it is down keeps waiting.
    assert _drive_doc(api, again) is None
    assert _sweep(api) == {"delivered": 0, "waiting": 1, "aside": 0}
    # The drive answers again: the worker delivers, once.
    outage.writes = False
    assert _sweep(api) == {"delivered": 1, "waiting": 0, "aside": 0}
    assert _sweep(api) == {"delivered": 0, "waiting": 0, "aside": 0}
    delivered = _drive_doc(api, again)
    assert delivered is not None
    assert [i.title for i in delivered.agenda.items][-2:] == [MARKER, "Tweede punt"]
    after = _context(api, planned)
    assert after["pending"] is False and after["etag"] == delivered.etag


def test_a_stale_save_on_a_waiting_document_is_a_conflict_not_a_loss(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = Outage(monkeypatch)
    planned = api.plan()
    read = api.ops(ADA, _context(api, planned), _item("Eerst")).get_json()
    outage.writes = True
    first = api.ops(ADA, read, _item("Van Ada"))
    assert first.status_code == 200 and first.get_json()["pending"] is True
    # Grace saves on the version from before Ada's save: told, with the waiting version.
    stale = api.ops(GRACE, read, _item("Van Grace"))
    assert stale.status_code in (409, 412), stale.get_json()
    assert stale.get_json()["current"]["etag"] == first.get_json()["etag"]
    # On the version she is shown, her save goes through and waits as well.
    current = stale.get_json()["current"]
    retried = api.ops(GRACE, current, _item("Van Grace"))
    assert retried.status_code == 200 and retried.get_json()["pending"] is True


def test_a_delivery_whose_answer_was_lost_is_not_written_twice(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = Outage(monkeypatch)
    planned = api.plan()
    context = _context(api, planned)
    outage.lost_answer = True  # the drive writes, but the answer never comes back
    answer = api.ops(ADA, context, _item("Verloren antwoord"))
    assert answer.status_code == 200 and answer.get_json()["pending"] is True
    outage.lost_answer = False
    # The drive holds the same content: recognised as delivered, nothing kept aside.
    assert _sweep(api) == {"delivered": 1, "waiting": 0, "aside": 0}
    conversations = api.app.extensions["goedgesprek.service"]
    entry = conversations.registry.get(context["series"]["id"])
    names = [i.name for i in conversations._sealed_drive(entry).list(entry.id)]
    assert not [n for n in names if "unsent" in n]
    doc = _drive_doc(api, context)
    assert doc is not None
    assert [i.title for i in doc.agenda.items].count("Verloren antwoord") == 1


def test_a_drive_copy_written_around_the_server_keeps_both(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone wrote the drive's copy while ours waited: the waiting one goes beside it."""
    outage = Outage(monkeypatch)
    planned = api.plan()
    context = _context(api, planned)
    first = api.ops(ADA, context, _item("Eerst"))
    assert first.status_code == 200 and first.get_json()["pending"] is False
    outage.writes = True
    waiting = api.ops(ADA, first.get_json(), _item("Wachtend"))
    assert waiting.get_json()["pending"] is True
    outage.writes = False
    # Around the server: the drive's copy changes to something else.
    conversations = api.app.extensions["goedgesprek.service"]
    entry = conversations.registry.get(context["series"]["id"])
    sealed = conversations._sealed_drive(entry)
    name = doc_name(context["occurrence"]["key"])
    current = sealed.get(entry.id, name)
    sealed.put(entry.id, name, current.content + b" ", if_match=current.info.etag)
    assert _sweep(api) == {"delivered": 0, "waiting": 0, "aside": 1}
    names = [i.name for i in sealed.list(entry.id)]
    (aside,) = [n for n in names if ".unsent-" in n]
    kept = Doc.from_bytes(sealed.get(entry.id, aside).content, None)
    assert "Wachtend" in [i.title for i in kept.agenda.items]
    assert conversations.pending.count() == 0


def test_when_the_drive_cannot_even_be_read_nothing_is_saved_and_it_says_so(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = Outage(monkeypatch)
    planned = api.plan()
    context = _context(api, planned)
    outage.reads = outage.writes = True
    answer = api.ops(ADA, context, _item("Niet opgeslagen"))
    assert answer.status_code == 503
    assert answer.get_json()["message"]
    assert api.app.extensions["goedgesprek.service"].pending.count() == 0


def test_an_earlier_write_that_landed_unanswered_is_recognised_under_a_later_save(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first write landed but its answer was lost; a second save, made while the drive
    takes nothing, waits on top of it. The drive's copy is the first write: ours, not a copy
    written around the server, so the second goes over it and nothing is put aside."""
    outage = Outage(monkeypatch)
    planned = api.plan()
    context = _context(api, planned)
    outage.lost_answer = True
    first = api.ops(ADA, context, _item("Landde zonder antwoord"))
    assert first.get_json()["pending"] is True
    outage.lost_answer, outage.writes = False, True
    second = api.ops(ADA, first.get_json(), _item("Daarna"))
    assert second.get_json()["pending"] is True
    outage.writes = False
    assert _sweep(api) == {"delivered": 1, "waiting": 0, "aside": 0}
    doc = _drive_doc(api, context)
    assert doc is not None
    assert [i.title for i in doc.agenda.items][-2:] == ["Landde zonder antwoord", "Daarna"]
