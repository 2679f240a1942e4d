"""`goedgesprek demo --provider graph|google`: Grace is in the emulated directory's HR group, so
her panel offers the cadence report and Ada's does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from addin.demo import ADA, GRACE, seed
from addin.demo.provider import ProviderDemo, start


@pytest.fixture(params=["graph", "google"])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ProviderDemo]:
    """The provider's demo, seeded, stopped afterwards."""
    demo = start(request.param, tmp_path)
    try:
        seed(demo.store, demo.app.extensions["goedgesprek.clock"]())
        yield demo
    finally:
        demo.close()


def test_the_demos_hr_group_names_grace(running: ProviderDemo) -> None:
    app = running.app
    for person, hr in ((GRACE, True), (ADA, False)):
        token = app.extensions["goedgesprek.identity"].issue(person.email, person.name)
        answer = app.test_client().get("/api/me/hr", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and answer.get_json() == {"hr": hr}
    assert not app.config.get("HR")  # the group alone makes Grace HR
