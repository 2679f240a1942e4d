"""GraphDrive.get on a known file: one round trip through the remembered download URL, and never
bytes that disagree with the metadata read with them (another writer, a stale or expired URL, an
item without hashes)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors.errors import NotFound
from connectors.graph import GraphAccount, GraphDrive, StaticToken
from emulators._graph_drive import DOWNLOAD_URL_LIFETIME
from emulators.graph import GraphEmulator
from emulators.network import Network
from emulators.serve import Server

ADA = "ada@example.org"
LATENCY_MS = 100.0


@dataclass(frozen=True)
class Seen:
    """One request: method, path, and when it was taken in and answered (perf_counter)."""

    method: str
    path: str
    start: float
    end: float


class Timeline:
    """WSGI middleware noting each request's interval; `rewrite` may replace an answer."""

    def __init__(self, app: Any) -> None:
        """Record in front of `app`."""
        self.app = app
        self.seen: list[Seen] = []
        self.rewrite: Callable[[str, int, bytes], bytes | None] | None = None
        self.before: Callable[[str], None] | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Pass the request on (through `before` and `rewrite`) and note its interval."""
        return self._pass(self.app, environ, start_response, record=True)

    def items(self, app: Any) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
        """`app` behind `before` and `rewrite` but not noted: for a ``$batch``'s items, which
        travel inside the one request the timeline notes."""
        return lambda environ, start_response: self._pass(
            app, environ, start_response, record=False
        )

    def _pass(
        self, app: Any, environ: dict[str, Any], start_response: Any, *, record: bool
    ) -> Iterable[bytes]:
        start = time.perf_counter()
        path = environ.get("PATH_INFO", "")
        if self.before is not None:
            self.before(path)
        answer: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer.update(status=status, headers=headers)
            return lambda data: None

        body = b"".join(app(environ, keep))
        status = int(answer["status"].split()[0])
        headers = list(answer["headers"])
        changed = self.rewrite(path, status, body) if self.rewrite is not None else None
        if changed is not None:
            body = changed
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        if record:
            with self._lock:
                self.seen.append(Seen(environ["REQUEST_METHOD"], path, start, time.perf_counter()))
        start_response(answer["status"], headers)
        return [body]

    def clear(self) -> None:
        """Forget what was seen."""
        with self._lock:
            self.seen = []

    def critical_path(self) -> int:
        """The longest chain of requests each starting after the one before had ended."""
        ordered = sorted(self.seen, key=lambda s: s.start)
        depth: list[int] = []
        for n, seen in enumerate(ordered):
            before = [depth[m] for m in range(n) if ordered[m].end <= seen.start]
            depth.append(1 + max(before, default=0))
        return max(depth, default=0)

    def paths(self) -> list[str]:
        """The paths seen, sorted."""
        return sorted(s.path for s in self.seen)


class Clock:
    """The emulator's settable clock."""

    def __init__(self) -> None:
        """Start now."""
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        """The current instant."""
        return self.now


@dataclass
class Rig:
    """An emulator behind a latency network and a timeline, and an account on it."""

    emulator: GraphEmulator
    network: Network
    timeline: Timeline
    clock: Clock
    account: GraphAccount

    def drive(self) -> GraphDrive:
        """Ada's app folder."""
        return self.account.drive(ADA)

    def elsewhere(self, content: bytes) -> None:
        """Another client (its own session) overwrites dossier/r.json."""
        other = GraphAccount(StaticToken(self.emulator.token(ADA)), base_url=self.account.base_url)
        try:
            other.drive(ADA).put("dossier", "r.json", content)
        finally:
            other.close()


@pytest.fixture
def rig() -> Iterator[Rig]:
    """A fresh emulator with latency, served, with Ada's account on it."""
    clock = Clock()
    emulator = GraphEmulator(clock=clock)
    network = Network(emulator, user_of=emulator.user_of, error_body=emulator.error_body)
    timeline = Timeline(network)
    # A $batch's items reach the emulator directly (one request, one latency), rewritten alike.
    emulator.batch_target = timeline.items(emulator)
    with Server(timeline) as server:
        account = GraphAccount(StaticToken(emulator.token(ADA)), base_url=f"{server.url}/v1.0")
        try:
            yield Rig(emulator, network, timeline, clock, account)
        finally:
            account.close()


def measured(rig: Rig, read: Callable[[], Any]) -> Any:
    """Run `read` with latency on every request, from a clean timeline and request count."""
    rig.timeline.clear()
    rig.network.reset_stats()
    rig.network.latency_ms = LATENCY_MS
    try:
        return read()
    finally:
        rig.network.latency_ms = 0.0


def test_a_known_file_is_read_in_one_round_trip(rig: Rig) -> None:
    """Item and versions (one $batch) and the bytes from the remembered URL go at once:
    2 requests, 1 trip."""
    drive = rig.drive()
    drive.put("dossier", "r.json", b"one")
    for expected in (b"one", b"one"):
        got = measured(rig, lambda: drive.get("dossier", "r.json"))
        assert got.content == expected and got.info.version == 1
        assert rig.network.stats.requests == 2
        assert rig.timeline.critical_path() == 1
        paths = rig.timeline.paths()
        assert paths[0] == "/_download/" + paths[0].rpartition("/")[2]
        assert paths[1].endswith("/$batch")


def test_a_file_changed_by_another_writer_is_read_fresh(rig: Rig) -> None:
    """After another client's write the read shows its bytes and its version, still in 1 trip
    (a Business URL serves the item's content at fetch time, checked by hash)."""
    drive = rig.drive()
    drive.put("dossier", "r.json", b"one")
    drive.get("dossier", "r.json")
    rig.elsewhere(b"two, longer")
    got = measured(rig, lambda: drive.get("dossier", "r.json"))
    assert (got.content, got.info.version) == (b"two, longer", 2)
    assert rig.timeline.critical_path() == 1


def test_stale_bytes_from_a_remembered_url_are_refused(rig: Rig) -> None:
    """URLs serving the version they were handed out for (as a fixed-version URL would) after
    another write: their bytes disagree with the metadata, so the fresh URL is used."""
    drive = rig.drive()
    drive.put("dossier", "r.json", b"one")
    old: set[str] = set()
    written: list[bool] = []

    def fixed_version(path: str, status: int, body: bytes) -> bytes | None:
        if path.startswith("/_download/"):
            return b"one" if path in old else None
        if status == 200 and "/drive/" in path and not written:
            url = json.loads(body).get("@microsoft.graph.downloadUrl") or ""
            old.add("/_download/" + url.rpartition("/_download/")[2])
        return None

    rig.timeline.rewrite = fixed_version
    drive.get("dossier", "r.json")
    written.append(True)
    rig.elsewhere(b"two")  # same size: only the hash tells
    got = measured(rig, lambda: drive.get("dossier", "r.json"))
    assert (got.content, got.info.version) == (b"two", 2)
    assert rig.timeline.critical_path() == 2


def test_a_write_between_metadata_and_bytes_is_never_returned(rig: Rig) -> None:
    """A write landing after the item read but before the bytes are served: the bytes are not
    the content the metadata shows, so the read is made again and returns the new pair."""
    drive = rig.drive()
    drive.put("dossier", "r.json", b"one")
    drive.get("dossier", "r.json")
    item_read = threading.Event()
    fired: list[bool] = []

    def after_item(path: str, status: int, body: bytes) -> bytes | None:
        if "/drive/items/" in path and not path.endswith("/versions"):
            item_read.set()
        return None

    def write_first(path: str) -> None:
        if path.startswith("/_download/") and not fired:
            fired.append(True)
            assert item_read.wait(timeout=10)
            rig.elsewhere(b"two!")

    rig.timeline.rewrite = after_item
    rig.timeline.before = write_first
    got = drive.get("dossier", "r.json")
    assert fired
    assert (got.content, got.info.version) == (b"two!", 2)


def test_an_expired_url_falls_back_to_the_fresh_one(rig: Rig) -> None:
    """Past the documented hour the remembered URL answers 401; the item read at the same time
    brought a fresh URL, so the read costs 2 trips, and the next is 1 again."""
    drive = rig.drive()
    drive.put("dossier", "r.json", b"one")
    rig.clock.now += DOWNLOAD_URL_LIFETIME + timedelta(minutes=1)
    got = measured(rig, lambda: drive.get("dossier", "r.json"))
    assert got.content == b"one"
    assert rig.timeline.critical_path() == 2
    again = measured(rig, lambda: drive.get("dossier", "r.json"))
    assert again.content == b"one" and rig.timeline.critical_path() == 1


def test_an_item_without_hashes_is_not_read_on_trust(rig: Rig) -> None:
    """When Graph gives no hash the remembered URL's bytes cannot be checked: the fresh URL is
    used (2 trips), and the bytes are right."""
    drive = rig.drive()
    drive.put("dossier", "r.json", b"one")

    def no_hashes(path: str, status: int, body: bytes) -> bytes | None:
        if "/drive/" not in path or status != 200 or path.endswith("/versions"):
            return None
        data = json.loads(body)
        data.get("file", {}).pop("hashes", None)
        return json.dumps(data).encode()

    rig.timeline.rewrite = no_hashes
    drive.get("dossier", "r.json")
    got = measured(rig, lambda: drive.get("dossier", "r.json"))
    assert got.content == b"one" and rig.timeline.critical_path() == 2


def test_a_known_file_moved_to_another_folder_is_not_read_as_before(rig: Rig) -> None:
    """A file read before, then moved (same name) to another folder, is not found where it
    was: the read by remembered id checks the parent folder, not only the name."""
    drive = rig.drive()
    drive.put("dossier", "r.json", b"een")
    drive.put("archief", "x.json", b"x")
    assert drive.get("dossier", "r.json").content == b"een"
    headers = {"Authorization": f"Bearer {rig.emulator.token(ADA)}"}
    with httpx.Client(base_url=rig.account.base_url, headers=headers) as client:
        found = client.get("/me/drive/special/approot:/archief/x.json").raise_for_status()
        target = found.json()["parentReference"]["id"]
        listed = client.get("/me/drive/special/approot:/dossier/r.json").raise_for_status()
        client.patch(
            f"/me/drive/items/{listed.json()['id']}", json={"parentReference": {"id": target}}
        ).raise_for_status()
    with pytest.raises(NotFound):
        drive.get("dossier", "r.json")
    assert drive.get("archief", "r.json").content == b"een"


def test_a_known_file_deleted_elsewhere_is_not_found(rig: Rig) -> None:
    """The batched item read answers 404: the remembered id is forgotten and the path asked,
    so the file is reported missing, and a new file at that path (a new id) is read."""
    drive = rig.drive()
    drive.put("dossier", "r.json", b"one")
    assert drive.get("dossier", "r.json").content == b"one"
    other = GraphAccount(StaticToken(rig.emulator.token(ADA)), base_url=rig.account.base_url)
    try:
        other.drive(ADA).delete("dossier", "r.json")
        with pytest.raises(NotFound):
            drive.get("dossier", "r.json")
        other.drive(ADA).put("dossier", "r.json", b"two")
    finally:
        other.close()
    assert drive.get("dossier", "r.json").content == b"two"


def test_a_throttled_item_in_the_batch_is_retried(rig: Rig) -> None:
    """Graph throttles a $batch's items one by one: a 429 on the item read is retried after
    its Retry-After, and the read returns the file."""
    drive = rig.drive()
    drive.put("dossier", "r.json", b"one")
    throttled: list[str] = []

    def throttle_once(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if "/drive/items/" in path and not path.endswith("/versions") and not throttled:
            throttled.append(path)
            body = {"error": {"code": "TooManyRequests", "message": "Slow down."}}
            start_response(
                "429 Too Many Requests",
                [("Content-Type", "application/json"), ("Retry-After", "0")],
            )
            return [json.dumps(body).encode()]
        return rig.emulator(environ, start_response)

    rig.emulator.batch_target = throttle_once
    got = drive.get("dossier", "r.json")
    assert throttled and got.content == b"one" and got.info.version == 1
