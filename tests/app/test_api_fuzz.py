"""Schemathesis against ``/api/openapi.json``: generated requests, in-process on the WSGI app.

Every operation of the pane's API gets requests generated from its description (valid and not,
undeclared methods too), sent as a signed-in Ada with a planned series; every answer must be no
5xx and match the described status, content type, headers and schema, and a 405 must name the
allowed methods. Bounded so the whole run takes seconds: `EXAMPLES` per operation, `DEADLINE` per
example, and the same examples on every run (derandomised, no example database).

Checks left out, and why:

- ``positive_data_acceptance``: the description cannot say every rule a valid body follows (the
  earliest start before the latest, a duration that fits the window, a weekday ticked); such a
  body gets a 400 with a sentence by design.
- ``negative_data_rejection``: unknown query parameters are ignored, as they should be, and the
  generated "invalid" requests that only add one are answered 200.
- ``allow_header_conformance``: ``/api/series/preview`` also matches ``/api/series/{series_id}``,
  so OPTIONS advertises PATCH there (for a series named "preview", which is a 404).
- ``ignored_auth``, ``use_after_free``, ``ensure_resource_availability``: they send their own
  follow-up requests over the network (they need a base URL), not through the WSGI app.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from test_api import ADA, NOW, Api

from addin.app import create_app
from addin.demo import seed
from addin.openapi import spec
from connectors.local import LocalStore
from connectors.testing import ManualClock

EXAMPLES = 25
"""Examples per operation: with eight operations, a few hundred requests in all."""

DEADLINE = timedelta(seconds=3)
"""The longest one example may take (a first plan reads both calendars and writes events)."""


@pytest.fixture
def fuzzed_app(tmp_path: Path) -> Flask:
    """The app on the seeded local store, with one series Ada planned (its ids in `config`)."""
    clock = ManualClock(NOW)
    store = LocalStore(tmp_path, clock=clock)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store, clock=clock)
    seed(store, NOW)
    context = Api(app, clock).plan()["context"]
    app.config["FUZZ_SERIES"] = context["series"]["id"]
    app.config["FUZZ_OCCURRENCE"] = context["occurrence"]["key"]
    app.config["FUZZ_EVENT"] = context["event"]["id"]
    return app


def test_the_fuzzed_description_is_the_served_one(fuzzed_app: Flask) -> None:
    """The requests below come from exactly what ``/api/openapi.json`` serves."""
    assert fuzzed_app.test_client().get("/api/openapi.json").get_json() == spec()


# Loaded from the module's own data at collection, so pytest sees one test per operation.
schema = schemathesis.openapi.from_dict(spec())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=DEADLINE,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_every_generated_request_as_described(case: Any, fuzzed_app: Flask) -> None:
    """No 5xx, and every answer's status and body are the ones the description gives."""
    token = fuzzed_app.extensions["goedgesprek.identity"].issue(ADA, "Ada")
    _aim_at_the_planned_series(case, fuzzed_app)
    case.call_and_validate(
        app=fuzzed_app,
        headers={"Authorization": f"Bearer {token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
            unsupported_method,
            missing_required_header,
        ],
    )


def _aim_at_the_planned_series(case: Any, app: Flask) -> None:
    """Most generated ids name nothing (a 404 is soon found); aim about half at the real series.

    Which half follows from the generated values, so a run is still the same every time.
    """
    params = case.path_parameters or {}
    if "series_id" in params and len(str(params["series_id"])) % 2 == 0:
        params["series_id"] = app.config["FUZZ_SERIES"]
        if "occ" in params:
            params["occ"] = app.config["FUZZ_OCCURRENCE"]
        if isinstance(case.body, dict) and "event" in case.body:
            case.body["event"] = app.config["FUZZ_EVENT"]


def test_a_405_names_the_methods_allowed(fuzzed_app: Flask) -> None:
    """RFC 9110: a 405 carries ``Allow``; the JSON error handler keeps the header."""
    response = fuzzed_app.test_client().open("/api/series/preview", method="TRACE")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.get_json()["error"] == "method_not_allowed"


def test_a_body_past_the_apps_limit_is_a_413_with_a_sentence(tmp_path: Path) -> None:
    """Flask's own limit (MAX_CONTENT_LENGTH) answers JSON with the limit in KB, not a crash."""
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "MAX_CONTENT_LENGTH": 1024})

    @app.post("/form-for-the-test")
    def form() -> str:
        from flask import request

        return str(len(request.form))

    response = app.test_client().post("/form-for-the-test?lang=en", data={"a": "x" * 4096})
    assert response.status_code == 413
    assert "1 KiB" in response.get_json()["message"]
