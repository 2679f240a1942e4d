"""The HR cadence report in the browser, for the people the deployment names as HR.

HR opens Goed Gesprek in their calendar like anyone; the panel asks `GET /api/me/hr` whether
they are HR (``GOEDGESPREK_HR``: their addresses, comma-separated; or ``GOEDGESPREK_HR_GROUP``:
a group of the provider's directory they are in) and then offers the report.
Its button asks ``POST /api/hr/report-link`` for a link signed for them (`LIFETIME`), which
the page trades at once for a cookie on ``/hr``, as the record form's link is traded. Every
request checks again that the person is still HR. The page shows what
`addin.cadence_report` counts: counts and dates only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Final

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from addin import signed
from addin.i18n import normalise_locale
from addin.record_page import private
from addin.wiring import DirectoryError
from connectors.errors import ConnectorError

bp = Blueprint("hr_page", __name__)
log = logging.getLogger(__name__)

LIFETIME: Final = 3600
"""Seconds a link, and the page it opens, stays valid."""
COOKIE: Final = "gg_hr"
_PURPOSE: Final = b"goedgesprek.hr-link.v1"


def hr_people(config: Mapping[str, Any]) -> frozenset[str]:
    """The addresses in ``HR`` (comma- or space-separated), lower case."""
    raw = str(config.get("HR") or "")
    return frozenset(p.strip().lower() for p in raw.replace(",", " ").split() if "@" in p)


def hr_group(config: Mapping[str, Any]) -> str:
    """The directory group in ``HR_GROUP`` (an address, or a Microsoft 365 group's id), or ''."""
    return str(config.get("HR_GROUP") or "").strip()


def is_hr(email: str) -> bool:
    """Named in ``HR``, or in the ``HR_GROUP`` group now.

    The directory's answer is kept as long as its others (``DIRECTORY_CACHE_SECONDS``): every
    request asks. One that cannot be had makes no one HR through the group: the report stays
    closed rather than open to someone the directory may have taken out.
    """
    address = email.strip().lower()
    if address in hr_people(current_app.config):
        return True
    group = hr_group(current_app.config)
    if not group or "@" not in address:
        return False
    directory = current_app.extensions["goedgesprek.services"].directory
    try:
        return bool(directory.is_member(address, group))
    except (ConnectorError, DirectoryError) as exc:
        log.warning("whether %s is in the HR group %s is unknown, so no: %s", address, group, exc)
        return False


def link_for(email: str, locale: str) -> str:
    """A link to the report for `email` (who must be HR), valid for `LIFETIME` seconds."""
    claims = {"u": email.lower(), "l": locale, "e": int(time.time()) + LIFETIME}
    token = signed.seal(_key(), _PURPOSE, claims)
    return url_for("hr_page.follow", token=token, _external=True)


def _key() -> bytes:
    key = current_app.secret_key
    if not key:
        raise RuntimeError("the app has no SECRET_KEY to sign HR links with")
    return key if isinstance(key, bytes) else str(key).encode()


def _read(token: str) -> tuple[str, str, int] | None:
    """The (email, locale, expiry) of a valid, unexpired token of a person who is HR now."""
    try:
        data = signed.unseal(_key(), _PURPOSE, token)
        email, locale, expires = (
            signed.text(data, "u"),
            signed.text(data, "l"),
            signed.number(data, "e"),
        )
    except signed.Forged:
        return None
    if time.time() >= expires or not is_hr(email):
        return None
    return email, locale, expires


@bp.get("/hr/r/<token>")
def follow(token: str) -> Response:
    """A link from the panel: kept in a cookie for ``/hr``, then on to the report."""
    found = _read(token)
    if found is None:
        return _refused()
    _email, locale, expires = found
    response = redirect(url_for("hr_page.cadence", lang=locale), code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(1, expires - int(time.time())),
        path="/hr",
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    private(response)
    return response


@bp.get("/hr/cadence")
def cadence() -> Response:
    """The report: per team, counts and dates (``?team=``, ``?format=csv``)."""
    found = _read(request.cookies.get(COOKIE, ""))
    if found is None:
        return _refused()
    _email, link_locale, _expires = found
    locale = normalise_locale(request.args.get("lang")) or link_locale
    from addin.cadence_report import (
        CadenceStats,
        active_series,
        as_csv,
        cadence_report,
        rows,
        timeouts_since,
    )

    services = current_app.extensions["goedgesprek.services"]
    registry = services.registry
    series = active_series(registry)
    now = services.clock()
    team = request.args.get("team", "")[:320]
    teams = cadence_report(
        series,
        CadenceStats(registry.engine).all(),
        services.directory.manager_of,
        now,
        team=team,
        timeouts=timeouts_since(registry.engine, now),
    )
    if request.args.get("format") == "csv":
        response = Response(as_csv(teams), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="cadence.csv"'
        private(response)
        return response
    quarters = list(teams[0].per_quarter) if teams else []
    top = max((n for t in teams for n in t.per_quarter.values()), default=0) or 1
    html = render_template(
        "hr.html",
        locale=locale,
        endpoint="hr_page.cadence",
        switch_args={"team": team} if team else {},
        teams=teams,
        cells=rows(teams),
        quarters=quarters,
        top=top,
        today=now.date(),
        team=team,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = locale
    private(response)
    return response


def _refused() -> Response:
    from addin.i18n import request_locale

    locale = request_locale()
    html = render_template(
        "hr.html", locale=locale, endpoint="support.support", switch_args={}, refused=True
    )
    response = Response(html, status=403, mimetype="text/html")
    private(response)
    return response


def init_app(app: Flask) -> None:
    """Serve the HR report behind its signed link."""
    from connectors.directory import CsvDirectory, NoDirectory, StoreDirectory

    group = hr_group(app.config)
    directory = app.extensions["goedgesprek.services"].directory
    if group and isinstance(directory, CsvDirectory | StoreDirectory | NoDirectory):
        log.warning(
            "HR_GROUP=%s names no one: only the provider's directory (DIRECTORY=provider) "
            "has groups",
            group,
        )
    app.register_blueprint(bp)
