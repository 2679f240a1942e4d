"""The journal through the side panel's API: goals agreed by both, the employee's check-ins and
reflection, colleagues' feedback that stays the employee's, suggestions, time-outs and guests;
the attacks on it; and the marker text that never reaches our database, logs, events or the HR
report."""

from __future__ import annotations

import io
import itertools
import logging
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_api import ADA, GRACE, Api, seeded_api

from addin.cadence_report import as_csv, cadence_report, timeouts_since
from addin.conversations.journals import JOURNAL_NAME, Journals
from addin.signed import LinkRefused
from cadence.errors import TransitionError

EVE = "eve@example.org"
MARK_GOAL = "ZZ-DOEL-7319"
MARK_ANSWER = "ZZ-ANTWOORD-5520"
MARK_REFLECTION = "ZZ-REFLECTIE-8841"
MARK_REASON = "ZZ-REDEN-2290"
_ids = itertools.count(1)


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return seeded_api(tmp_path)


def _journal(
    api: Api, who: str, ctx: dict[str, Any], *ops: dict[str, Any], etag: str | None = "ctx"
) -> Any:
    series, occ = ctx["series"]["id"], ctx["occurrence"]["key"]
    tag = ctx["journal"]["etag"] if etag == "ctx" else etag
    headers = {"If-Match": tag} if tag else {}
    body = {"event": ctx["event"]["id"], "ops": list(ops), "change_id": f"change-{next(_ids):04d}"}
    return api.call(
        "POST", f"/api/series/{series}/occurrences/{occ}/journal", who, body=body, headers=headers
    )


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def _context(api: Api, who: str, ctx: dict[str, Any], lang: str = "nl") -> dict[str, Any]:
    found: dict[str, Any] = api.call(
        "GET", f"/api/context?event={ctx['event']['id']}", who, lang=lang
    ).get_json()
    return found


def _journals(api: Api) -> Journals:
    journals = api.app.extensions["goedgesprek.service"].journals
    assert journals is not None
    return journals


def _token(link: str) -> str:
    return link.rsplit("/f/", 1)[1]


def _asked(api: Api) -> dict[str, Any]:
    """Ada asks Eve two questions; the context after it."""
    ctx = api.plan()["context"]
    return _ok(
        _journal(
            api,
            ADA,
            ctx,
            {
                "op": "feedback.ask",
                "email": EVE,
                "name": "Eve",
                "questions": ["colleague_strength", "colleague_next"],
            },
        )
    )


def _answer(api: Api, ctx: dict[str, Any], *texts: str) -> None:
    journals = _journals(api)
    grant = journals.grant(_token(ctx["journal"]["feedback"][0]["link"]), today=api.clock().date())
    journals.answer(grant, list(texts))


def test_a_goal_proposed_by_the_employee_is_agreed_when_the_manager_accepts(api: Api) -> None:
    """Ada writes and proposes a goal (Grace sees no draft), Grace accepts, both note progress."""
    ctx = api.plan()["context"]
    ctx = _ok(
        _journal(
            api,
            ADA,
            ctx,
            {"op": "goal.add", "title": "Leren presenteren", "why": "Voor het team"},
        )
    )
    assert _context(api, GRACE, ctx)["journal"]["goals"] == []
    ctx = _ok(_journal(api, ADA, ctx, {"op": "goal.propose", "goal": "g1"}))
    grace = _context(api, GRACE, ctx)
    (goal,) = grace["journal"]["goals"]
    assert goal["state"] == "proposed" and goal["can"] == ["accept", "decline"]
    grace = _ok(_journal(api, GRACE, grace, {"op": "goal.accept", "goal": "g1"}))
    assert grace["journal"]["goals"][0]["state"] == "agreed"
    grace = _ok(
        _journal(api, GRACE, grace, {"op": "goal.progress", "goal": "g1", "note": "Goed begin"})
    )
    ada = _context(api, ADA, ctx)
    (goal,) = ada["journal"]["goals"]
    assert goal["progress"][0]["note"] == "Goed begin" and goal["progress"][0]["role"] == "manager"
    assert "status" in goal["can"]
    ada = _ok(_journal(api, ADA, ada, {"op": "goal.status", "goal": "g1", "status": "achieved"}))
    assert ada["journal"]["goals"][0]["status"] == "achieved"


def test_the_employee_checks_in_and_both_see_the_trend(api: Api) -> None:
    """One tap each: Ada's check-in is in both partners' trend; a second replaces the first."""
    ctx = api.plan()["context"]
    ctx = _ok(_journal(api, ADA, ctx, {"op": "checkin", "energy": 4, "happiness": 3}))
    ctx = _ok(_journal(api, ADA, ctx, {"op": "checkin", "energy": 2, "happiness": 3}))
    assert ctx["journal"]["checkin"]["energy"] == 2
    grace = _context(api, GRACE, ctx)
    assert [(c["energy"], c["happiness"]) for c in grace["journal"]["trend"]] == [(2, 3)]
    assert "checkin" not in grace["journal"]["can"]


@pytest.mark.parametrize(
    ("lang", "words"), [("nl", "heel getal van 1 tot en met 5"), ("en", "whole number from 1 to 5")]
)
def test_bad_journal_input_gets_a_sentence_and_saves_nothing(
    api: Api, lang: str, words: str
) -> None:
    """A check-in of 7 is refused in the reader's language, and the journal stays as it was."""
    ctx = api.plan()["context"]
    series, occ = ctx["series"]["id"], ctx["occurrence"]["key"]
    response = api.call(
        "POST",
        f"/api/series/{series}/occurrences/{occ}/journal",
        body={"ops": [{"op": "checkin", "energy": 7, "happiness": 3}]},
        lang=lang,
    )
    assert response.status_code == 400
    assert words in response.get_json()["message"]
    for ops in ([], [{"op": "goal.fly"}], [{"op": "feedback.ask", "email": "nope"}], "x"):
        refused = api.call(
            "POST", f"/api/series/{series}/occurrences/{occ}/journal", body={"ops": ops}
        )
        assert refused.status_code == 400, ops
        assert refused.get_json()["message"]
    assert _context(api, ADA, ctx)["journal"]["etag"] is None


def test_a_colleagues_answer_is_the_employees_until_she_shares_it(api: Api) -> None:
    """Eve's link is mailed from Ada's mailbox; her answer is Ada's; Grace reads it once shared."""
    ctx = _asked(api)
    (request,) = ctx["journal"]["feedback"]
    assert request["state"] == "open" and request["link"].startswith("http")
    store = api.app.extensions["goedgesprek.store"]
    (mail,) = [m.mail for m in store.outbox() if EVE in m.mail.to]
    assert mail.sender == ADA and request["link"] in mail.text
    _answer(api, ctx, MARK_ANSWER, "")
    grace = _context(api, GRACE, ctx)
    (seen,) = grace["journal"]["feedback"]
    assert seen["state"] == "answered" and seen["answers"] == [] and "link" not in seen
    assert MARK_ANSWER not in str(grace)
    ada = _context(api, ADA, ctx)
    assert ada["journal"]["feedback"][0]["answers"] == [MARK_ANSWER, ""]
    _ok(_journal(api, ADA, ada, {"op": "feedback.share", "request": "f1", "shared": True}))
    assert _context(api, GRACE, ctx)["journal"]["feedback"][0]["answers"][0] == MARK_ANSWER


def test_a_managers_request_goes_out_only_with_the_employees_consent(api: Api) -> None:
    """Grace asks Eve on Ada's behalf: no mail, no link, until Ada consents."""
    ctx = api.plan()["context"]
    grace = _context(api, GRACE, ctx)
    ask = {"op": "feedback.ask", "email": EVE, "name": "Eve", "questions": ["colleague_less"]}
    grace = _ok(_journal(api, GRACE, grace, ask))
    assert grace["journal"]["feedback"][0]["state"] == "consent"
    store = api.app.extensions["goedgesprek.store"]
    assert not [m for m in store.outbox() if EVE in m.mail.to]
    ada = _context(api, ADA, ctx)
    assert ada["journal"]["feedback"][0]["can"] == ["consent", "withdraw"]
    _ok(_journal(api, ADA, ada, {"op": "feedback.consent", "request": "f1"}))
    assert [m for m in store.outbox() if EVE in m.mail.to]


def test_the_reflection_is_the_employees_until_shared(api: Api) -> None:
    """Ada's reflection with the template's prompts; Grace reads it only once shared."""
    ctx = api.plan()["context"]
    assert ctx["journal"]["reflection_prompts"]
    ctx = _ok(_journal(api, ADA, ctx, {"op": "reflection.write", "text": MARK_REFLECTION}))
    assert ctx["journal"]["reflection"]["text"] == MARK_REFLECTION
    assert _context(api, GRACE, ctx)["journal"]["reflection"] is None
    _ok(_journal(api, ADA, ctx, {"op": "reflection.share", "shared": True}))
    assert _context(api, GRACE, ctx)["journal"]["reflection"]["text"] == MARK_REFLECTION


@pytest.mark.parametrize(
    ("lang", "title"), [("nl", "Feedback van Eve"), ("en", "Feedback from Eve")]
)
def test_the_overview_suggests_what_matters_with_its_reason(
    api: Api, lang: str, title: str
) -> None:
    """An answered, undiscussed feedback is suggested, titled and reasoned in the reader's
    language; marked discussed, it is not."""
    ctx = _asked(api)
    _answer(api, ctx, "Goed", "Door")
    series, occ = ctx["series"]["id"], ctx["occurrence"]["key"]
    path = f"/api/series/{series}/occurrences/{occ}/overview"
    found = api.call("GET", path, ADA, lang=lang).get_json()
    rules = {s["rule"]: s for s in found["suggestions"]}
    assert rules["feedback_open"]["title"] == title
    assert rules["feedback_open"]["reason"]
    assert found["feedback"][0]["answers"] == ["Goed", "Door"]
    assert "feedback_open" not in {
        s["rule"] for s in api.call("GET", path, GRACE, lang=lang).get_json()["suggestions"]
    }
    ada = _context(api, ADA, ctx)
    _ok(_journal(api, ADA, ada, {"op": "feedback.discussed", "request": "f1"}))
    again = api.call("GET", path, ADA, lang=lang).get_json()
    assert "feedback_open" not in {s["rule"] for s in again["suggestions"]}


def test_a_time_out_is_counted_for_hr_without_who_or_why(api: Api) -> None:
    """Grace asks a time-out with a reason: the pair sees the reason; HR sees a count."""
    ctx = api.plan()["context"]
    grace = _context(api, GRACE, ctx)
    grace = _ok(
        _journal(
            api, GRACE, grace, {"op": "timeout.ask", "kind": "time_out", "reason": MARK_REASON}
        )
    )
    ada = _context(api, ADA, ctx)
    assert ada["journal"]["timeouts"][0]["reason"] == MARK_REASON
    services = api.app.extensions["goedgesprek.services"]
    counts = timeouts_since(services.registry.engine, api.clock())
    assert counts == {ctx["series"]["id"]: 1}
    series = services.registry.for_person(ADA)
    report = as_csv(cadence_report(series, {}, lambda _m: None, api.clock(), timeouts=counts))
    header, line = report.splitlines()[:2]
    assert header.split(",")[7] == "time-outs asked" and line.split(",")[7] == "1"
    assert MARK_REASON not in report and ADA not in report
    _ok(_journal(api, ADA, ada, {"op": "timeout.close", "timeout": "t1"}))


def test_a_guest_is_invited_to_that_conversation_only(api: Api) -> None:
    """Ada brings Henk to this conversation: he is an attendee of that occurrence alone."""
    ctx = api.plan()["context"]
    invite = {"op": "guest.invite", "email": "henk@example.org", "name": "Henk", "record": False}
    ctx = _ok(_journal(api, ADA, ctx, invite))
    assert ctx["journal"]["guests"][0]["email"] == "henk@example.org"
    calendar = api.app.extensions["goedgesprek.store"].calendar(ADA)
    master = calendar.get_event(ctx["event"]["id"]).series_id or ctx["event"]["id"]
    start = datetime.fromisoformat(ctx["occurrence"]["start"])
    first, second = calendar.instances(
        master, start - timedelta(minutes=1), start + timedelta(days=200)
    )[:2]
    assert "henk@example.org" in {a.email for a in first.attendees}
    assert "henk@example.org" not in {a.email for a in second.attendees}
    grace = _context(api, GRACE, ctx)
    refused = _journal(api, GRACE, grace, {"op": "guest.remove", "email": "henk@example.org"})
    assert refused.status_code == 400
    _ok(_journal(api, ADA, ctx, {"op": "guest.remove", "email": "henk@example.org"}))
    again = calendar.get_event(first.id)
    assert "henk@example.org" not in {a.email for a in again.attendees}


def test_attacks_on_the_journal_are_refused(api: Api) -> None:
    """Each attack is refused and changes nothing:
    - an outsider reads the overview or writes the journal (403);
    - the manager does what is the employee's: writes a goal, checks in, writes or shares the
      reflection, shares an answer, consents, invites a guest (400 with a sentence);
    - the manager reads an unshared answer, an unshared reflection or a draft goal (absent);
    - a change id sent again with other ops, or by the other partner (400);
    - a save without If-Match over a saved journal (428), with a stale etag (409);
    - an unknown series (404), an occurrence not in the series (404), a malformed key (400);
    - a colleague's link altered, for another request, signed with another key, or expired."""
    ctx = _asked(api)
    series, occ = ctx["series"]["id"], ctx["occurrence"]["key"]
    base = f"/api/series/{series}/occurrences/{occ}"
    body = {"ops": [{"op": "checkin", "energy": 3, "happiness": 3}]}
    assert api.call("GET", f"{base}/overview", EVE).status_code == 403
    assert api.call("POST", f"{base}/journal", EVE, body=body).status_code == 403
    _answer(api, ctx, MARK_ANSWER, "")
    ada = _ok(_journal(api, ADA, _context(api, ADA, ctx), {"op": "reflection.write", "text": "x"}))
    grace = _context(api, GRACE, ctx)
    for op in (
        {"op": "goal.add", "title": "Mijn doel voor jou"},
        {"op": "checkin", "energy": 1, "happiness": 1},
        {"op": "reflection.write", "text": "Zo denk jij erover"},
        {"op": "reflection.share", "shared": True},
        {"op": "feedback.share", "request": "f1", "shared": True},
        {"op": "feedback.consent", "request": "f1"},
        {"op": "guest.invite", "email": "spy@example.org", "name": "Spy"},
    ):
        refused = _journal(api, GRACE, grace, op)
        assert refused.status_code == 400, op
        assert refused.get_json()["message"], op
    grace = _context(api, GRACE, ctx)
    assert MARK_ANSWER not in str(grace) and grace["journal"]["reflection"] is None
    # Replays and races.
    ops = [{"op": "checkin", "energy": 3, "happiness": 4}]
    first = {"event": ada["event"]["id"], "ops": ops, "change_id": "replay-0001"}
    headers = {"If-Match": ada["journal"]["etag"]}
    ada = _ok(api.call("POST", f"{base}/journal", ADA, body=first, headers=headers))
    other = {**first, "ops": [{"op": "checkin", "energy": 1, "happiness": 1}]}
    assert api.call("POST", f"{base}/journal", ADA, body=other).status_code == 400
    stolen = api.call("POST", f"{base}/journal", GRACE, body=first)
    assert stolen.status_code == 400
    assert api.call("POST", f"{base}/journal", ADA, body=body).status_code == 428
    stale = api.call("POST", f"{base}/journal", ADA, body=body, headers=headers)
    assert stale.status_code == 409 and "current" in stale.get_json()
    # Wrong places.
    assert (
        api.call("POST", f"/api/series/nope/occurrences/{occ}/journal", body=body).status_code
        == 404
    )
    assert (
        api.call("GET", f"/api/series/{series}/occurrences/20260101T000000Z/overview").status_code
        == 404
    )
    assert api.call("GET", f"/api/series/{series}/occurrences/1/overview").status_code == 400
    # The colleague's link.
    journals = _journals(api)
    token = _token(_link(api, ctx))
    today = api.clock().date()
    body_part, mac = token.split(".")
    for bad in (f"{body_part}x.{mac}", f"{body_part}.{mac[:-2]}AA", "garbage", ""):
        with pytest.raises(LinkRefused):
            journals.grant(bad, today=today)
    foreign = Journals(api.app.extensions["goedgesprek.service"], key=b"another key", origin="")
    with pytest.raises(LinkRefused):
        foreign.grant(token, today=today)
    with pytest.raises(LinkRefused) as expired:
        journals.grant(token, today=today + timedelta(days=60))
    assert expired.value.expired
    # Answered already: the same link answers nothing a second time.
    grant = journals.grant(token, today=today)
    with pytest.raises(TransitionError) as twice:
        journals.answer(grant, ["nog eens", ""])
    assert twice.value.code == "feedback_answered"
    assert _context(api, ADA, ctx)["journal"]["feedback"][0]["answers"][0] == MARK_ANSWER


def _link(api: Api, ctx: dict[str, Any]) -> str:
    """The link of the first request, made again from the journal (answered ones hide it)."""
    journals = _journals(api)
    entry = api.app.extensions["goedgesprek.service"].registry.get(ctx["series"]["id"])
    return journals.link(entry, journals.read(entry).journal.feedback[0])


def test_goals_answers_and_check_ins_never_reach_our_database_logs_events_or_hr(
    api: Api, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Marker text in a goal, a colleague's answer, a reflection and a time-out's reason, and
    a check-in, are found sealed in the employee's drive only: not in any database file, any
    log line, any event body, the HR report or the pending outbox."""
    caplog.set_level(logging.DEBUG)
    ctx = _asked(api)
    _answer(api, ctx, MARK_ANSWER, "")
    ada = _context(api, ADA, ctx)
    ada = _ok(
        _journal(
            api,
            ADA,
            ada,
            {"op": "goal.add", "title": MARK_GOAL, "why": MARK_GOAL},
            {"op": "goal.propose", "goal": "g1"},
            {"op": "checkin", "energy": 4, "happiness": 2},
            {"op": "reflection.write", "text": MARK_REFLECTION},
            {"op": "timeout.ask", "kind": "other_partner", "reason": MARK_REASON},
            {"op": "feedback.share", "request": "f1", "shared": True},
        )
    )
    # The agenda is agreed, so the event carries its copy.
    ada = api.ops(ADA, ada, {"op": "agenda.share"}, {"op": "agenda.agree"}).get_json()
    grace = _context(api, GRACE, ada)
    api.ops(GRACE, grace, {"op": "agenda.agree"})
    markers = [MARK_GOAL, MARK_ANSWER, MARK_REFLECTION, MARK_REASON]
    # Our database files (the registry, the local store's own tables are the "provider").
    services = api.app.extensions["goedgesprek.services"]
    from sqlalchemy import inspect, text

    engine = services.registry.engine
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            rows = " ".join(str(r) for r in conn.execute(text(f'SELECT * FROM "{table}"')))
            for marker in [*markers, '"energy"', '"happiness"']:
                assert marker not in rows, (table, marker)
    # Logs.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for marker in markers:
        assert marker not in logged
    # Event bodies in both calendars.
    store = api.app.extensions["goedgesprek.store"]
    start = datetime.fromisoformat(ada["occurrence"]["start"])
    for who in (ADA, GRACE):
        for event in store.calendar(who).events(
            start - timedelta(days=1), start + timedelta(days=1)
        ):
            text_of = f"{event.subject} {event.body_html}"
            for marker in markers:
                assert marker not in text_of
    # The HR report.
    report = as_csv(
        cadence_report(
            services.registry.for_person(ADA),
            {},
            lambda _m: None,
            api.clock(),
            timeouts=timeouts_since(engine, api.clock()),
        )
    )
    for marker in [*markers, "energy", "happiness"]:
        assert marker not in report
    # The drive holds the journal sealed: no marker in its bytes, yet it opens for the service.
    drive = store.drive(ADA)
    raw = drive.get(ctx["series"]["id"], JOURNAL_NAME).content
    for marker in [*markers, "energy"]:
        assert marker.encode() not in raw
    entry = services.registry.get(ctx["series"]["id"])
    opened = _journals(api).read(entry).journal
    assert opened.goals[0].title == MARK_GOAL and opened.checkins[0].energy == 4


def test_the_dossier_export_carries_the_journal(api: Api) -> None:
    """The employee's zip holds the journal as Markdown and JSON, the colleague's answer too."""
    ctx = _asked(api)
    _answer(api, ctx, MARK_ANSWER, "")
    ada = _context(api, ADA, ctx)
    _ok(_journal(api, ADA, ada, {"op": "goal.add", "title": MARK_GOAL}))
    response = api.client.get("/api/me/dossier?lang=en", headers=api.headers(ADA))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    (journal_md,) = [n for n in archive.namelist() if n.endswith("journal.md")]
    text = archive.read(journal_md).decode()
    assert MARK_GOAL in text and MARK_ANSWER in text and "Feedback from colleagues" in text
    assert "(development goal, draft, open)" in text and "answered" in text
    assert any(n.endswith("journal.json") for n in archive.namelist())
    assert "journal.md" in archive.read("README.md").decode()


def test_an_erasure_takes_the_journal_and_the_time_out_counts(api: Api) -> None:
    """After the employee erases the dossier the journal file and the HR count are gone."""
    ctx = api.plan()["context"]
    ctx = _ok(_journal(api, ADA, ctx, {"op": "timeout.ask", "kind": "time_out", "reason": ""}))
    series = ctx["series"]["id"]
    drive = api.app.extensions["goedgesprek.store"].drive(ADA)
    assert JOURNAL_NAME in {f.name for f in drive.list(series)}
    response = api.call("POST", f"/api/series/{series}/erase", ADA, body={"confirm": True})
    assert response.status_code == 200, response.get_json()
    assert JOURNAL_NAME not in {f.name for f in drive.list(series)}
    services = api.app.extensions["goedgesprek.services"]
    assert timeouts_since(services.registry.engine, api.clock()) == {}


def test_a_guest_reads_the_record_only_while_the_employee_allows_it(api: Api) -> None:
    """Ada lets Henk read the record and sends it: his link opens it (token traded for a cookie
    scoped to that conversation); taken back, it opens nothing. The attacks: a manager sending
    it, a guest not allowed, an altered token, no cookie, the cookie on another conversation."""
    ctx = api.plan()["context"]
    invite = {"op": "guest.invite", "email": "henk@example.org", "name": "Henk", "record": False}
    ctx = _ok(_journal(api, ADA, ctx, invite))
    refused = _journal(api, ADA, ctx, {"op": "guest.send_record", "email": "henk@example.org"})
    assert refused.status_code == 400
    grace = _context(api, GRACE, ctx)
    send = {"op": "guest.send_record", "email": "henk@example.org"}
    assert _journal(api, GRACE, grace, send).status_code == 400
    ctx = _ok(
        _journal(api, ADA, ctx, {"op": "guest.record", "email": "henk@example.org", "record": True})
    )
    start = datetime.fromisoformat(ctx["occurrence"]["end"])
    api.clock.set(start + timedelta(minutes=5))
    ctx = _context(api, ADA, ctx)
    ctx = api.ops(ADA, ctx, {"op": "record.add_agreement", "text": "Henk denkt mee"}).get_json()
    _ok(_journal(api, ADA, ctx, send))
    store = api.app.extensions["goedgesprek.store"]
    (mail,) = [m.mail for m in store.outbox() if "henk@example.org" in m.mail.to]
    assert mail.sender == ADA
    link = next(w for w in mail.text.split() if "/g/" in w)
    token = link.rsplit("/g/", 1)[1]
    client = api.app.test_client()
    traded = client.get(f"/g/{token}")
    assert traded.status_code == 303
    path = traded.headers["Location"]
    assert token not in path and "HttpOnly" in traded.headers["Set-Cookie"]
    page = client.get(path)
    assert page.status_code == 200 and "Henk denkt mee" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    # Attacks.
    assert api.app.test_client().get(f"/g/{token[:-3]}xyz").status_code == 403
    assert api.app.test_client().get(path).status_code == 403  # no cookie
    other = path.rsplit("/", 1)[0] + "/20270301T090000Z"
    client.set_cookie("gg_guest", token, path=other)
    assert client.get(other).status_code == 403
    # Taken back: nothing opens any more.
    ctx = _context(api, ADA, ctx)
    _ok(
        _journal(
            api, ADA, ctx, {"op": "guest.record", "email": "henk@example.org", "record": False}
        )
    )
    assert client.get(path).status_code == 410


def test_a_colleagues_answer_and_a_goal_wait_sealed_while_the_drive_is_down(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the drive refusing writes, a goal and Eve's answer wait on the server as ciphertext
    (read back meanwhile), and the worker puts the journal in the drive once, with both."""
    from sqlalchemy import select
    from test_pending_documents import Outage

    from addin.store.tables import pending_documents_table

    outage = Outage(monkeypatch)
    ctx = _asked(api)
    outage.writes = True
    ctx = _ok(_journal(api, ADA, _context(api, ADA, ctx), {"op": "goal.add", "title": MARK_GOAL}))
    assert ctx["journal"]["pending"] is True
    _answer(api, ctx, MARK_ANSWER, "")
    ada = _context(api, ADA, ctx)
    assert ada["journal"]["goals"][0]["title"] == MARK_GOAL
    assert ada["journal"]["feedback"][0]["answers"][0] == MARK_ANSWER
    services = api.app.extensions["goedgesprek.services"]
    with services.registry.engine.connect() as conn:
        (content,) = conn.execute(select(pending_documents_table.c.sealed)).one()
    assert MARK_ANSWER.encode() not in bytes(content)
    outage.writes = False
    counts = api.app.extensions["goedgesprek.service"].deliver_pending()
    assert counts["delivered"] == 1
    entry = services.registry.get(ctx["series"]["id"])
    journal = _journals(api).read(entry)
    assert journal.etag and not journal.etag.startswith("pending")
    assert journal.journal.goals[0].title == MARK_GOAL
    assert journal.journal.feedback[0].answers[0] == MARK_ANSWER


def test_a_renewed_request_mails_a_new_link_and_the_old_one_opens_nothing(api: Api) -> None:
    """Ada renews Eve's request: a second mail with a new link; the first link is refused."""
    from addin.conversations.errors import Missing

    ctx = _asked(api)
    old = ctx["journal"]["feedback"][0]["link"]
    assert "renew" in ctx["journal"]["feedback"][0]["can"]
    ctx = _ok(_journal(api, ADA, ctx, {"op": "feedback.renew", "request": "f1", "days": 30}))
    new = ctx["journal"]["feedback"][0]["link"]
    assert new != old
    store = api.app.extensions["goedgesprek.store"]
    mails = [m.mail for m in store.outbox() if EVE in m.mail.to]
    assert len(mails) == 2 and new in mails[1].text
    journals = _journals(api)
    today = api.clock().date()
    with pytest.raises(Missing):
        journals.request_for(journals.grant(_token(old), today=today))
    journals.answer(journals.grant(_token(new), today=today), ["Ja", ""])
    grace = _context(api, GRACE, ctx)
    renew = {"op": "feedback.renew", "request": "f1"}
    assert _journal(api, GRACE, grace, renew).status_code == 400


def _eves_meeting(api: Api) -> str:
    """An ordinary meeting in Eve's own calendar, not part of any series."""
    from connectors.models import Attendee, NewEvent

    start = api.clock() + timedelta(days=1)
    store = api.app.extensions["goedgesprek.store"]
    store.add_person(EVE, "Eve", "Europe/Amsterdam")
    event = store.calendar(EVE).create_event(
        NewEvent(
            subject="Sprintplanning",
            start=start,
            end=start + timedelta(minutes=30),
            tz="Europe/Amsterdam",
            organizer=EVE,
            attendees=(Attendee("bob@example.org", "Bob"),),
        ),
        idempotency_key="eve-sprint",
    )
    return str(event.id)


def test_a_colleague_finds_the_request_in_her_own_calendar_add_in(api: Api) -> None:
    """Eve opens Goed Gesprek on a meeting of her own: Ada's request is there with its link,
    until she answers; nobody else sees it, and our database keeps no address of hers."""
    ctx = _asked(api)
    meeting = _eves_meeting(api)
    eve = api.call("GET", f"/api/context?event={meeting}", EVE, lang="en").get_json()
    assert eve["state"] == "not_series"
    (ask,) = eve["feedback_asks"]
    assert ask["name"] == "Ada" and ask["questions"] == 2
    assert ask["link"] == ctx["journal"]["feedback"][0]["link"]
    grace_meeting = api.kennismaking()
    others = api.call("GET", f"/api/context?event={grace_meeting}", GRACE).get_json()
    assert others.get("feedback_asks") in ([], None)
    services = api.app.extensions["goedgesprek.services"]
    from sqlalchemy import text

    with services.registry.engine.connect() as conn:
        rows = " ".join(str(r) for r in conn.execute(text("SELECT * FROM feedback_asks")))
    assert EVE not in rows and "Eve" not in rows and rows
    _answer(api, ctx, "Helder", "")
    after = api.call("GET", f"/api/context?event={meeting}", EVE).get_json()
    assert after["feedback_asks"] == []


def test_a_withdrawn_or_erased_request_leaves_the_colleagues_add_in(api: Api) -> None:
    """Withdrawn: gone from Eve's list; asked again and the dossier erased: gone too."""
    ctx = _asked(api)
    meeting = _eves_meeting(api)
    _ok(_journal(api, ADA, ctx, {"op": "feedback.withdraw", "request": "f1"}))
    assert api.call("GET", f"/api/context?event={meeting}", EVE).get_json()["feedback_asks"] == []
    ada = _context(api, ADA, ctx)
    ask = {"op": "feedback.ask", "email": EVE, "name": "Eve", "questions": ["colleague_less"]}
    _ok(_journal(api, ADA, ada, ask))
    assert (
        len(api.call("GET", f"/api/context?event={meeting}", EVE).get_json()["feedback_asks"]) == 1
    )
    series = ctx["series"]["id"]
    erased = api.call("POST", f"/api/series/{series}/erase", ADA, body={"confirm": True})
    assert erased.status_code == 200
    assert api.call("GET", f"/api/context?event={meeting}", EVE).get_json()["feedback_asks"] == []


def test_after_the_conversation_a_check_in_counts_between_conversations(api: Api) -> None:
    """Before the conversation a check-in is its own; once it is over, a new one counts between
    conversations and keeps the conversation's (both in the trend); a host may say otherwise."""
    ctx = api.plan()["context"]
    ctx = _ok(_journal(api, ADA, ctx, {"op": "checkin", "energy": 4, "happiness": 4}))
    assert ctx["journal"]["checkin_between"] is False
    assert ctx["journal"]["checkin"]["occurrence"] == ctx["occurrence"]["key"]
    api.clock.set(datetime.fromisoformat(ctx["occurrence"]["end"]) + timedelta(days=20))
    ada = _context(api, ADA, ctx)
    assert ada["journal"]["checkin_between"] is True and ada["journal"]["checkin"] is None
    ada = _ok(_journal(api, ADA, ada, {"op": "checkin", "energy": 2, "happiness": 3}))
    assert ada["journal"]["checkin"]["occurrence"] == ""
    assert [(c["energy"], c["occurrence"] != "") for c in ada["journal"]["trend"]] == [
        (4, True),
        (2, False),
    ]
    ada = _ok(
        _journal(api, ADA, ada, {"op": "checkin", "energy": 3, "happiness": 3, "between": False})
    )
    assert [c["energy"] for c in ada["journal"]["trend"]] == [2, 3]
