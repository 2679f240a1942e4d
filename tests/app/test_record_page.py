"""The record form behind a reminder's signed link: it works for the person it names, for that
occurrence, for three days, and for nothing and no one else.

The flow is the product's: the API plans a series on the local store, the clock passes the
meeting, the sweep sends the record prompt, and the link in the sent mail is followed.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from test_api import ADA, GRACE, Api, seeded_api

from addin import record_link
from addin.background.service import build_sweep
from addin.conversations import Caller
from connectors.models import SentMail

LINK = re.compile(r"http://127\.0\.0\.1:5000(/r/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return seeded_api(tmp_path)


def _prompted(api: Api) -> dict[str, Any]:
    """Plan a series, move past the first meeting and sweep: each partner's link, by address."""
    planned = api.plan()
    start = datetime.fromisoformat(planned["context"]["occurrence"]["start"])
    api.clock.set(start + timedelta(minutes=60 + 11))
    services = api.app.extensions["goedgesprek.services"]
    build_sweep(services, api.app.config).run()
    sent: list[SentMail] = api.app.extensions["goedgesprek.store"].outbox()
    links = {}
    for mail in sent:
        found = LINK.search(mail.mail.text)
        assert found, mail.mail.text
        assert found.group(0) in mail.mail.html
        links[mail.mail.sender] = found.group(1)
    assert sorted(links) == [ADA, GRACE]
    return {"planned": planned, "links": links}


def _key(api: Api) -> bytes:
    key = api.app.secret_key
    assert isinstance(key, bytes)
    return key


def _follow(client: FlaskClient, link: str) -> tuple[str, Any]:
    """Follow a mail's link: the form's path, and the form page."""
    first = client.get(link)
    assert first.status_code == 303, first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    path = first.headers["Location"].split("?")[0]
    assert f"Path={path}" in cookie
    page = client.get(first.headers["Location"])
    return path, page


def _fields(html: str, do: str) -> dict[str, str]:
    """The hidden fields of the form holding the button `do`."""
    forms = re.findall(r"<form method=\"post\".*?</form>", html, flags=re.S)
    form = next(f for f in forms if f'value="{do}"' in f)
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    return {**hidden, "do": do}


def test_the_mail_link_opens_the_record_form_and_saves_through_the_service(api: Api) -> None:
    links = _prompted(api)["links"]
    client = api.app.test_client()
    path, page = _follow(client, links[ADA])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Verslag van het gesprek" in html
    assert "token" not in page.request.url and links[ADA].split("/r/")[1] not in html
    # A summary, an agreement, an action: each saved, and back on the form with the news.
    fields = _fields(html, "add_agreement")
    answer = client.post(path, data={**fields, "agreement": "Ada volgt de cursus <b>X</b>"})
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"])
    html = page.get_data(as_text=True)
    assert "De afspraak is toegevoegd." in html
    assert "Ada volgt de cursus &lt;b&gt;X&lt;/b&gt;" in html  # what people type is escaped
    fields = _fields(html, "propose_all")
    assert client.post(path, data=fields).status_code == 303
    # Grace opens her own link and accepts; the record the panel reads says so.
    grace = api.app.test_client()
    gpath, gpage = _follow(grace, links[GRACE])
    assert gpath == path
    ghtml = gpage.get_data(as_text=True)
    agreement = re.search(r'value="accept:([^"]+)"', ghtml)
    assert agreement, ghtml
    answer = grace.post(gpath, data=_fields(ghtml, f"accept:{agreement.group(1)}"))
    assert answer.status_code == 303
    series, occ = path.split("/")[-2:]
    service = api.app.extensions["goedgesprek.service"]
    context = service.occurrence_context(Caller(ADA, "Ada"), series, occ)
    (saved,) = context["record"]["agreements"]
    assert saved["text"] == "Ada volgt de cursus <b>X</b>"
    assert saved["accepted_by"] == ["manager"]


def test_a_resent_form_is_saved_once_and_a_stale_one_keeps_what_was_typed(api: Api) -> None:
    links = _prompted(api)["links"]
    client = api.app.test_client()
    path, page = _follow(client, links[ADA])
    fields = _fields(page.get_data(as_text=True), "add_action")
    data = {**fields, "action": "Cursus zoeken", "owner": "employee", "due": ""}
    assert client.post(path, data=data).status_code == 303
    # The same submit again (a lost answer, a double click): the same change, saved once.
    assert client.post(path, data=data).status_code == 303
    html = client.get(path).get_data(as_text=True)
    assert html.count("Cursus zoeken") == 1
    # A form read before another change: refused with the typed text kept in the form.
    stale = {**fields, "change": "another-change-1", "action": "Mentor vragen"}
    answer = client.post(path, data=stale)
    assert answer.status_code in (409, 412)
    kept = answer.get_data(as_text=True)
    assert 'value="Mentor vragen"' in kept and 'role="alert"' in kept


@pytest.mark.parametrize("lang,words", [("nl", "Verslag van het gesprek"), ("en", "Record of")])
def test_the_form_speaks_the_language_asked_for(api: Api, lang: str, words: str) -> None:
    links = _prompted(api)["links"]
    client = api.app.test_client()
    path, _page = _follow(client, links[ADA])
    page = client.get(f"{path}?lang={lang}")
    assert words in page.get_data(as_text=True)
    assert page.headers["Content-Language"] == lang


def test_bad_input_is_a_sentence_and_loses_nothing(api: Api) -> None:
    links = _prompted(api)["links"]
    client = api.app.test_client()
    path, page = _follow(client, links[ADA])
    html = page.get_data(as_text=True)
    fields = _fields(html, "add_action")
    empty = client.post(path, data={**fields, "action": "  ", "owner": "employee"})
    assert empty.status_code == 400 and "Beschrijf eerst het actiepunt." in empty.get_data(
        as_text=True
    )
    bad_owner = client.post(path, data={**fields, "action": "Iets", "owner": "hr"})
    assert bad_owner.status_code == 400 and 'value="Iets"' in bad_owner.get_data(as_text=True)
    bad_date = client.post(
        path, data={**fields, "action": "Iets", "owner": "employee", "due": "morgen"}
    )
    assert bad_date.status_code == 400
    unknown = client.post(path, data={**fields, "do": "launch:rockets"})
    assert unknown.status_code == 400
    big = client.post(path, data={**fields, "action": "x" * 70_000, "owner": "employee"})
    assert big.status_code == 413


# -- the attacks ---------------------------------------------------------------------------------


def test_the_attacks_on_the_link_and_the_form_are_refused(api: Api, tmp_path: Path) -> None:
    """Each way in that is not the named person's own fresh link changes nothing."""
    prompted = _prompted(api)
    links = prompted["links"]
    key = _key(api)
    token = links[ADA].split("/r/")[1]
    grant = record_link.read(key, token, now=time.time())
    client = api.app.test_client()
    path, page = _follow(client, links[ADA])
    fields = _fields(page.get_data(as_text=True), "add_agreement")

    def refused(answer: Any, status: int = 403) -> None:
        assert answer.status_code == status, answer.get_data(as_text=True)
        assert "Set-Cookie" not in answer.headers

    # 1. An altered token (another person in the payload, the signature kept).
    body, mac = token.split(".")
    refused(api.app.test_client().get(f"/r/{body[:-2]}AA.{mac}"))
    # 2. A token signed with another key.
    forged = record_link.grant_for(
        b"x" * 32, series=grant.series, occ=grant.occ, email=ADA, locale="nl", now=time.time()
    )
    refused(api.app.test_client().get(f"/r/{forged}"))
    # 3. An expired token says it expired.
    old = record_link.grant_for(
        key,
        series=grant.series,
        occ=grant.occ,
        email=ADA,
        locale="en",
        now=time.time() - record_link.LIFETIME - 1,
    )
    answer = api.app.test_client().get(f"/r/{old}")
    refused(answer)
    assert "expired" in answer.get_data(as_text=True)
    # 4. Garbage of every shape.
    for garbage in ("x", "a.b", "é.é", "." * 3, "A" * 3000 + ".B"):
        refused(api.app.test_client().get(f"/r/{garbage}"), 403)
    # 5. The form without the link's cookie, or the cookie of another occurrence's form.
    refused(api.app.test_client().get(path))
    other = record_link.grant_for(
        key, series=grant.series, occ="20300101T090000Z", email=ADA, locale="nl", now=time.time()
    )
    stranger = api.app.test_client()
    stranger.set_cookie("gg_record", other, path=path)
    refused(stranger.get(path))
    refused(stranger.post(path, data={**fields, "agreement": "Ingebroken"}))
    # 6. A valid link for someone who is not a partner (Eve) sees nothing of the series.
    eve = record_link.grant_for(
        key,
        series=grant.series,
        occ=grant.occ,
        email="eve@example.org",
        locale="nl",
        now=time.time(),
    )
    eve_client = api.app.test_client()
    answer = eve_client.get(f"/r/{eve}")
    assert answer.status_code == 303
    page = eve_client.get(answer.headers["Location"])
    assert page.status_code == 403 and "Ada" not in page.get_data(as_text=True)
    # 7. A post from another site: the cookie alone, without the page's form token.
    refused(client.post(path, data={**fields, "csrf": "0" * 64, "agreement": "CSRF"}))
    refused(client.post(path, data={k: v for k, v in fields.items() if k != "csrf"}))
    refused(client.post(path, data={**fields, "csrf": "é"}))
    # 8. Grace's form token with Ada's cookie.
    grace = api.app.test_client()
    _gpath, gpage = _follow(grace, links[GRACE])
    grace_fields = _fields(gpage.get_data(as_text=True), "add_agreement")
    refused(client.post(path, data={**grace_fields, "agreement": "Gemengd"}))
    # Nothing of the attacks reached the record.
    html = client.get(path).get_data(as_text=True)
    for planted in ("Ingebroken", "CSRF", "Gemengd"):
        assert planted not in html
    # The token never appears in a page's links (no referrer to leak it through either).
    assert token not in html and page.headers["Referrer-Policy"] == "no-referrer"
