"""What the Entra emulator tests share: the directory they set up, and a browser's part in the
sign-in pages (filling in and posting their forms)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import requests

from emulators.entra import EntraEmulator
from emulators.graph import GraphEmulator
from emulators.tls import LocalCA

CLIENT_ID = "5f0c1a3e-8d2b-4c6a-9e1f-2b3c4d5e6f70"
SECRET = "emulated~secret~value"
APP_ID_URI = f"api://goedgesprek.example.org/{CLIENT_ID}"
GRAPH_SCOPES = (
    "Calendars.ReadWrite",
    "Files.ReadWrite.AppFolder",
    "Mail.Send",
    "User.Read",
    "User.Read.All",
    "MailboxSettings.Read",
    "offline_access",
)
SPA_REDIRECT = "https://pane.example.org/taskpane.html"
WEB_REDIRECT = "https://goedgesprek.example.org/auth/microsoft/callback"
ADA = "ada@contoso.example"
BOB = "bob@contoso.example"


@dataclass
class EntraSetup:
    """A served Entra emulator: its tenant, our app and two users, plus the Graph emulator."""

    entra: EntraEmulator
    graph: GraphEmulator
    url: str
    graph_url: str
    ca: LocalCA
    tenant: str

    @property
    def authority(self) -> str:
        """The tenant's authority, as msal takes it."""
        return f"{self.url}/{self.tenant}"


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = found.get("action", "")
        elif tag == "input" and found.get("type") in ("hidden", "email") and "name" in found:
            self.fields[found["name"]] = found.get("value", "")


def submit(session: requests.Session, html: str, **fields: str) -> requests.Response:
    """Post the page's form with its hidden fields plus `fields`, as a browser would; no redirects
    are followed."""
    form = _Form()
    form.feed(html)
    assert form.action, "the page has no form"
    return session.post(form.action, data={**form.fields, **fields}, allow_redirects=False)


def sign_in(
    session: requests.Session, authorize_url: str, email: str, *, consent: bool = True
) -> requests.Response:
    """Open the sign-in page, sign in as `email`, accept the consent prompt if one shows (or
    decline it); the answer is the authorize endpoint's last, normally a 302 to the app."""
    page = session.get(authorize_url, allow_redirects=False)
    assert page.status_code == 200, page.text
    answer = submit(session, page.text, loginfmt=email)
    if answer.status_code == 200 and "idBtn_Accept" in answer.text:
        answer = submit(session, answer.text, consent="yes" if consent else "no")
    return answer


def redirect_params(answer: requests.Response) -> dict[str, str]:
    """What the authorize endpoint sends back to the app: a 302's query or fragment, or the
    fields of a ``form_post`` page."""
    if answer.status_code == 200:
        form = _Form()
        form.feed(answer.text)
        assert form.action, answer.text
        return form.fields
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    return dict(parse_qsl(location.fragment or location.query))


def trusting(ca: LocalCA) -> requests.Session:
    """A requests session trusting only `ca`.

    requests lets ``REQUESTS_CA_BUNDLE`` override a session's own ``verify``, so the environment's
    bundle is ignored here (``trust_env`` off).
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca.ca_file)
    return session
