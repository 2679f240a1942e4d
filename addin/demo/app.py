"""The demo's factory: the product app, with the demo on top.

`create_demo_app` prepares the data directory as a first start of the demo needs (a keyring, the
movable demo clock), builds the product with `create_app` and registers the demo's pieces: the host
preview at ``/`` with the demo clock and the Google cards preview (`addin.demo.host`), and the stub
Office host around the real pane (`addin.demo.outlook`). Their pages and static files live in this
package, so the product serves none of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Config, Flask

from addin.app import FRAMEABLE_PREFIXES, create_app
from addin.settings import Settings
from addin.wiring import open_keyring
from connectors._files import private_dir

if TYPE_CHECKING:
    from addin.wiring import Store
    from addin.workspace.verify import RequestVerifier
    from connectors.ports import Calendar, Drive, Mailer

DEMO_TEMPLATES = Path(__file__).resolve().parent / "templates"
"""The demo organisation's own templates: its schemes."""

DEMO_FRAMEABLE = ("/demo/pane", "/demo/cards")
"""The demo's pages the host preview shows in a frame."""


def create_demo_app(
    config: Mapping[str, Any] | None = None,
    *,
    calendar: Callable[[str], Calendar] | None = None,
    drive: Callable[[str], Drive] | None = None,
    mailer: Callable[[str], Mailer] | None = None,
    verifier: RequestVerifier | None = None,
    store: Store | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    """The product app (same arguments as `create_app`) with the demo registered on it.

    `clock` defaults to the demo clock kept in the data directory, which the host preview moves.
    """
    from addin.demo import host, outlook
    from addin.demo.clock import DemoClock

    settings = dict(config or {})
    # The demo's card preview signs Google-shaped requests with this installation's own key.
    settings.setdefault("WORKSPACE_KEYS", "local")
    # The demo organisation lists its own schemes (suggested in the preparation), unless the
    # environment names the organisation's own template folders.
    if not os.environ.get("GOEDGESPREK_TEMPLATE_DIRS"):
        settings.setdefault("TEMPLATE_DIRS", str(DEMO_TEMPLATES))
    # The data directory as the product will read it: environment first, `config` on top.
    read = Config(Path.cwd())
    read.from_prefixed_env("GOEDGESPREK")
    read.update(settings)
    data_dir = private_dir(Settings.from_mapping(read).data_dir)
    open_keyring(data_dir, create=True)  # a first start of the demo makes its own
    app = create_app(
        settings,
        calendar=calendar,
        drive=drive,
        mailer=mailer,
        verifier=verifier,
        store=store,
        clock=clock or DemoClock(data_dir),
    )
    app.extensions["goedgesprek.frameable"] = (*FRAMEABLE_PREFIXES, *DEMO_FRAMEABLE)
    host.init_app(app)
    outlook.init_app(app)
    return app
