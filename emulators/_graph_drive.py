"""OneDrive for Business, as far as an app folder needs: items, uploads, downloads, versions.

The app folder (``/drive/special/approot``) is ``/Apps/<app name>``, made on first use. Files
are written by simple upload (``PUT ...:/content``, up to 250 MB), which makes missing folders and
keeps every earlier version. Downloads answer 302 to a pre-authenticated URL this emulator also
serves (``/_download/<token>``), as OneDrive does. ``file.mimeType`` comes from the name's
extension, not from the upload's Content-Type, as OneDrive sets it.

Download URLs, as documented for ``@microsoft.graph.downloadUrl``: "short-lived ... only
available for a short period of time (1 hour) before it is invalidated" (the download page
says "a few minutes"; we keep the one figure given, `DOWNLOAD_URL_LIFETIME`). An expired URL
answers 401, as a tenant's ``download.aspx`` does (the docs name no status). An item's URL
serves the item's content when it is fetched, not when it was handed out: a Business URL names
the item (``download.aspx?UniqueId=...``), not a version; a version's URL serves that version.
Hashes are those OneDrive for Business gives: ``quickXorHash`` only (Graph's hashes page: no
``sha1Hash``, ``crc32Hash`` or ``sha256Hash`` there). ``$select`` on items is honoured (the
download URL then comes only when selected, as in Graph's own example), and on a versions
listing.

``PATCH`` on an item renames it (``name``) or moves it (``parentReference`` by ``id`` or
``path``), as driveItem update documents; a name taken in the target folder answers 409
``nameAlreadyExists``.
"""

from __future__ import annotations

import base64
import functools
import mimetypes
import operator
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.wrappers import Response

from emulators._graph_common import GraphError, json_response, short_stamp
from emulators._graph_odata import parse_select

if TYPE_CHECKING:
    from emulators.graph import Call

SIMPLE_UPLOAD_LIMIT = 250 * 1024 * 1024
"""OneDrive's simple upload takes files up to 250 MB."""
DOWNLOAD_URL_LIFETIME = timedelta(hours=1)
"""How long a pre-authenticated download URL serves (driveItem's instance attributes)."""
DOWNLOAD_URL = "@microsoft.graph.downloadUrl"

_BAD_CHARS = re.compile(r'["*:<>?/\\|\x00-\x1f]')
_RESERVED = {
    ".lock",
    "con",
    "prn",
    "aux",
    "nul",
    "desktop.ini",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}
_PATH = re.compile(
    r"^/drives?(?:/[^/]+)?/(?P<base>special/approot|items/[^/:]+|root)"
    r"(?::(?P<path>/.*?):?)?"
    r"(?P<tail>/children|/content|/versions(?:/[^/]+(?:/content)?)?)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Target:
    """A parsed drive path: the base item, a path below it, and what is asked of it."""

    base: str
    path: str | None
    tail: str


def match(tail: str) -> Target | None:
    """The drive target a path (after ``/me``) names, or None when it is not a drive path."""
    found = _PATH.match(tail)
    if not found:
        return None
    return Target(found["base"], found["path"], found["tail"] or "")


def quick_xor_hash(data: bytes) -> str:
    """OneDrive's QuickXorHash: bytes xored into a 160-bit ring at 11-bit steps, plus length.

    The connector has its own (`connectors._graph_hash`); this one is written apart from it on
    purpose, an independent oracle, so a mistake in either shows as a hash mismatch in tests.
    Byte ``i`` lands at bit ``11 * i`` of the ring, which repeats every 160 bytes: each of the
    160 columns ``data[k::160]`` is xored down to one byte (in C), then shifted into place.
    """
    width, shift = 160, 11
    ring = 0
    mask = (1 << width) - 1
    for column in range(min(width, len(data))):
        byte = functools.reduce(operator.xor, data[column::width], 0)
        position = (column * shift) % width
        ring ^= ((byte << position) | (byte >> (width - position))) & mask
    raw = bytearray(ring.to_bytes(20, "little"))
    for index, value in enumerate(len(data).to_bytes(8, "little")):
        raw[12 + index] ^= value
    return base64.b64encode(bytes(raw)).decode()


def _invalid(message: str) -> GraphError:
    return GraphError(400, "invalidRequest", message)


def check_name(name: str) -> None:
    """Refuse a name OneDrive refuses: bad characters, reserved names, dots, edge spaces."""
    if not name or name in (".", ".."):
        raise _invalid("The name is empty or not a valid item name.")
    if _BAD_CHARS.search(name):
        raise _invalid(f"The name '{name}' contains characters that aren't allowed.")
    if name != name.strip() or name.endswith(".") or name.lower() in _RESERVED:
        raise _invalid(f"The name '{name}' isn't allowed.")
    if name.lower().startswith("~$") or "_vti_" in name.lower():
        raise _invalid(f"The name '{name}' isn't allowed.")


@dataclass
class Version:
    """One kept version of a file's content."""

    number: int
    content: bytes
    modified: datetime
    _hash: str | None = field(default=None, repr=False, compare=False)

    @property
    def quick_xor_hash(self) -> str:
        """The content's hash, worked out once: OneDrive stores it with the content, so an
        answer naming it costs the server no pass over the bytes (nor should it here)."""
        if self._hash is None:
            self._hash = quick_xor_hash(self.content)
        return self._hash


@dataclass
class Node:
    """A file or folder in a drive."""

    id: str
    name: str
    parent: str | None
    folder: bool
    created: datetime
    modified: datetime
    guid: str = field(default_factory=lambda: str(uuid.uuid4()).upper())
    generation: int = 1
    versions: list[Version] = field(default_factory=list)
    special: str | None = None
    moves: int = 0
    """Renames and moves: they change the eTag, not the cTag (the content is the same)."""

    @property
    def etag(self) -> str:
        """Changes on every change to the item."""
        return f'"{{{self.guid}}},{self.generation + self.moves}"'

    @property
    def ctag(self) -> str:
        """Changes when the content changes (for files, on every write)."""
        return f'"c:{{{self.guid}}},{self.generation}"'


@dataclass(frozen=True)
class Link:
    """A pre-authenticated download URL: an item (its content when fetched) or one version."""

    owner: str
    node: str
    version: int | None
    expires: datetime


@dataclass
class Drive:
    """One user's OneDrive."""

    id: str
    owner: str
    nodes: dict[str, Node]
    root: str


def _node_id() -> str:
    return "01" + base64.b32encode(secrets.token_bytes(20)).decode()[:32]


class Drives:
    """Every user's drive, plus the pre-authenticated download links handed out."""

    def __init__(self, app_name: str) -> None:
        self._app_name = app_name
        self._drives: dict[str, Drive] = {}
        self._links: dict[str, Link] = {}

    def drive(self, owner: str, now: datetime) -> Drive:
        """The drive of `owner`, made on first use with its root folder."""
        key = owner.lower()
        if key not in self._drives:
            root = Node(_node_id(), "root", None, True, now, now)
            self._drives[key] = Drive(
                "b!" + secrets.token_urlsafe(48)[:64], key, {root.id: root}, root.id
            )
        return self._drives[key]

    # -- tree ----------------------------------------------------------------------------------

    def _child(self, drive: Drive, parent: str, name: str) -> Node | None:
        for node in drive.nodes.values():
            if node.parent == parent and node.name.lower() == name.lower():
                return node
        return None

    def _folder(self, drive: Drive, parent: str, name: str, now: datetime) -> Node:
        found = self._child(drive, parent, name)
        if found is None:
            found = Node(_node_id(), name, parent, True, now, now)
            drive.nodes[found.id] = found
        elif not found.folder:
            raise GraphError(409, "nameAlreadyExists", f"'{name}' is a file, not a folder.")
        return found

    def approot(self, drive: Drive, now: datetime) -> Node:
        """The app's folder, /Apps/<app name>, made on first use as OneDrive does."""
        apps = self._folder(drive, drive.root, "Apps", now)
        node = self._folder(drive, apps.id, self._app_name, now)
        node.special = "approot"
        return node

    def _base(self, call: Call, drive: Drive, base: str) -> Node:
        lowered = base.lower()
        if lowered in ("special/approot", "items/approot"):
            return self.approot(drive, call.now)
        if lowered in ("root", "items/root"):
            return drive.nodes[drive.root]
        node = drive.nodes.get(base.split("/", 1)[1])
        if node is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return node

    @staticmethod
    def _segments(path: str) -> list[str]:
        parts = path.strip("/").split("/")
        if path.strip("/") == "":
            return []
        for part in parts:
            check_name(part)
        return parts

    def _resolve(self, drive: Drive, base: Node, path: str | None) -> Node | None:
        node: Node | None = base
        for part in self._segments(path or ""):
            if node is None:
                return None
            node = self._child(drive, node.id, part)
        return node

    def _path_of(self, drive: Drive, node: Node) -> str:
        names: list[str] = []
        current: Node | None = node
        for _ in range(256):
            if current is None or current.parent is None:
                break
            names.append(current.name)
            current = drive.nodes.get(current.parent)
        return "/drive/root:" + ("/" + "/".join(reversed(names)) if names else "")

    def _subtree(self, drive: Drive, node: Node) -> list[Node]:
        found = [node]
        for _ in range(len(drive.nodes)):
            more = [n for n in drive.nodes.values() if n.parent in {f.id for f in found}]
            new = [n for n in more if n not in found]
            if not new:
                break
            found.extend(new)
        return found

    # -- JSON ----------------------------------------------------------------------------------

    def to_json(
        self, call: Call, drive: Drive, node: Node, select: set[str] | None = None
    ) -> dict[str, Any]:
        """The driveItem as OneDrive for Business returns it (only `select`ed properties)."""
        who = {"user": {"displayName": call.user.name, "id": call.user.id}}
        path = self._path_of(drive, node)
        data: dict[str, Any] = {
            "createdDateTime": short_stamp(node.created),
            "eTag": node.etag,
            "id": node.id,
            "lastModifiedDateTime": short_stamp(node.modified),
            "name": node.name,
            "webUrl": "https://contoso-my.sharepoint.com/personal/"
            + re.sub(r"\W", "_", drive.owner)
            + "/Documents"
            + quote(path.removeprefix("/drive/root:")),
            "cTag": node.ctag,
            "size": sum(self._size(drive, n) for n in [node]),
            "createdBy": who,
            "lastModifiedBy": who,
            "fileSystemInfo": {
                "createdDateTime": short_stamp(node.created),
                "lastModifiedDateTime": short_stamp(node.modified),
            },
        }
        if node.parent is not None:
            parent = drive.nodes[node.parent]
            data["parentReference"] = {
                "driveType": "business",
                "driveId": drive.id,
                "id": parent.id,
                "name": parent.name,
                "path": self._path_of(drive, parent),
            }
        if node.folder:
            children = [n for n in drive.nodes.values() if n.parent == node.id]
            data["folder"] = {"childCount": len(children)}
            if node.special:
                data["specialFolder"] = {"name": node.special}
        else:
            current = node.versions[-1]
            if select is None or DOWNLOAD_URL in select:
                data[DOWNLOAD_URL] = self._link(call, drive, node, None)
            data["file"] = {
                "mimeType": _mime(node.name),
                "hashes": {"quickXorHash": current.quick_xor_hash},
            }
        if select is not None:
            data = {k: v for k, v in data.items() if k in select}
        return data

    def _size(self, drive: Drive, node: Node) -> int:
        if not node.folder:
            return len(node.versions[-1].content)
        return sum(self._size(drive, n) for n in drive.nodes.values() if n.parent == node.id)

    def _link(self, call: Call, drive: Drive, node: Node, version: int | None) -> str:
        """A new download URL; `version` None serves the item's content when fetched."""
        # Links are kept in the order handed out, so the expired ones lead: drop them.
        stale = []
        for token, link in self._links.items():
            if link.expires > call.now:
                break
            stale.append(token)
        for token in stale:
            del self._links[token]
        token = secrets.token_urlsafe(24)
        self._links[token] = Link(drive.owner, node.id, version, call.now + DOWNLOAD_URL_LIFETIME)
        return f"{call.base}/_download/{token}"

    def download(self, token: str, now: datetime) -> Response:
        """Serve a pre-authenticated download link (no bearer token needed)."""
        found = self._links.get(token)
        if found is not None and found.expires <= now:
            raise GraphError(401, "unauthenticated", "The download URL has expired.")
        drive = self._drives.get(found.owner) if found else None
        node = drive.nodes.get(found.node) if drive and found else None
        if found is None or node is None or node.folder:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        if found.version is None:
            response = Response(node.versions[-1].content, content_type=_mime(node.name))
            # Docs are silent; a tenant's download answers carry the item's eTag as ETag.
            response.headers["ETag"] = node.etag
            return response
        version = next((v for v in node.versions if v.number == found.version), None)
        if version is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return Response(version.content, content_type=_mime(node.name))

    # -- requests ------------------------------------------------------------------------------

    def handle(self, call: Call, target: Target) -> Response:
        """Answer one drive request."""
        drive = self.drive(call.owner, call.now)
        base = self._base(call, drive, target.base)
        method = call.request.method
        tail = target.tail.lower()
        if tail == "/content" and method == "PUT":
            written, created = self._upload(call, drive, base, target.path)
            return json_response(self._entity(call, drive, written), 201 if created else 200)
        node = self._resolve(drive, base, target.path)
        if node is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        select = parse_select(call.arg("$select"))
        if tail == "":
            if method == "GET":
                return json_response(self._entity(call, drive, node, select))
            if method == "DELETE":
                self._delete(call, drive, node)
                return Response(status=204)
            if method == "PATCH":
                self._update(call, drive, node)
                return json_response(self._entity(call, drive, node))
        elif tail == "/children" and method == "GET":
            children = sorted(
                (n for n in drive.nodes.values() if n.parent == node.id),
                key=lambda n: n.name.lower(),
            )
            return json_response(
                {
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#drives('"
                    + drive.id
                    + "')/items",
                    "value": [self.to_json(call, drive, n, select) for n in children],
                }
            )
        elif tail == "/content" and method == "GET":
            if node.folder:
                raise GraphError(400, "invalidRequest", "A folder has no content to download.")
            return _redirect(self._link(call, drive, node, None))
        elif tail.startswith("/versions") and method == "GET":
            return self._versions(call, drive, node, target.tail)
        raise GraphError(
            405, "invalidRequest", "Specified HTTP method is not allowed for the request target."
        )

    def _entity(
        self, call: Call, drive: Drive, node: Node, select: set[str] | None = None
    ) -> dict[str, Any]:
        context = f"https://graph.microsoft.com/v1.0/$metadata#drives('{drive.id}')/items/$entity"
        return {"@odata.context": context, **self.to_json(call, drive, node, select)}

    def _check_if_match(self, call: Call, node: Node | None) -> None:
        headers = call.request.headers
        wanted = headers.get("If-Match")
        if wanted is not None and wanted.strip() != "*":
            # OneDrive's eTags hold a comma, so split the header on its quoted tags.
            tags = {t.removeprefix("W/") for t in re.findall(r'(?:W/)?"[^"]*"', wanted)}
            tags.add(wanted.strip())
            if node is None or not tags & {node.etag, node.ctag}:
                raise GraphError(
                    412, "resourceModified", "ETag does not match current item's value"
                )
        if wanted is not None and wanted.strip() == "*" and node is None:
            raise GraphError(412, "resourceModified", "The item does not exist.")
        if headers.get("If-None-Match", "").strip() == "*" and node is not None:
            raise GraphError(412, "resourceModified", "The item already exists.")

    def _upload(self, call: Call, drive: Drive, base: Node, path: str | None) -> tuple[Node, bool]:
        content = call.request.get_data()
        if len(content) > SIMPLE_UPLOAD_LIMIT:
            raise GraphError(
                413, "requestTooLarge", "Simple upload takes up to 250 MB: use an upload session."
            )
        parts = self._segments(path or "")
        if not parts:
            if base.folder:
                raise _invalid("Give a file name to upload to.")
            existing: Node | None = base
            parent_id = base.parent or drive.root
            name = base.name
        else:
            folder = base
            for part in parts[:-1]:
                folder = self._folder(drive, folder.id, part, call.now)
            parent_id = folder.id
            name = parts[-1]
            existing = self._child(drive, parent_id, name)
        if existing is not None and existing.folder:
            raise GraphError(409, "nameAlreadyExists", f"'{name}' is a folder.")
        self._check_if_match(call, existing)
        behavior = (call.arg("@microsoft.graph.conflictBehavior") or "replace").lower()
        if existing is not None and behavior == "fail":
            raise GraphError(409, "nameAlreadyExists", "The specified item name already exists.")
        if existing is not None and behavior == "rename":
            name = self._free_name(drive, parent_id, name)
            existing = None
        if existing is None:
            node = Node(_node_id(), name, parent_id, False, call.now, call.now)
            node.versions.append(Version(1, content, call.now))
            drive.nodes[node.id] = node
            self._touch_parents(drive, node, call.now)
            return node, True
        existing.versions.append(Version(existing.versions[-1].number + 1, content, call.now))
        existing.generation += 1
        existing.modified = call.now
        self._touch_parents(drive, existing, call.now)
        return existing, False

    def _free_name(self, drive: Drive, parent: str, name: str) -> str:
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        for number in range(1, 10_000):
            candidate = f"{stem} {number}" + (f".{ext}" if dot else "")
            if self._child(drive, parent, candidate) is None:
                return candidate
        raise GraphError(409, "nameAlreadyExists", "No free name is left.")

    @staticmethod
    def _touch_parents(drive: Drive, node: Node, now: datetime) -> None:
        current = drive.nodes.get(node.parent) if node.parent else None
        for _ in range(256):
            if current is None:
                break
            current.generation += 1
            current.modified = now
            current = drive.nodes.get(current.parent) if current.parent else None

    def _update(self, call: Call, drive: Drive, node: Node) -> None:
        """Rename and/or move an item (driveItem update: ``name``, ``parentReference``)."""
        if node.parent is None or node.special:
            raise GraphError(403, "accessDenied", "This item can't be moved or renamed.")
        self._check_if_match(call, node)
        body = call.json()
        name = body.get("name", node.name)
        if not isinstance(name, str):
            raise _invalid("The name must be a string.")
        check_name(name)
        parent = drive.nodes[node.parent]
        reference = body.get("parentReference")
        if reference is not None:
            parent = self._target(drive, reference)
            if parent in self._subtree(drive, node):
                raise _invalid("An item can't be moved into itself.")
        clash = self._child(drive, parent.id, name)
        if clash is not None and clash is not node:
            raise GraphError(409, "nameAlreadyExists", "The specified item name already exists.")
        self._touch_parents(drive, node, call.now)
        node.name, node.parent = name, parent.id
        node.moves += 1
        node.modified = call.now
        self._touch_parents(drive, node, call.now)

    def _target(self, drive: Drive, reference: Any) -> Node:
        """The folder a ``parentReference`` names by ``id`` or by ``path``."""
        if not isinstance(reference, dict) or not (reference.get("id") or reference.get("path")):
            raise _invalid("parentReference needs an id or a path.")
        if reference.get("id"):
            target = drive.nodes.get(str(reference["id"]))
        else:
            path = str(reference["path"])
            if not path.startswith("/drive/root:"):
                raise _invalid(f"The path '{path}' is not a path in this drive.")
            target = self._resolve(drive, drive.nodes[drive.root], path[len("/drive/root:") :])
        if target is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        if not target.folder:
            raise _invalid("The target of a move must be a folder.")
        return target

    def _delete(self, call: Call, drive: Drive, node: Node) -> None:
        if node.parent is None or node.special:
            raise GraphError(403, "accessDenied", "This item can't be deleted.")
        self._check_if_match(call, node)
        for gone in self._subtree(drive, node):
            drive.nodes.pop(gone.id, None)
        self._touch_parents(drive, node, call.now)

    def _versions(self, call: Call, drive: Drive, node: Node, tail: str) -> Response:
        if node.folder:
            raise GraphError(400, "invalidRequest", "Folders have no versions.")
        parts = tail.strip("/").split("/")
        if len(parts) == 1:
            select = parse_select(call.arg("$select"))
            value = [self._version_json(call, v) for v in reversed(node.versions)]
            if select is not None:
                value = [{k: v for k, v in entry.items() if k in select} for entry in value]
            return json_response(
                {
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#drives('"
                    + drive.id
                    + f"')/items('{node.id}')/versions",
                    "value": value,
                }
            )
        version = next((v for v in node.versions if f"{v.number}.0" == parts[1]), None)
        if version is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        if len(parts) == 3:
            return _redirect(self._link(call, drive, node, version.number))
        return json_response(self._version_json(call, version))

    @staticmethod
    def _version_json(call: Call, version: Version) -> dict[str, Any]:
        return {
            "id": f"{version.number}.0",
            "lastModifiedDateTime": short_stamp(version.modified),
            "size": len(version.content),
            "lastModifiedBy": {"user": {"displayName": call.user.name, "id": call.user.id}},
        }


def _mime(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def _redirect(url: str) -> Response:
    response = Response(status=302)
    response.headers["Location"] = url
    return response
