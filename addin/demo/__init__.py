"""The demo: the product with a seeded pair and two stand-in hosts, for anyone to click through.

- `seed`: Ada (employee) and Grace (manager), an ordinary working year and a first meeting.
- `host`: the host preview at ``/`` (both calendars, the pane in a frame, the demo clock) and the
  Google cards rendered as HTML (`preview`), called exactly as Google calls the add-on.
- `outlook`: the stub Office host (``static/office-stub.js``) and the routes it reads and saves.
- `clock`: the movable demo clock; `provider`: the demo through a provider's SDK and emulator.
- `create_demo_app`: builds the product (`addin.app.create_app`) and adds all of the above.

The product never imports this package.
"""

from __future__ import annotations

from addin.demo.app import create_demo_app
from addin.demo.seed import ADA, FIRST_MEETING, GRACE, PAIR, first_meeting_start, seed

__all__ = [
    "ADA",
    "FIRST_MEETING",
    "GRACE",
    "PAIR",
    "create_demo_app",
    "first_meeting_start",
    "seed",
]
