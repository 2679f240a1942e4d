"""The privacy duties: the employee's whole dossier as a zip, erasure by crypto-shredding with a
receipt, and retention, through the API on the local store."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from addin.erasure import Erasure, verify_receipt
from addin.retention import Retention, retention_months
from addin.store.tables import (
    cadence_stats_table,
    deliveries_table,
    erasures_table,
    series_keys_table,
    series_table,
)
from connectors.keyring import Keyring
from connectors.sealed import Erased, SealedDrive
from tests.app.test_api import ADA, GRACE, Api, seeded_api

MARKER = "Vertrouwelijk-7Q"


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return seeded_api(tmp_path)


def _held(api: Api) -> dict[str, Any]:
    """A conversation with an agenda, a final record, an agreement both accepted, an action."""
    ctx = api.plan()["context"]
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "agenda.add_item", "theme": "personal", "title": f"Energie {MARKER}"},
        {"op": "agenda.share"},
    ).get_json()
    grace = api.call("GET", f"/api/context?event={ctx['event']['id']}", GRACE).get_json()
    ctx = api.ops(GRACE, grace, {"op": "agenda.agree"}).get_json()
    ctx = api.ops(ADA, ctx, {"op": "agenda.agree"}).get_json()
    api.clock.set(datetime.fromisoformat(ctx["occurrence"]["end"]) + timedelta(minutes=10))
    ctx = api.call("GET", f"/api/context?event={ctx['event']['id']}").get_json()
    item = ctx["agenda"]["items"][0]["id"]
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "record.summarise", "item": item, "text": "Goed", "finished": True},
        {"op": "record.add_agreement", "text": "Ada volgt de cursus"},
        {"op": "record.add_action", "description": "Cursus zoeken", "owner": "employee"},
        {"op": "record.propose", "agreement": "*"},
    ).get_json()
    ctx = api.ops(ADA, ctx, {"op": "record.accept", "agreement": "*"}).get_json()
    grace = api.call("GET", f"/api/context?event={ctx['event']['id']}", GRACE).get_json()
    ctx = api.ops(GRACE, grace, {"op": "record.accept", "agreement": "*"}).get_json()
    assert ctx["record"]["final"] is True
    return ctx


def _count(api: Api, table: Any, **where: str) -> int:
    engine = api.app.extensions["goedgesprek.service"].registry.engine
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


# -- the dossier ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_employee_exports_the_whole_dossier_readable_without_us(api: Api, lang: str) -> None:
    ctx = _held(api)
    response = api.call("GET", "/api/me/dossier", ADA, lang=lang)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert {"README.md", "index.html"} <= set(names)
    day = ctx["occurrence"]["start"][:10]
    html = next(n for n in names if n.endswith(f"gesprek-{day}.html"))
    md = next(n for n in names if n.endswith(f"gesprek-{day}.md"))
    for name in (html, md):
        text = archive.read(name).decode()
        assert MARKER in text
        assert "Ada volgt de cursus" in text
        assert "Cursus zoeken" in text
        # Who accepted, and when.
        assert ("akkoord van" if lang == "nl" else "accepted by") in text
    index = archive.read("README.md").decode()
    assert html.split("/")[-1] in index
    assert ("Dossier van" if lang == "nl" else "Dossier of") in index


def test_only_the_employee_exports_and_a_token_is_needed(api: Api) -> None:
    """Attacks: the manager asks for the employee's dossier (gets only their own: none here),
    an outsider asks, no token, a forged token."""
    _held(api)
    for who in (GRACE, "eve@example.org"):
        response = api.call("GET", "/api/me/dossier", who)
        assert response.status_code == 404
        assert (
            "employee" in response.get_json()["message"]
            or "medewerker" in (response.get_json()["message"])
        )
    for header in ({}, {"Authorization": "Bearer nonsense"}):
        assert api.client.get("/api/me/dossier", headers=header).status_code == 401


# -- erasure ---------------------------------------------------------------------------------------


def test_erasure_shreds_the_key_so_no_copy_opens_and_hands_a_signed_receipt(api: Api) -> None:
    ctx = _held(api)
    series = ctx["series"]["id"]
    store = api.app.extensions["goedgesprek.store"]
    drive = store.drive(ADA)
    # A copy kept elsewhere (a backup, the recycle bin): every file of the folder, raw.
    kept = {info.name: drive.get(series, info.name).content for info in drive.list(series)}
    assert len(kept) >= 2

    response = api.call("POST", f"/api/series/{series}/erase", ADA, body={"confirm": True})
    assert response.status_code == 200, response.get_json()
    receipt = response.get_json()["receipt"]
    assert receipt["reason"] == "employee"
    assert (receipt["employee"], receipt["manager"]) == (ADA, GRACE)
    assert receipt["series"][0]["key_destroyed"] is True
    assert receipt["series"][0]["drive"] == "deleted"
    assert receipt["series"][0]["files_deleted"] >= 1
    assert receipt["series"][0]["appointments"] == "ended"
    assert receipt["rows"]["series"] == 1
    key = api.app.secret_key
    key = key if isinstance(key, bytes) else str(key).encode()
    assert verify_receipt(key, receipt)
    assert not verify_receipt(key, {**receipt, "manager": "eve@example.org"})

    # The drive's folder is empty; the kept copies do not open even with the keyring.
    assert drive.list(series) == []
    for name, content in kept.items():
        drive.put(series, name, content, content_type="application/octet-stream")
    service = api.app.extensions["goedgesprek.service"]
    ring = Keyring.from_default(Path(api.app.config["DATA_DIR"]))
    sealed = SealedDrive(drive, ring, server_keys=service.series_keys)
    doc = next(n for n in kept if n.startswith("occ-"))
    with pytest.raises(Erased):
        sealed.get(series, doc)
    # No new key is made for the erased series either.
    with pytest.raises(Erased):
        sealed.put(series, "occ-new.json", b"{}")
    # The server keeps no row of the series, only the tombstone and the log's counts.
    for table in (series_table, cadence_stats_table):
        column = "id" if table is series_table else "series_id"
        assert _count(api, table, **{column: series}) == 0
    assert _count(api, deliveries_table, series_id=series) == 0
    assert _count(api, series_keys_table, series_id=series) == 1
    engine = service.registry.engine
    with engine.connect() as conn:
        row = conn.execute(select(erasures_table)).one()
    assert row.series == series
    assert ADA not in row.counts and GRACE not in row.counts
    # The calendar event no longer maps to a series: the pane offers to plan anew.
    opened = api.call("GET", f"/api/context?event={ctx['event']['id']}", ADA)
    assert opened.status_code in (200, 404)
    if opened.status_code == 200:
        assert opened.get_json().get("series") is None


def test_erasure_is_refused_with_a_reason_and_changes_nothing(api: Api) -> None:
    """Attacks: the manager erases the employee's dossier; an outsider erases it; a series id
    that does not exist; no confirmation; confirm as a string; no token; a second erasure."""
    ctx = _held(api)
    series = ctx["series"]["id"]
    path = f"/api/series/{series}/erase"
    refused = [
        (GRACE, {"confirm": True}, 403, "employee"),
        ("eve@example.org", {"confirm": True}, 403, "partner"),
        (ADA, {}, 400, "confirm"),
        (ADA, {"confirm": "yes"}, 400, "confirm"),
    ]
    for who, body, status, word in refused:
        response = api.call("POST", path, who, body=body, lang="en")
        assert response.status_code == status, (who, body, response.get_json())
        assert word in response.get_json()["message"]
    response = api.call("POST", "/api/series/nope/erase", ADA, body={"confirm": True})
    assert response.status_code == 404
    assert api.client.post(path, json={"confirm": True}).status_code == 401
    # Nothing changed: the dossier still opens.
    assert _count(api, series_table, id=series) == 1
    again = api.call("GET", f"/api/context?event={ctx['event']['id']}", ADA).get_json()
    assert again["record"]["final"] is True
    assert api.call("POST", path, ADA, body={"confirm": True}).status_code == 200
    second = api.call("POST", path, ADA, body={"confirm": True}, lang="en")
    assert second.status_code == 404
    assert "erased" in second.get_json()["message"]


@pytest.mark.parametrize("failure", ["drive down", "owner not signed in"])
def test_an_erasure_whose_calendar_and_drive_fail_still_shreds_and_finishes(
    api: Api, failure: str
) -> None:
    """The owner's calendar and drive cannot be reached (down, or no stored sign-in to act
    with): the key is destroyed, the server's rows go, and the receipt says what was not
    reached."""
    from addin.identity import SignInRequired
    from connectors.errors import Unavailable

    ctx = _held(api)
    series = ctx["series"]["id"]
    service = api.app.extensions["goedgesprek.service"]

    def fail(entry: Any) -> int:
        if failure == "drive down":
            raise Unavailable("the drive is down")
        raise SignInRequired("no stored sign-in for the owner")

    service.drop_documents = fail
    service.end_for_erasure = fail
    try:
        receipt = Erasure(service, b"k" * 32).erase(ADA, GRACE, reason="operator")
    finally:
        del service.drop_documents, service.end_for_erasure
    done = receipt.series[0]
    assert done.key_destroyed is True
    assert done.drive.startswith("not reached") and done.appointments.startswith("not reached")
    assert receipt.rows["series"] == 1
    # The files stayed, but they are dead; the pair may plan anew.
    drive = api.app.extensions["goedgesprek.store"].drive(ADA)
    assert drive.list(series)
    assert service.series_keys.part(series) is None
    assert service.registry.get(series) is None


def test_new_keys_are_bound_and_older_ones_are_bound_by_a_rewrap(api: Api) -> None:
    ctx = _held(api)
    store = api.app.extensions["goedgesprek.store"]
    service = api.app.extensions["goedgesprek.service"]
    drive = store.drive(ADA)
    raw = drive.get(ctx["series"]["id"], "sealed-key.json").content
    assert json.loads(raw)["format"] == "goedgesprek-sealed-key/2"
    # A series sealed before binding existed: its key file is wrapped by the KEK alone.
    ring = Keyring.from_default(Path(api.app.config["DATA_DIR"]))
    SealedDrive(drive, ring).put("old-series", "occ-1.json", b"earlier record")
    assert json.loads(drive.get("old-series", "sealed-key.json").content)["format"].endswith("/1")
    bound = SealedDrive(drive, ring, server_keys=service.series_keys)
    assert bound.rewrap("old-series").value == "rewrapped"
    assert json.loads(drive.get("old-series", "sealed-key.json").content)["format"].endswith("/2")
    assert bound.get("old-series", "occ-1.json").content == b"earlier record"
    assert bound.rewrap("old-series").value == "current"


# -- retention -------------------------------------------------------------------------------------


def test_retention_erases_ended_pairs_past_the_limit_only(api: Api) -> None:
    ctx = _held(api)
    series = ctx["series"]["id"]
    service = api.app.extensions["goedgesprek.service"]
    eraser = Erasure(service, b"k" * 32)
    keep = Retention(eraser, 24)
    # Active: never due.
    api.clock.set(api.clock() + timedelta(days=365 * 5))
    assert keep.due() == []
    assert api.call("POST", f"/api/series/{series}/end", ADA).status_code == 200
    # Ended today: the last conversation is recent.
    assert keep.due() == []
    api.clock.set(api.clock() + timedelta(days=30 * 25))
    assert [[e.id for e in pair] for pair in keep.due()] == [[series]]
    assert Retention(eraser, 0).due() == []
    dry = keep.run(dry_run=True)
    assert (dry.pairs_due, dry.pairs_erased) == (1, 0)
    assert _count(api, series_table, id=series) == 1
    done = keep.run()
    assert (done.pairs_due, done.pairs_erased, done.series_erased) == (1, 1, 1)
    assert _count(api, series_table, id=series) == 0
    assert eraser.logged(done.receipts[0])["reason"] == "retention"


def test_retention_months_setting_is_checked() -> None:
    assert retention_months({}) == 24
    assert retention_months({"RETENTION_MONTHS": "0"}) == 0
    assert retention_months({"RETENTION_MONTHS": " 36 "}) == 36
    for bad in ("-1", "121", "twee", "1.5"):
        with pytest.raises(ValueError, match="RETENTION_MONTHS"):
            retention_months({"RETENTION_MONTHS": bad})


# -- the commands ----------------------------------------------------------------------------------


def test_the_privacy_officer_erases_a_pair_and_checks_the_receipt(api: Api, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from addin.cli import cli

    ctx = _held(api)
    data = str(api.app.config["DATA_DIR"])
    runner = CliRunner()
    dry = runner.invoke(cli, ["erase", "--employee", ADA, "--manager", GRACE, "--data-dir", data])
    assert dry.exit_code == 0, dry.output
    assert ctx["series"]["id"] in dry.output and "--yes" in dry.output
    assert _count(api, series_table, id=ctx["series"]["id"]) == 1

    unknown = runner.invoke(
        cli, ["erase", "--employee", ADA, "--manager", "eve@example.org", "--data-dir", data]
    )
    assert unknown.exit_code == 1
    assert "nothing was erased" in unknown.output
    assert runner.invoke(cli, ["erase", "--data-dir", data]).exit_code == 2

    receipt = tmp_path / "receipt.json"
    pair = ["--employee", ADA, "--manager", GRACE]
    done = runner.invoke(
        cli, ["erase", *pair, "--yes", "--receipt", str(receipt), "--data-dir", data]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(receipt.read_text())["reason"] == "operator"
    assert _count(api, series_table, id=ctx["series"]["id"]) == 0
    checked = runner.invoke(cli, ["erase", "--verify", str(receipt), "--data-dir", data])
    assert checked.exit_code == 0 and "genuine" in checked.output
    changed = json.loads(receipt.read_text())
    changed["employee"] = "eve@example.org"
    receipt.write_text(json.dumps(changed))
    refused = runner.invoke(cli, ["erase", "--verify", str(receipt), "--data-dir", data])
    assert refused.exit_code == 1 and "changed" in refused.output

    counted = runner.invoke(cli, ["retention", "--dry-run", "--data-dir", data])
    assert counted.exit_code == 0, counted.output
    assert json.loads(counted.output)["pairs_due"] == 0
