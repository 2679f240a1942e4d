"""Our connectors beside their peers, per call and per provider, interleaved in one run.

Each provider's emulator is served on 127.0.0.1 behind `Network` (latency per HTTP request) and
driven by four clients on the same calendar:

- ``connector``: `GraphAccount` / `GoogleAccount`, as the app uses them;
- ``raw``: the floor, httpx (Graph) or httplib2 (Google) sending the minimal requests a
  hand-written client would (one GET per event, one listing with a big page, one POST per create);
- the library peer: python-o365 for Graph (``requests_delay=0``; its default waits 200 ms between
  calls) and gcsa for Google (its service built from the shipped discovery document with the
  emulator's ``rootUrl``, the way `GoogleAccount` builds its own);
- ``sdk``: the provider's SDK used naively, msgraph-sdk's typed calls on `GraphServiceClient` and
  googleapiclient's ``service.events().get(...).execute()``.

Every sample runs each client once per operation, the order rotated per sample, so machine noise
reaches all alike. Per operation: p50/p95 per client, the ratio of its p50 to the raw p50, and the
HTTP requests one call sends (counted at the emulator).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import httplib2
import httpx
from google.oauth2.credentials import Credentials

from bench.connectors import ADA, GRACE, Wire, account, meeting, summary, wire
from connectors.models import Attendee, EventPatch, NewEvent

OPS = ("get_event", "list_25", "create_event", "update_event", "delete_event", "drive_roundtrip")
PEER = {"graph": "o365", "google": "gcsa"}
WINDOW_START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
LISTED = 25
"""Events in the listed window (more than Graph's default page of 10)."""
FILE = b'{"summary": "' + b"x" * 4000 + b'"}'


def ratio(p50: float, floor: float) -> float:
    """p50 over the floor's p50 (0 when the floor is not positive)."""
    return round(p50 / floor, 2) if floor > 0 else 0.0


def _start(i: int) -> datetime:
    """A created event's start: a year after the listed window, one hour apart."""
    return WINDOW_START + timedelta(days=400, hours=i)


def _graph_body(i: int) -> dict[str, Any]:
    start = _start(i)
    return {
        "subject": f"Overleg {i}",
        "body": {"contentType": "html", "content": "<p>Agenda</p>"},
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {
            "dateTime": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "UTC",
        },
        "attendees": [{"emailAddress": {"address": GRACE, "name": "Grace"}, "type": "required"}],
    }


def _google_body(i: int) -> dict[str, Any]:
    start = _start(i)
    return {
        "summary": f"Overleg {i}",
        "description": "<p>Agenda</p>",
        "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "UTC"},
        "attendees": [{"email": GRACE, "displayName": "Grace"}],
    }


class Client:
    """One way of calling the provider; each operation returns what the next one needs."""

    name = ""

    def get_event(self, event_id: str) -> object:
        raise NotImplementedError

    def list_25(self, start: datetime, end: datetime) -> int:
        raise NotImplementedError

    def create_event(self, i: int) -> str:
        raise NotImplementedError

    def update_event(self, event_id: str, i: int) -> object:
        raise NotImplementedError

    def delete_event(self, event_id: str) -> None:
        raise NotImplementedError

    def drive_roundtrip(self, i: int) -> bytes | None:
        """Upload a small file and read it back; None when the client has no drive."""
        return None

    def close(self) -> None:
        """Release connections."""


# -- our connectors ------------------------------------------------------------------------------


class Connector(Client):
    name = "connector"

    def __init__(self, w: Wire) -> None:
        self._account = account(w)
        self._calendar = self._account.calendar(ADA)
        self._drive = self._account.drive(ADA)

    def get_event(self, event_id: str) -> object:
        return self._calendar.get_event(event_id)

    def list_25(self, start: datetime, end: datetime) -> int:
        return len(self._calendar.events(start, end))

    def create_event(self, i: int) -> str:
        start = _start(i)
        event = NewEvent(
            subject=f"Overleg {i}",
            start=start,
            end=start + timedelta(hours=1),
            tz="UTC",
            organizer=ADA,
            attendees=(Attendee(GRACE, "Grace"),),
            body_html="<p>Agenda</p>",
        )
        return self._calendar.create_event(event, idempotency_key=f"bench-{time.time_ns()}").id

    def update_event(self, event_id: str, i: int) -> object:
        patch = EventPatch(subject=f"Overleg {i} (bijgewerkt)", body_html=f"<p>Punt {i}</p>")
        return self._calendar.update_event(event_id, patch)

    def delete_event(self, event_id: str) -> None:
        self._calendar.delete_event(event_id)

    def drive_roundtrip(self, i: int) -> bytes | None:
        self._drive.put("bench", f"doc-{i % 4}.json", FILE, content_type="application/json")
        return self._drive.get("bench", f"doc-{i % 4}.json").content

    def close(self) -> None:
        close = getattr(self._account, "close", None)
        if close is not None:
            close()


# -- the raw floor -------------------------------------------------------------------------------


class RawGraph(Client):
    """httpx with one kept-alive connection, the minimal Graph requests."""

    name = "raw"

    def __init__(self, w: Wire) -> None:
        self._http = httpx.Client(
            base_url=f"{w.base_url}/users/{ADA}",
            headers={"Authorization": f"Bearer {w.tokens[ADA]}"},
        )

    def _ok(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise RuntimeError(f"raw graph: {response.status_code} {response.text[:300]}")
        return response

    def get_event(self, event_id: str) -> object:
        return self._ok(self._http.get(f"/events/{quote(event_id, safe='')}")).json()

    def list_25(self, start: datetime, end: datetime) -> int:
        params = {
            "startDateTime": start.isoformat(),
            "endDateTime": end.isoformat(),
            "$top": "100",
        }
        return len(self._ok(self._http.get("/calendarView", params=params)).json()["value"])

    def create_event(self, i: int) -> str:
        return str(self._ok(self._http.post("/events", json=_graph_body(i))).json()["id"])

    def update_event(self, event_id: str, i: int) -> object:
        body = {
            "subject": f"Overleg {i} (bijgewerkt)",
            "body": {"contentType": "html", "content": f"<p>Punt {i}</p>"},
        }
        url = f"/events/{quote(event_id, safe='')}"
        return self._ok(self._http.patch(url, json=body)).json()

    def delete_event(self, event_id: str) -> None:
        self._ok(self._http.delete(f"/events/{quote(event_id, safe='')}"))

    def drive_roundtrip(self, i: int) -> bytes | None:
        # Simple upload (PUT .../content, up to 250 MB), then the item's content (a 302 to the
        # download URL, followed): https://learn.microsoft.com/graph/api/driveitem-put-content
        path = f"/drive/special/approot:/bench-raw/doc-{i % 4}.json:/content"
        headers = {"Content-Type": "application/json"}
        self._ok(self._http.put(path, content=FILE, headers=headers))
        response = self._ok(self._http.get(path, follow_redirects=True))
        return response.content

    def close(self) -> None:
        self._http.close()


class RawGoogle(Client):
    """httplib2 (one connection kept alive), the minimal Calendar API requests."""

    name = "raw"

    def __init__(self, w: Wire) -> None:
        self._http = httplib2.Http()
        self._base = f"{w.base_url}calendar/v3/calendars/primary/events"
        self._auth = {"Authorization": f"Bearer {w.tokens[ADA]}"}

    def _send(self, url: str, method: str = "GET", body: Any = None) -> Any:
        headers = dict(self._auth)
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        response, content = self._http.request(url, method, body=data, headers=headers)
        if response.status >= 400:
            raise RuntimeError(f"raw google: {response.status} {content[:300]!r}")
        return json.loads(content) if content else None

    def get_event(self, event_id: str) -> object:
        return self._send(f"{self._base}/{quote(event_id, safe='')}")

    def list_25(self, start: datetime, end: datetime) -> int:
        query = urlencode(
            {
                "timeMin": start.isoformat(),
                "timeMax": end.isoformat(),
                "singleEvents": "true",
                "maxResults": "250",
            }
        )
        return len(self._send(f"{self._base}?{query}")["items"])

    def create_event(self, i: int) -> str:
        return str(self._send(self._base, "POST", _google_body(i))["id"])

    def update_event(self, event_id: str, i: int) -> object:
        body = {"summary": f"Overleg {i} (bijgewerkt)", "description": f"<p>Punt {i}</p>"}
        return self._send(f"{self._base}/{quote(event_id, safe='')}", "PATCH", body)

    def delete_event(self, event_id: str) -> None:
        self._send(f"{self._base}/{quote(event_id, safe='')}", "DELETE")

    def close(self) -> None:
        self._http.close()


# -- the library peers ---------------------------------------------------------------------------


class _Calendars:
    """WSGI: a path naming the user's calendar by id (``/calendars/{id}/...``, as python-o365's
    `Calendar` sends) reaches the emulator's one calendar per user (``/calendar/...``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if "/calendars/" in path:
            head, _, tail = path.partition("/calendars/")
            rest = tail.partition("/")[2]
            environ["PATH_INFO"] = f"{head}/calendar/{rest}"
        return self.app(environ, start_response)


class O365Graph(Client):
    """python-o365's `Account` with a fixed token, its calendar and drive."""

    name = "o365"

    def __init__(self, w: Wire) -> None:
        from bench.o365_account import o365_calendar

        self.account, self._schedule, self._calendar = o365_calendar(
            w.server.url, w.tokens[ADA], ADA
        )
        self._drive: Any = None
        self._made: dict[str, Any] = {}

    def get_event(self, event_id: str) -> object:
        return self._calendar.get_event(event_id)

    def list_25(self, start: datetime, end: datetime) -> int:
        found = self._schedule.get_events(
            limit=100, include_recurring=True, start_recurring=start, end_recurring=end
        )
        return len(list(found))

    def create_event(self, i: int) -> str:
        event = self._calendar.new_event(subject=f"Overleg {i}")
        # python-o365 wants ZoneInfo zones.
        start = _start(i).replace(tzinfo=ZoneInfo("UTC"))
        event.start = start
        event.end = start + timedelta(hours=1)
        event.body = "<p>Agenda</p>"
        event.attendees.add((GRACE, "Grace"))
        event.save()
        self._made[str(event.object_id)] = event
        return str(event.object_id)

    def _event(self, event_id: str) -> Any:
        # The object the create returned, as a caller would keep it (else one GET first).
        return self._made.pop(event_id, None) or self._calendar.get_event(event_id)

    def update_event(self, event_id: str, i: int) -> object:
        # python-o365 sends only the fields marked changed: subject and body.
        event = self._event(event_id)
        self._made[event_id] = event
        event.subject = f"Overleg {i} (bijgewerkt)"
        event.body = f"<p>Punt {i}</p>"
        return event.save()

    def delete_event(self, event_id: str) -> None:
        self._event(event_id).delete()

    def drive_roundtrip(self, i: int) -> bytes | None:
        import io

        if self._drive is None:
            storage = self.account.storage(resource=ADA)
            drive = storage.get_default_drive()
            self._drive = drive.get_special_folder("approot")
        stream = io.BytesIO(FILE)
        item = self._drive.upload_file(
            f"doc-{i % 4}.json", item_name=f"doc-{i % 4}.json", stream=stream, stream_size=len(FILE)
        )
        out = io.BytesIO()
        item.download(output=out)
        return out.getvalue()

    def close(self) -> None:
        session = getattr(self.account.con, "session", None)
        if session is not None:
            session.close()


class SdkGraph(Client):
    """msgraph-sdk's `GraphServiceClient`, its typed request builders as the samples show."""

    name = "sdk"

    def __init__(self, w: Wire) -> None:
        from kiota_authentication_azure.azure_identity_authentication_provider import (
            AzureIdentityAuthenticationProvider,
        )
        from msgraph import GraphRequestAdapter, GraphServiceClient

        from connectors.graph import StaticToken

        auth = AzureIdentityAuthenticationProvider(
            StaticToken(w.tokens[ADA]),
            scopes=["https://graph.microsoft.com/.default"],
            allowed_hosts=["127.0.0.1"],
        )
        adapter = GraphRequestAdapter(auth)
        adapter.base_url = w.base_url
        self._client = GraphServiceClient(request_adapter=adapter)
        self._user = self._client.users.by_user_id(ADA)
        self._loop = asyncio.new_event_loop()

    def _run(self, coroutine: Any) -> Any:
        return self._loop.run_until_complete(coroutine)

    def get_event(self, event_id: str) -> object:
        return self._run(self._user.events.by_event_id(event_id).get())

    def list_25(self, start: datetime, end: datetime) -> int:
        from msgraph.generated.users.item.calendar_view.calendar_view_request_builder import (
            CalendarViewRequestBuilder,
        )

        query = CalendarViewRequestBuilder.CalendarViewRequestBuilderGetQueryParameters(
            start_date_time=start.isoformat(), end_date_time=end.isoformat(), top=100
        )
        config = CalendarViewRequestBuilder.CalendarViewRequestBuilderGetRequestConfiguration(
            query_parameters=query
        )
        found = self._run(self._user.calendar_view.get(request_configuration=config))
        return len(found.value or [])

    def _event(self, i: int, *, full: bool) -> Any:
        from msgraph.generated.models.attendee import Attendee as GraphAttendee
        from msgraph.generated.models.body_type import BodyType
        from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
        from msgraph.generated.models.email_address import EmailAddress
        from msgraph.generated.models.event import Event
        from msgraph.generated.models.item_body import ItemBody

        event = Event()
        if full:
            body = _graph_body(i)
            event.subject = body["subject"]
            event.body = ItemBody(content_type=BodyType.Html, content="<p>Agenda</p>")
            event.start = DateTimeTimeZone(date_time=body["start"]["dateTime"], time_zone="UTC")
            event.end = DateTimeTimeZone(date_time=body["end"]["dateTime"], time_zone="UTC")
            event.attendees = [
                GraphAttendee(email_address=EmailAddress(address=GRACE, name="Grace"))
            ]
        else:
            event.subject = f"Overleg {i} (bijgewerkt)"
            event.body = ItemBody(content_type=BodyType.Html, content=f"<p>Punt {i}</p>")
        return event

    def create_event(self, i: int) -> str:
        created = self._run(self._user.events.post(self._event(i, full=True)))
        return str(created.id)

    def update_event(self, event_id: str, i: int) -> object:
        return self._run(self._user.events.by_event_id(event_id).patch(self._event(i, full=False)))

    def delete_event(self, event_id: str) -> None:
        self._run(self._user.events.by_event_id(event_id).delete())

    def close(self) -> None:
        self._loop.close()


def _google_service(w: Wire) -> Any:
    """googleapiclient's calendar client from the shipped document, rooted at the emulator."""
    from googleapiclient.discovery import build_from_document

    from connectors.google import discovery_document

    return build_from_document(
        discovery_document("calendar", w.base_url),
        credentials=Credentials(token=w.tokens[ADA]),
    )


class Gcsa(Client):
    """gcsa's `GoogleCalendar` with its service built against the emulator."""

    name = "gcsa"

    def __init__(self, w: Wire) -> None:
        from gcsa.google_calendar import GoogleCalendar

        # GoogleCalendar() builds a client for googleapis.com; give it ours instead.
        self._gc = GoogleCalendar.__new__(GoogleCalendar)
        self._gc.default_calendar = "primary"
        self._gc.credentials = Credentials(token=w.tokens[ADA])
        self._gc.service = _google_service(w)
        self._made: dict[str, Any] = {}

    def get_event(self, event_id: str) -> object:
        return self._gc.get_event(event_id)

    def list_25(self, start: datetime, end: datetime) -> int:
        found = self._gc.get_events(
            time_min=start, time_max=end, single_events=True, timezone="UTC", maxResults=250
        )
        return len(list(found))

    def create_event(self, i: int) -> str:
        from gcsa.attendee import Attendee as GcsaAttendee
        from gcsa.event import Event

        start = _start(i)
        event = Event(
            f"Overleg {i}",
            start=start,
            end=start + timedelta(hours=1),
            timezone="UTC",
            description="<p>Agenda</p>",
            attendees=[GcsaAttendee(GRACE, display_name="Grace")],
        )
        added = self._gc.add_event(event)
        self._made[str(added.event_id)] = added
        return str(added.event_id)

    def update_event(self, event_id: str, i: int) -> object:
        # gcsa updates with events.update (the whole event): the object the create returned, as
        # a caller would keep it (else one GET first).
        event = self._made.pop(event_id, None) or self._gc.get_event(event_id)
        event.summary = f"Overleg {i} (bijgewerkt)"
        event.description = f"<p>Punt {i}</p>"
        return self._gc.update_event(event)

    def delete_event(self, event_id: str) -> None:
        self._gc.delete_event(event_id)


class SdkGoogle(Client):
    """googleapiclient used as its samples show: ``service.events().get(...).execute()``."""

    name = "sdk"

    def __init__(self, w: Wire) -> None:
        self._service = _google_service(w)

    def get_event(self, event_id: str) -> object:
        return self._service.events().get(calendarId="primary", eventId=event_id).execute()

    def list_25(self, start: datetime, end: datetime) -> int:
        found = (
            self._service.events()
            .list(
                calendarId="primary",
                timeMin=start.isoformat(),
                timeMax=end.isoformat(),
                singleEvents=True,
                maxResults=250,
            )
            .execute()
        )
        return len(found["items"])

    def create_event(self, i: int) -> str:
        events = self._service.events()
        return str(events.insert(calendarId="primary", body=_google_body(i)).execute()["id"])

    def update_event(self, event_id: str, i: int) -> object:
        body = {"summary": f"Overleg {i} (bijgewerkt)", "description": f"<p>Punt {i}</p>"}
        events = self._service.events()
        return events.patch(calendarId="primary", eventId=event_id, body=body).execute()

    def delete_event(self, event_id: str) -> None:
        self._service.events().delete(calendarId="primary", eventId=event_id).execute()


KINDS = ("connector", "raw", "peer", "sdk")


def clients(w: Wire, kinds: tuple[str, ...] = KINDS) -> list[Client]:
    """The clients of `w`'s provider named in `kinds` (``peer``: python-o365 or gcsa)."""
    if w.name == "graph":
        made = {"connector": Connector, "raw": RawGraph, "peer": O365Graph, "sdk": SdkGraph}
    else:
        made = {"connector": Connector, "raw": RawGoogle, "peer": Gcsa, "sdk": SdkGoogle}
    return [made[kind](w) for kind in kinds]


# -- the run -------------------------------------------------------------------------------------


def seed(w: Wire) -> tuple[str, tuple[datetime, datetime]]:
    """`LISTED` events (one with an attachment) in a window of Ada's calendar; the one's id."""
    calendar = account(w).calendar(ADA)
    ids = []
    for n in range(LISTED):
        event = meeting(f"Gesprek {n}", WINDOW_START + timedelta(days=n, hours=1))
        ids.append(calendar.create_event(event, idempotency_key=f"bench-seed-{n}").id)
    calendar.add_attachment(ids[0], "agenda.html", b"<p>" + b"x" * 2000 + b"</p>", "text/html")
    return ids[0], (WINDOW_START, WINDOW_START + timedelta(days=LISTED))


def measure(
    name: str,
    latencies: tuple[float, ...],
    samples: dict[float, int],
    warm: int = 3,
    kinds: tuple[str, ...] = KINDS,
) -> dict[str, Any]:
    """Per latency, per operation, per client: p50/p95, ratio to raw, requests per call."""
    out: dict[str, Any] = {}
    with wire(name) as w:
        if name == "graph":
            w.capture.app = _Calendars(w.capture.app)
        event_id, window = seed(w)
        every = clients(w, kinds)
        counter = [0]
        try:
            for latency in latencies:
                w.network.latency_ms = latency
                times: dict[str, dict[str, list[float]]] = {op: {} for op in OPS}
                requests: dict[str, dict[str, int]] = {op: {} for op in OPS}
                rounds = samples[latency]
                for i in range(-warm, rounds):
                    order = every[i % len(every) :] + every[: i % len(every)]
                    for client in order:
                        _sample(
                            client,
                            w,
                            i=i,
                            event_id=event_id,
                            window=window,
                            counter=counter,
                            times=times,
                            requests=requests,
                            keep=i >= 0,
                        )
                out[f"{latency:g}ms"] = _summarise(times, requests, rounds)
        finally:
            w.network.latency_ms = 0
            for client in every:
                client.close()
    return out


def _sample(
    client: Client,
    w: Wire,
    *,
    i: int,
    event_id: str,
    window: tuple[datetime, datetime],
    counter: list[int],
    times: dict[str, dict[str, list[float]]],
    requests: dict[str, dict[str, int]],
    keep: bool,
) -> None:
    """One call of each operation by `client` (create, update and delete on one new event)."""
    counter[0] += 1
    n = counter[0]
    created: list[str] = []
    steps: list[tuple[str, Callable[[], object]]] = [
        ("get_event", lambda: client.get_event(event_id)),
        ("list_25", lambda: _check_listed(client.list_25(*window))),
        ("create_event", lambda: created.append(client.create_event(n))),
        ("update_event", lambda: client.update_event(created[0], n)),
        ("delete_event", lambda: client.delete_event(created[0])),
        ("drive_roundtrip", lambda: client.drive_roundtrip(n)),
    ]
    for op, step in steps:
        if op == "drive_roundtrip" and (w.name != "graph" or client.name == "sdk"):
            continue
        before = w.requests()
        t0 = time.perf_counter()
        step()
        elapsed = (time.perf_counter() - t0) * 1000
        if keep:
            times[op].setdefault(client.name, []).append(elapsed)
            sent = requests[op].get(client.name, 0)
            requests[op][client.name] = sent + w.requests() - before


def _check_listed(found: int) -> None:
    if found != LISTED:
        raise RuntimeError(f"listed {found} events, expected {LISTED}")


def _summarise(
    times: dict[str, dict[str, list[float]]], requests: dict[str, dict[str, int]], rounds: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for op, per_client in times.items():
        if not per_client:
            continue
        stats = {who: summary(samples) for who, samples in per_client.items()}
        floor = stats["raw"]["p50_ms"] if "raw" in stats else 0.0
        out[op] = {
            who: {
                "p50_ms": s["p50_ms"],
                "p95_ms": s["p95_ms"],
                "ratio": ratio(s["p50_ms"], floor),
                "requests_per_call": round(requests[op][who] / rounds, 2),
            }
            for who, s in stats.items()
        }
    return out


def main() -> None:
    """Print the comparison for both providers (a quick run)."""
    for name in ("graph", "google"):
        print(name, json.dumps(measure(name, (0.0, 50.0), {0.0: 20, 50.0: 3}), indent=1))


if __name__ == "__main__":
    main()
