"""The HTTP session sign-in code talks to identity providers with."""

from __future__ import annotations

import requests


def session_trusting(ca_bundle: str | None) -> requests.Session:
    """A requests session; with `ca_bundle`, one that trusts that bundle only.

    requests lets ``REQUESTS_CA_BUNDLE`` from the environment override a session's own `verify`
    when a call passes none (psf/requests#3829), as msal and oauthlib do: a session with a bundle
    therefore ignores the environment (its proxies too). The bundle is for emulators on loopback;
    production leaves it unset and gets an ordinary session.
    """
    session = requests.Session()
    if ca_bundle:
        session.verify = ca_bundle
        session.trust_env = False
    return session
