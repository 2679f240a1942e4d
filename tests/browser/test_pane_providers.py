"""The task pane in Chromium on Microsoft Graph and Google: real SDKs, served emulators.

The stub Office host reads the appointment through the app, the app reads and writes through
msgraph-sdk or google-api-python-client over HTTP to the emulator. Ada plans from her meeting,
writes an item and shares; Grace opens her own copy of the first conversation (on Graph it has an
id of her own mailbox) and agrees; Ada agrees; the agreed agenda is in Ada's event at the provider.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from test_pane import open_pane
from werkzeug.serving import make_server

from addin.demo import ADA, GRACE, seed
from addin.demo.provider import ProviderDemo, start

pytestmark = pytest.mark.browser


class ProviderServer:
    """What `open_pane` needs of a demo server: the URL of the pane for an event."""

    def __init__(self, demo: ProviderDemo, url: str) -> None:
        self.demo = demo
        self.url = url
        self.app = demo.app

    def pane_url(self, event: str, *, who: str, lang: str, mode: str) -> str:
        """The demo pane for `event` as `who`."""
        return f"{self.url}/demo/pane?event={event}&as={who}&lang={lang}&mode={mode}"


@pytest.fixture(params=["graph", "google"], scope="module")
def provider_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProviderServer]:
    """The provider demo, seeded, served on 127.0.0.1."""
    demo = start(request.param, tmp_path_factory.mktemp(f"demo-{request.param}"))
    seed(demo.store, demo.app.extensions["goedgesprek.clock"]())
    server = make_server("127.0.0.1", 0, demo.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ProviderServer(demo, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        demo.close()


def _kennismaking(server: ProviderServer) -> str:
    now = server.app.extensions["goedgesprek.clock"]()
    events = server.demo.store.calendar(ADA.email).events(now, now + timedelta(days=7))
    return next(e.id for e in events if e.subject.startswith("Kennismaking"))


def _copy_of(server: ProviderServer, email: str, ada_event: str) -> str:
    """`email`'s own copy of Ada's occurrence `ada_event`."""
    theirs = server.demo.store.calendar(ADA.email).get_event(ada_event)
    window = (theirs.start - timedelta(minutes=1), theirs.start + timedelta(minutes=1))
    found = server.demo.store.calendar(email).events(*window)
    return next(e.id for e in found if e.subject == theirs.subject)


def test_plan_and_agree_an_agenda_through_the_provider(
    provider_server: ProviderServer, new_page: Callable[..., Any]
) -> None:
    """The pane's whole agenda flow works end to end on the provider, both partners' copies."""
    ada = open_pane(new_page, provider_server, _kennismaking(provider_server), "ada", "en")
    assert ada.state() == "not_series"
    ada.click("plan:preview-button")
    ada.key("plan:confirm").wait_for()
    ada.click("plan:confirm")
    assert ada.state() == "upcoming", ada.alert()
    first = ada.info("eventId")
    ada.add_item("personal", "Werkplezier")
    ada.click("agenda:share")
    assert not ada.alert(), ada.alert()

    grace = open_pane(
        new_page, provider_server, _copy_of(provider_server, GRACE.email, first), "grace", "en"
    )
    assert grace.state() == "upcoming", grace.alert()
    assert grace.page.get_by_text("Werkplezier", exact=True).is_visible()
    grace.click("agenda:agree")
    assert not grace.alert(), grace.alert()

    ada = open_pane(new_page, provider_server, first, "ada", "en")
    ada.click("agenda:agree")
    assert not ada.alert(), ada.alert()
    event = provider_server.demo.store.calendar(ADA.email).get_event(first)
    assert "Werkplezier" in event.body_html
    assert [a.name[:7] for a in event.attachments] == ["agenda-"]
