"""The page where a colleague answers a request for feedback: it opens for the colleague the
mail names, for that request, until it expires, and for nothing and no one else; the answer goes
sealed into the employee's journal, once, and never into a log.

The flow is the product's: Ada asks through the journal's API, the request is mailed from her
mailbox, and the link in the sent mail is followed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from test_api import ADA, GRACE, PREFS, Api, seeded_api

from addin.conversations.journals import JOURNAL_NAME, Journals
from connectors.errors import Unavailable
from connectors.local import LocalDrive

EVE = "eve@example.org"
FRANK = "frank@example.org"
LINK = re.compile(r"http://127\.0\.0\.1:5000(/f/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")
QUESTIONS = ("colleague_strength", "colleague_next")
MARKER = "Vertrouwelijk-Q7 <b>durf</b>"

WORDS = {
    "nl": {
        "asks": "Ada vraagt je om feedback",
        "sealed": "Je antwoord gaat versleuteld naar Ada alleen.",
        "open": "Je mag een vraag openlaten.",
        "thanks": "Dank je wel voor je feedback",
        "again": "Je hebt deze vragen al beantwoord",
        "empty": "Beantwoord minstens één vraag.",
        "long": "Je antwoord op vraag 2 is 4.001 tekens lang: houd elk antwoord bij 4.000 tekens.",
        "expired": "Deze link is verlopen",
        "gone": "Deze vraag om feedback staat niet meer open",
        "invalid": "Deze link is niet geldig.",
        "no_cookie": "Open deze pagina met de link in je mail",
        "stale": "Dit formulier is verouderd",
        "large": "Het formulier is te groot",
    },
    "en": {
        "asks": "Ada asks for your feedback",
        "sealed": "Your answer goes sealed to Ada alone.",
        "open": "You may leave a question open.",
        "thanks": "Thank you for your feedback",
        "again": "You answered these questions already",
        "empty": "Write an answer to at least one question.",
        "long": "Your answer to question 2 is 4,001 characters long: keep each answer to 4,000 "
        "characters.",
        "expired": "This link has expired",
        "gone": "This request for feedback is no longer open",
        "invalid": "This link is not valid.",
        "no_cookie": "Open this page with the link in your mail",
        "stale": "This form is out of date",
        "large": "The form is too large",
    },
}


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return seeded_api(tmp_path)


def _planned(api: Api, lang: str = "nl") -> dict[str, Any]:
    """Ada plans a series with Grace (in `lang`); the first occurrence's context."""
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "req-0001"}
    response = api.call("POST", "/api/series", body=body, lang=lang)
    assert response.status_code == 201, response.get_json()
    context: dict[str, Any] = response.get_json()["context"]
    return context


def _journal(api: Api, who: str, context: dict[str, Any], *ops: dict[str, Any]) -> Any:
    """Journal ops as `who`, over the journal's etag; the new context."""
    series, occ = context["series"]["id"], context["occurrence"]["key"]
    fresh = api.call("GET", f"/api/context?event={context['event']['id']}", who).get_json()
    etag = fresh["journal"]["etag"]
    body = {
        "event": context["event"]["id"],
        "ops": list(ops),
        "change_id": f"chg-{uuid4().hex}",
    }
    response = api.call(
        "POST",
        f"/api/series/{series}/occurrences/{occ}/journal",
        who,
        body=body,
        headers={"If-Match": etag} if etag else {},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _ask(api: Api, context: dict[str, Any], email: str, who: str = ADA) -> str:
    """`who` asks `email` two questions; the link's path from the mail that went out, or "" when
    none went (a request that waits for the employee's consent)."""
    ask = {
        "op": "feedback.ask",
        "email": email,
        "name": email.split("@", maxsplit=1)[0].title(),
        "questions": list(QUESTIONS),
    }
    _journal(api, who, context, ask)
    mails = [m for m in api.app.extensions["goedgesprek.store"].outbox() if m.mail.to == (email,)]
    if not mails:
        return ""
    (mail,) = mails
    assert mail.mail.sender == ADA  # from the asker's own mailbox
    found = LINK.search(mail.mail.text)
    assert found, mail.mail.text
    return found.group(1)


def _asked_questions(context: dict[str, Any]) -> list[str]:
    """The texts of the questions `_ask` asks, in the context's language."""
    bank = {q["key"]: q["text"] for q in context["journal"]["questions"]}
    return [bank[key] for key in QUESTIONS]


def _follow(client: FlaskClient, link: str) -> tuple[str, Any]:
    """Follow a mail's link: the page's path, and the page."""
    first = client.get(link)
    assert first.status_code == 303, first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    path = first.headers["Location"].split("?")[0]
    assert re.fullmatch(r"/feedback/[^/]+/f\d+", path) and f"Path={path}" in cookie
    page = client.get(first.headers["Location"])
    return path, page


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _request(api: Api, series: str, request_id: str) -> Any:
    """The request as the employee's journal keeps it, read through the service."""
    service = api.app.extensions["goedgesprek.service"]
    entry = service.registry.get(series)
    return service.journals.read(entry).journal.request(request_id)


def _html(answer: Any) -> str:
    assert answer.mimetype == "text/html", answer.mimetype
    text: str = answer.get_data(as_text=True)
    return text


# -- the colleague answers -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_colleague_answers_once_and_the_answer_lands_sealed_in_the_employees_journal(
    api: Api, lang: str, tmp_path: Path
) -> None:
    """Eve follows her mail's link, answers one question of two, sees thanks; only Ada reads it."""
    words = WORDS[lang]
    context = _planned(api, lang)
    link = _ask(api, context, EVE)
    token = link.split("/f/")[1]
    client = api.app.test_client()
    path, page = _follow(client, link)
    html = _html(page)
    assert page.status_code == 200 and page.headers["Content-Language"] == lang
    assert words["asks"] in html and words["sealed"] in html and words["open"] in html
    for question in _asked_questions(context):
        assert str(escape(question)) in html
    assert html.count("<textarea") == 2 and "<script" not in html
    assert "Grace" not in html and GRACE not in html, "the manager is not named"
    assert token not in html and token not in page.request.url
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp

    answered = client.post(
        path,
        data={"csrf": _csrf(html), "answer-0": f"  {MARKER}\r\nTweede regel  ", "answer-1": ""},
    )
    assert answered.status_code == 303, _html(answered)
    thanks = client.get(answered.headers["Location"])
    thanked = _html(thanks)
    assert thanks.status_code == 200 and words["thanks"] in thanked
    assert "durf" not in thanked and "<textarea" not in thanked, "the answer is not shown again"

    # In Ada's journal, read through the service and through her own API; Grace sees no answer.
    series = path.split("/")[2]
    saved = _request(api, series, "f1")
    assert saved.state.value == "answered"
    assert saved.answers == (f"{MARKER}\nTweede regel", "")
    event = context["event"]["id"]
    ada = api.call("GET", f"/api/context?event={event}", ADA).get_json()
    assert ada["journal"]["feedback"][0]["answers"] == [f"{MARKER}\nTweede regel", ""]
    grace = api.call("GET", f"/api/context?event={event}", GRACE).get_json()
    assert grace["journal"]["feedback"][0]["state"] == "answered"
    assert grace["journal"]["feedback"][0]["answers"] == []
    # The drive's file is sealed: no file the app wrote holds the answer in plaintext.
    drive = api.app.extensions["goedgesprek.store"].drive(ADA)
    assert JOURNAL_NAME in {f.name for f in drive.list(series)}
    raw = drive.get(series, JOURNAL_NAME).content
    assert MARKER.encode() not in raw and b"Tweede regel" not in raw and b"answers" not in raw
    for file in tmp_path.rglob("*"):
        if file.is_file():
            assert b"Vertrouwelijk-Q7" not in file.read_bytes(), file.name

    # A second submit (a double click, the back button): 409 with a sentence, nothing changed.
    again = client.post(path, data={"csrf": _csrf(html), "answer-0": "Nog iets"})
    assert again.status_code == 409 and words["again"] in _html(again)
    assert "Nog iets" not in _html(again) and "<textarea" not in _html(again)
    assert _request(api, series, "f1").answers == (f"{MARKER}\nTweede regel", "")


def test_the_page_speaks_the_language_asked_for(api: Api) -> None:
    """A Dutch request read with ?lang=en: the page's words in English, the questions as asked."""
    context = _planned(api, "nl")
    client = api.app.test_client()
    path, _page = _follow(client, _ask(api, context, EVE))
    page = client.get(f"{path}?lang=en")
    html = _html(page)
    assert page.headers["Content-Language"] == "en" and WORDS["en"]["asks"] in html
    assert str(escape(_asked_questions(context)[0])) in html
    switch = re.search(r'href="([^"]+)" hreflang="nl"', html)
    assert switch and switch.group(1).startswith(path), "the language switch stays on the page"


def test_over_https_the_cookie_is_secure(api: Api) -> None:
    """Followed over HTTPS, the link's cookie is sent back over HTTPS only."""
    link = _ask(api, _planned(api), EVE)
    first = api.app.test_client().get(link, base_url="https://localhost")
    assert first.status_code == 303
    cookie = first.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_bad_input_is_a_sentence_and_keeps_what_was_typed(api: Api) -> None:
    """Nothing written, an answer too long, a body too large: refused, the text kept, no answer."""
    words = WORDS["nl"]
    context = _planned(api)
    client = api.app.test_client()
    path, page = _follow(client, _ask(api, context, EVE))
    csrf = _csrf(_html(page))
    empty = client.post(path, data={"csrf": csrf, "answer-0": "  ", "answer-1": "\r\n"})
    assert empty.status_code == 400 and words["empty"] in _html(empty)
    assert 'role="alert"' in _html(empty) and "<textarea" in _html(empty)
    long = client.post(
        path, data={"csrf": csrf, "answer-0": "Blijft staan", "answer-1": "x" * 4001}
    )
    kept = _html(long)
    assert long.status_code == 400 and words["long"] in kept
    assert ">Blijft staan</textarea>" in kept and "x" * 4001 in kept
    # 4,000 characters with line breaks fit: the browser counted each break as one.
    lines = ("y" * 99 + "\r\n") * 40
    assert len(lines.replace("\r\n", "\n").strip()) <= 4000 < len(lines)
    big = client.post(path, data={"csrf": csrf, "answer-0": "z" * 70_000})
    assert big.status_code == 413 and words["large"] in _html(big)
    series = path.split("/")[2]
    assert _request(api, series, "f1").state.value == "open"
    fits = client.post(path, data={"csrf": csrf, "answer-0": lines, "answer-1": ""})
    assert fits.status_code == 303
    assert len(_request(api, series, "f1").answers[0]) == 3999


def test_no_log_line_carries_the_colleagues_answer(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Refused, failed, saved and repeated answers: the text is in no log record, at any level."""
    context = _planned(api)
    client = api.app.test_client()
    path, page = _follow(client, _ask(api, context, EVE))
    csrf = _csrf(_html(page))
    secret = "Geheim-antwoord-8K"
    put = LocalDrive.put

    def down(drive: LocalDrive, *args: Any, **kwargs: Any) -> Any:
        raise Unavailable("drive down")

    with caplog.at_level(logging.DEBUG):
        client.post(path, data={"csrf": csrf, "answer-0": secret, "answer-1": "x" * 4001})
        client.post(path, data={"csrf": "0" * 64, "answer-0": secret})
        client.post(path, data={"csrf": csrf, "answer-0": secret * 4000})
        # The drive does not answer: the answer waits on the server, sealed, and is logged as such.
        monkeypatch.setattr(LocalDrive, "put", down)
        saved = client.post(path, data={"csrf": csrf, "answer-0": secret})
        monkeypatch.setattr(LocalDrive, "put", put)
        assert saved.status_code == 303
        assert client.post(path, data={"csrf": csrf, "answer-0": secret}).status_code == 409
        client.get(path)
    assert _request(api, path.split("/")[2], "f1").answers == (secret, "")
    assert any("journal.json" in r.getMessage() for r in caplog.records), "the log was heard"
    for file in tmp_path.rglob("*"):
        if file.is_file():
            assert secret.encode() not in file.read_bytes(), file.name
    for record in caplog.records:
        shown = f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        assert "Geheim-antwoord" not in shown, record.name


# -- the attacks ---------------------------------------------------------------------------------


def test_the_attacks_on_the_link_and_the_form_are_refused(api: Api) -> None:
    """Each way in that is not the named colleague's own live link changes nothing:

    an altered token, a token signed with another key, an expired one, garbage, the page without
    the cookie, another request's cookie, a forged, missing or foreign form token, a link replaced
    by a newer one, a withdrawn request, one still waiting for consent, an erased series; and the
    token never appears in a page.
    """
    words = WORDS["nl"]
    context = _planned(api)
    link = _ask(api, context, EVE)
    token = link.split("/f/")[1]
    client = api.app.test_client()
    path, page = _follow(client, link)
    html = _html(page)
    csrf = _csrf(html)
    series = path.split("/")[2]
    service = api.app.extensions["goedgesprek.service"]
    entry = service.registry.get(series)
    seen: list[str] = [html]

    def refused(answer: Any, status: int, sentence: str) -> None:
        body = _html(answer)
        seen.append(body)
        assert answer.status_code == status, body
        assert sentence in body and "<textarea" not in body
        assert "Set-Cookie" not in answer.headers
        assert answer.headers["Cache-Control"] == "no-store"

    # 1. An altered token (another request in the payload, the signature kept).
    body, mac = token.split(".")
    refused(api.app.test_client().get(f"/f/{body[:-2]}AA.{mac}"), 403, words["invalid"])
    # 2. A token signed with another key.
    request = service.journals.read(entry).journal.request("f1")
    foreign = Journals(service, key=b"x" * 32, origin="http://127.0.0.1:5000").link(entry, request)
    refused(api.app.test_client().get(foreign.split("5000")[1]), 403, words["invalid"])
    # 3. Garbage of every shape.
    for garbage in ("x", "a.b", "é.é", "." * 3, "A" * 3000 + ".B"):
        refused(api.app.test_client().get(f"/f/{garbage}"), 403, words["invalid"])
    # 4. The page without the link's cookie.
    refused(api.app.test_client().get(path), 403, words["no_cookie"])
    refused(api.app.test_client().post(path, data={"csrf": csrf}), 403, words["no_cookie"])
    # 5. Another request's cookie (Frank's) on Eve's page.
    frank_link = _ask(api, context, FRANK)
    frank = api.app.test_client()
    frank_path, frank_page = _follow(frank, frank_link)
    frank_csrf = _csrf(_html(frank_page))
    stranger = api.app.test_client()
    stranger.set_cookie("gg_feedback", frank_link.split("/f/")[1], path=path)
    refused(stranger.get(path), 403, words["invalid"])
    refused(
        stranger.post(path, data={"csrf": frank_csrf, "answer-0": "Ingebroken"}),
        403,
        words["invalid"],
    )
    # 6. A post from another site: the cookie alone, with a forged, missing or odd form token.
    refused(client.post(path, data={"csrf": "0" * 64, "answer-0": "CSRF"}), 403, words["stale"])
    refused(client.post(path, data={"answer-0": "CSRF"}), 403, words["stale"])
    refused(client.post(path, data={"csrf": "é", "answer-0": "CSRF"}), 403, words["stale"])
    # 7. Frank's form token with Eve's cookie.
    refused(
        client.post(path, data={"csrf": frank_csrf, "answer-0": "Gemengd"}), 403, words["stale"]
    )
    # 8. Frank's link replaced by a newer one (a new nonce): the old one opens nothing.
    doc = service.journals.read(entry)
    renewed = tuple(
        replace(f, nonce="nieuw-nonce-1") if f.id == "f2" else f for f in doc.journal.feedback
    )
    service.store_named(
        entry,
        JOURNAL_NAME,
        replace(doc, journal=replace(doc.journal, feedback=renewed)).to_bytes(None),
        doc.etag,
    )
    refused(frank.get(frank_path), 410, words["gone"])
    refused(
        frank.post(frank_path, data={"csrf": frank_csrf, "answer-0": "Oud"}), 410, words["gone"]
    )
    # 9. A withdrawn request: Ada asks Gwen, Gwen opens the page, Ada withdraws, Gwen answers.
    gwen_link = _ask(api, context, "gwen@example.org")
    gwen = api.app.test_client()
    gwen_path, gwen_page = _follow(gwen, gwen_link)
    _journal(api, ADA, context, {"op": "feedback.withdraw", "request": "f3"})
    gwen_csrf = _csrf(_html(gwen_page))
    refused(
        gwen.post(gwen_path, data={"csrf": gwen_csrf, "answer-0": "Te laat"}), 410, words["gone"]
    )
    refused(gwen.get(gwen_path), 410, words["gone"])
    # 10. Grace asks Hank: the request waits for Ada's consent, so its link opens nothing yet.
    assert _ask(api, context, "hank@example.org", who=GRACE) == ""
    waiting = service.journals.read(entry).journal.request("f4")
    hank = api.app.test_client()
    hank_first = hank.get(service.journals.link(entry, waiting).split("5000")[1])
    refused(hank.get(hank_first.headers["Location"]), 410, words["gone"])
    # 11. Expired: the day after the request's last day, the link and the page say so.
    before = api.clock()
    api.clock.set(datetime.combine(request.expires + timedelta(days=1), time(9), tzinfo=UTC))
    refused(api.app.test_client().get(link), 410, words["expired"])
    refused(client.get(path), 410, words["expired"])
    refused(client.post(path, data={"csrf": csrf, "answer-0": "Te laat"}), 410, words["expired"])
    api.clock.set(before)
    # Nothing of the attacks reached the journal.
    for request_id in ("f1", "f2", "f3"):
        assert _request(api, series, request_id).answers == ()
    # 12. An erased series: Ada erases the dossier; Eve's link and page open nothing.
    erased = api.call("POST", f"/api/series/{series}/erase", ADA, body={"confirm": True})
    assert erased.status_code == 200
    refused(client.get(path), 410, words["gone"])
    refused(client.post(path, data={"csrf": csrf, "answer-0": "Na het wissen"}), 410, words["gone"])
    # The token is in no page, and no page sends it on as a referrer.
    for body in seen:
        assert token not in body
    assert page.headers["Referrer-Policy"] == "no-referrer"
