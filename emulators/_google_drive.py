"""Drive v3 as the emulator serves it: files and folders, uploads, revisions, generateIds.

Each user has a My Drive (a root folder) and an ``appDataFolder``. Every content upload makes a new
revision (``headRevisionId``, ``md5Checksum``, ``size``); ``version`` counts every change, metadata
included. Drive v3 has no ETags on files and its reference documents no ``If-Match`` on
``files.update`` or ``files.delete``: the header is ignored here too, as Google ignores it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from emulators._google_http import (
    ApiError,
    Call,
    Reply,
    bad_request,
    not_found,
    page,
    stamp,
)

FOLDER = "application/vnd.google-apps.folder"
Prepared = tuple[dict[str, Any], bytes | None, str | None]
"""Metadata, media and media type of an upload, once read."""
DEFAULT_FIELDS = ("kind", "id", "name", "mimeType")
"""What files.get/create/update answer without ``fields`` (files.list the same per file)."""
WRITABLE = frozenset(
    [
        "name",
        "mimeType",
        "description",
        "parents",
        "appProperties",
        "properties",
        "starred",
        "trashed",
        "originalFilename",
        "modifiedTime",
        "createdTime",
        "viewedByMeTime",
        "writersCanShare",
        "copyRequiresWriterPermission",
        "contentHints",
        "folderColorRgb",
        "id",
    ]
)
READ_ONLY = frozenset(
    [
        "kind",
        "version",
        "size",
        "md5Checksum",
        "sha1Checksum",
        "sha256Checksum",
        "headRevisionId",
        "webViewLink",
        "webContentLink",
        "iconLink",
        "owners",
        "ownedByMe",
        "capabilities",
        "spaces",
        "quotaBytesUsed",
        "explicitlyTrashed",
        "fileExtension",
        "fullFileExtension",
        "lastModifyingUser",
        "modifiedByMe",
        "shared",
        "permissions",
        "permissionIds",
        "thumbnailLink",
        "hasThumbnail",
        "isAppAuthorized",
        "driveId",
        "teamDriveId",
        "trashedTime",
        "trashingUser",
        "exportLinks",
        "viewedByMe",
    ]
)
"""Drive v3 refuses a request that sets a field it does not let clients write."""


class Directory(Protocol):
    """What Drive needs to know about users."""

    def name_of(self, email: str) -> str:
        """The user's display name."""
        ...

    def known(self, email: str) -> bool:
        """Whether `email` is a Google account."""
        ...


@dataclass
class Revision:
    """One stored content version of a file."""

    id: str
    content: bytes
    mime_type: str
    modified: datetime
    original_filename: str
    keep_forever: bool = False

    @property
    def md5(self) -> str:
        """The MD5 checksum, hex."""
        return hashlib.md5(self.content, usedforsecurity=False).hexdigest()


@dataclass
class File:
    """A file or folder in one user's drive."""

    id: str
    owner: str
    name: str
    mime_type: str
    parents: list[str]
    space: str
    created: datetime
    modified: datetime
    version: int = 1
    trashed: bool = False
    description: str | None = None
    app_properties: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    revisions: list[Revision] = field(default_factory=list)
    shares: dict[str, str] = field(default_factory=dict)
    """Users the owner shared the file with: address -> role (reader, commenter, writer)."""

    @property
    def folder(self) -> bool:
        """Whether this is a folder."""
        return self.mime_type == FOLDER


@dataclass
class Session:
    """A resumable upload under way: the call that opened it and the bytes so far."""

    call: Call
    metadata: dict[str, Any]
    mime: str
    total: int | None
    received: bytearray = field(default_factory=bytearray)


def _new_id() -> str:
    """A Drive-looking file id: 33 URL-safe characters starting with 1."""
    return "1" + base64.urlsafe_b64encode(uuid.uuid4().bytes + secrets.token_bytes(8)).decode()[:32]


class DriveApi:
    """The Drive v3 handlers over one shared, lock-guarded store."""

    def __init__(
        self, directory: Directory, now: Callable[[], datetime], counter: Iterator[int]
    ) -> None:
        self.directory = directory
        self.now = now
        self.counter = counter
        self.files: dict[str, File] = {}
        self.roots: dict[str, str] = {}
        self.generated: dict[str, str] = {}
        self.sessions: dict[str, Session] = {}
        """Ids from generateIds not yet used, with the user they were generated for."""

    def reset(self) -> None:
        """Forget every file."""
        self.files.clear()
        self.roots.clear()
        self.generated.clear()
        self.sessions.clear()

    def add_user(self, email: str) -> None:
        """Give a new user a My Drive root folder."""
        if email in self.roots:
            return
        root = File(_new_id(), email, "My Drive", FOLDER, [], "drive", self.now(), self.now())
        self.files[root.id] = root
        self.roots[email] = root.id

    def describe(self, file_id: str) -> dict[str, str] | None:
        """Title, mimeType and iconLink of a file, for calendar attachments."""
        found = self.files.get(file_id)
        if found is None:
            return None
        return {
            "title": found.name,
            "mimeType": found.mime_type,
            "iconLink": _icon(found.mime_type),
        }

    def _file(self, call: Call, file_id: str | None = None, need: str = "writer") -> File:
        """The file, if the caller may `need` it (reader, writer, owner).

        As Drive does: a file the caller has no permission on is "not found" (404); one they
        may see but not change is 403 ``insufficientFilePermissions``.
        """
        wanted = file_id or call.args["fileId"]
        if wanted == "root":
            wanted = self.roots[call.user]
        found = self.files.get(wanted)
        role = None if found is None else _role_of(found, call.user)
        if found is None or role is None:
            raise ApiError(404, f"File not found: {wanted}.", "notFound", location="fileId")
        if _RANK[role] < _RANK[need]:
            raise ApiError(
                403,
                f"The user does not have sufficient permissions for file {wanted}.",
                "insufficientFilePermissions",
            )
        return found

    def resource(self, file: File, viewer: str | None = None) -> dict[str, Any]:
        """The full File resource (what ``fields=*`` shows) as `viewer` (default: the owner)
        sees it."""
        mine = viewer in (None, file.owner)
        out: dict[str, Any] = {
            "kind": "drive#file",
            "id": file.id,
            "name": file.name,
            "mimeType": file.mime_type,
            "starred": False,
            "trashed": file.trashed,
            "explicitlyTrashed": file.trashed,
            "parents": list(file.parents),
            "spaces": [file.space],
            "version": str(file.version),
            "webViewLink": (
                f"https://drive.google.com/drive/folders/{file.id}"
                if file.folder
                else f"https://drive.google.com/file/d/{file.id}/view?usp=drivesdk"
            ),
            "iconLink": _icon(file.mime_type),
            "hasThumbnail": False,
            "viewedByMe": True,
            "createdTime": stamp(file.created),
            "modifiedTime": stamp(file.modified),
            "modifiedByMe": True,
            "owners": [self._user(file.owner)],
            "lastModifyingUser": self._user(file.owner),
            "shared": bool(file.shares),
            "ownedByMe": mine,
            "quotaBytesUsed": "0",
            "isAppAuthorized": True,
        }
        if not file.parents:
            del out["parents"]
        if file.description is not None:
            out["description"] = file.description
        if file.app_properties:
            out["appProperties"] = dict(file.app_properties)
        if file.properties:
            out["properties"] = dict(file.properties)
        if file.revisions:
            head = file.revisions[-1]
            out.update(
                {
                    "originalFilename": head.original_filename,
                    "size": str(len(head.content)),
                    "quotaBytesUsed": str(len(head.content)),
                    "md5Checksum": head.md5,
                    "headRevisionId": head.id,
                    "webContentLink": (f"https://drive.google.com/uc?id={file.id}&export=download"),
                }
            )
            if "." in file.name:
                out["fileExtension"] = file.name.rsplit(".", 1)[1]
                out["fullFileExtension"] = file.name.split(".", 1)[1]
        return out

    def _user(self, email: str) -> dict[str, Any]:
        return {
            "kind": "drive#user",
            "displayName": self.directory.name_of(email) or email,
            "me": True,
            "permissionId": hashlib.sha1(email.encode(), usedforsecurity=False).hexdigest()[:20],
            "emailAddress": email,
        }

    def _answer(self, call: Call, file: File) -> Reply:
        full = self.resource(file, call.user)
        if call.query.get("fields"):
            return Reply(200, full)
        return Reply(200, {k: full[k] for k in DEFAULT_FIELDS})

    def _metadata(self, call: Call, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        """Validated writable metadata: unknown or read-only fields are refused (v3 does)."""
        for key in body:
            if key in READ_ONLY or key not in WRITABLE or (key == "id" and not creating):
                raise ApiError(
                    403,
                    f"The resource body includes fields which are not directly writable: {key}",
                    "fieldNotWritable",
                )
        if creating and "parents" in body:
            parents = body["parents"]
            if not isinstance(parents, list) or len(parents) > 1:
                raise bad_request("A shared drive item must have exactly one parent.", "invalid")
            for parent in parents:
                if parent == "appDataFolder":
                    continue
                target = self._file(call, parent)
                if not target.folder:
                    raise bad_request("The parent is not a folder.", "invalid")
        return body

    def _upload(self, call: Call) -> tuple[dict[str, Any], bytes | None, str | None]:
        """The metadata and media of a request, by its ``uploadType``."""
        upload_type = call.query.get("uploadType")
        if not call.path.startswith("/upload/"):
            if upload_type is not None and upload_type not in ("media", "multipart"):
                raise bad_request("Invalid uploadType.", location="uploadType")
            return call.json(), None, None
        if upload_type in (None, "media"):
            mime = call.content_type.split(";")[0].strip() or "application/octet-stream"
            return {}, call.body, mime
        if upload_type == "multipart":
            return parse_related(call)
        raise bad_request(f"Invalid upload type: {upload_type}", location="uploadType")

    # -- resumable uploads --------------------------------------------------------------------

    def _open_session(self, call: Call, *, creating: bool) -> Reply:
        """Start a resumable upload: the metadata is checked now, the bytes come by PUT."""
        metadata = self._metadata(call, call.json(), creating=creating)
        mime = call.header("X-Upload-Content-Type") or "application/octet-stream"
        length = call.header("X-Upload-Content-Length")
        upload_id = secrets.token_urlsafe(24)
        self.sessions[upload_id] = Session(call, metadata, mime, int(length) if length else None)
        host = call.header("Host") or "127.0.0.1"
        query = "&".join(f"{k}={v}" for k, v in call.query.items(multi=True) if k != "upload_id")
        path = call.path.removeprefix("/resumable")
        location = f"http://{host}{path}?{query}&upload_id={upload_id}"
        return Reply(200, headers={"Location": location, "X-GUploader-UploadID": upload_id})

    def resume(self, call: Call) -> Reply:
        """PUT to a session URI: a chunk (``Content-Range``), or a status probe."""
        session = self.sessions.get(call.query.get("upload_id") or "")
        if session is None or session.call.user != call.user:
            raise not_found("Upload session not found.")
        total = session.total
        content_range = call.header("Content-Range")
        if content_range:
            match = re.fullmatch(r"bytes (\*|(\d+)-(\d+))/(\*|\d+)", content_range.strip())
            if match is None:
                raise bad_request("Invalid Content-Range.", "badContent")
            if match.group(4) != "*":
                total = int(match.group(4))
            if match.group(2) is not None and int(match.group(2)) != len(session.received):
                raise bad_request("Chunk does not continue the upload.", "badContent")
        else:
            total = len(session.received) + len(call.body)
        session.received += call.body
        session.total = total
        if total is None or len(session.received) < total:
            reply = Reply(308)
            if session.received:
                reply.headers["Range"] = f"bytes=0-{len(session.received) - 1}"
            return reply
        del self.sessions[call.query["upload_id"]]
        prepared = (session.metadata, bytes(session.received), session.mime)
        opened = session.call
        if opened.args.get("fileId"):
            return self.update(opened, prepared)
        return self.create(opened, prepared)

    # -- handlers -----------------------------------------------------------------------------

    def generate_ids(self, call: Call) -> Reply:
        """files.generateIds: ids the user may give files.create."""
        count = call.integer("count", 10, 1, 1000)
        space = call.choice("space", ("drive", "appDataFolder"), "drive")
        call.choice("type", ("files", "shortcuts"), "files")
        ids = [_new_id() for _ in range(count)]
        for file_id in ids:
            self.generated[file_id] = call.user
        return Reply(200, {"kind": "drive#generatedIds", "space": space, "ids": ids})

    def create(self, call: Call, prepared: Prepared | None = None) -> Reply:
        """files.create: metadata only, simple (media), multipart or resumable upload."""
        if prepared is None and call.query.get("uploadType") == "resumable":
            return self._open_session(call, creating=True)
        body, media, media_mime = prepared or self._upload(call)
        body = self._metadata(call, body, creating=True)
        file_id = body.get("id")
        if file_id is not None:
            if file_id in self.files:
                raise ApiError(409, "A file already exists with the provided ID.", "fileIdInUse")
            if self.generated.get(file_id) != call.user:
                # Only ids from files.generateIds are usable, and only by their user.
                raise bad_request("The provided file ID is not usable.", "fileIdNotUsable")
            del self.generated[file_id]
        else:
            file_id = _new_id()
        parents = body.get("parents") or [self.roots[call.user]]
        if parents == ["root"]:
            parents = [self.roots[call.user]]
        now = self.now()
        mime = body.get("mimeType") or media_mime or "application/octet-stream"
        new = File(
            file_id,
            call.user,
            body.get("name") or "Untitled",
            mime,
            parents,
            "appDataFolder" if parents == ["appDataFolder"] else "drive",
            now,
            now,
            description=body.get("description"),
            app_properties=dict(body.get("appProperties") or {}),
            properties=dict(body.get("properties") or {}),
        )
        if new.folder and media:
            raise bad_request("Folders cannot have content.", "invalid")
        if media is not None:
            new.revisions.append(self._revision(media or b"", mime, new.name, call))
        self.files[new.id] = new
        return self._answer(call, new)

    def _revision(self, content: bytes, mime: str, name: str, call: Call) -> Revision:
        return Revision(
            f"0B{secrets.token_urlsafe(24)}",
            content,
            mime,
            self.now(),
            name,
            keep_forever=call.flag("keepRevisionForever"),
        )

    def get(self, call: Call) -> Reply:
        """files.get: metadata, or the content with ``alt=media``."""
        found = self._file(call, need="reader")
        if call.query.get("alt") == "media":
            if not found.revisions:
                raise ApiError(
                    403,
                    "Only files with binary content can be downloaded. Use Export with Docs "
                    "Editors files.",
                    "fileNotDownloadable",
                    location="alt",
                )
            head = found.revisions[-1]
            return Reply(200, raw=head.content, content_type=head.mime_type)
        return self._answer(call, found)

    def update(self, call: Call, prepared: Prepared | None = None) -> Reply:
        """files.update (PATCH): metadata, and a new revision when content comes."""
        found = self._file(call)
        if prepared is None and call.query.get("uploadType") == "resumable":
            return self._open_session(call, creating=False)
        body, media, media_mime = prepared or self._upload(call)
        body = self._metadata(call, body, creating=False)
        if "parents" in body:
            raise ApiError(
                403,
                "The parents field is not directly writable in update requests. Use the "
                "addParents and removeParents parameters instead.",
                "fieldNotWritable",
            )
        self._move(call, found)
        for key, attr in (("name", "name"), ("description", "description")):
            if key in body:
                setattr(found, attr, body[key])
        if "trashed" in body:
            found.trashed = bool(body["trashed"])
        for key, store in (
            ("appProperties", found.app_properties),
            ("properties", found.properties),
        ):
            for name, value in (body.get(key) or {}).items():
                if value is None:
                    store.pop(name, None)
                else:
                    store[name] = str(value)
        if "mimeType" in body and media is None and body["mimeType"] != found.mime_type:
            raise bad_request("The MIME type can only change with a new revision.", "invalid")
        if media is not None:
            if found.folder:
                raise bad_request("Folders cannot have content.", "invalid")
            found.mime_type = body.get("mimeType") or media_mime or found.mime_type
            found.revisions.append(self._revision(media, found.mime_type, found.name, call))
        found.version += 1
        found.modified = self.now()
        return self._answer(call, found)

    def _move(self, call: Call, found: File) -> None:
        add = [p for p in (call.query.get("addParents") or "").split(",") if p]
        remove = [p for p in (call.query.get("removeParents") or "").split(",") if p]
        for parent in add:
            if not self._file(call, parent).folder:
                raise bad_request("The parent is not a folder.", "invalid")
        parents = [p for p in found.parents if p not in remove]
        parents += [self._file(call, p).id for p in add if p not in parents]
        if len(parents) > 1:
            raise ApiError(
                403,
                "Increasing the number of parents is not allowed.",
                "cannotAddParent",
            )
        found.parents = parents

    def delete(self, call: Call) -> Reply:
        """files.delete: gone at once with its revisions (and a folder's descendants)."""
        found = self._file(call, need="owner")
        if found.id == self.roots[call.user]:
            raise ApiError(403, "The root folder cannot be deleted.", "cannotDeleteRoot")
        doomed = [found.id]
        for _ in range(len(self.files)):
            children = [f.id for f in self.files.values() if set(f.parents) & set(doomed)]
            new = [c for c in children if c not in doomed]
            if not new:
                break
            doomed.extend(new)
        for file_id in doomed:
            del self.files[file_id]
        return Reply(204)

    def list_files(self, call: Call) -> Reply:
        """files.list with the query subset the connectors use, orderBy and paging."""
        spaces = set((call.query.get("spaces") or "drive").split(","))
        if not spaces <= {"drive", "appDataFolder"}:
            raise bad_request("Invalid spaces.", location="spaces")
        test = compile_query(call.query.get("q") or "", self.roots[call.user])
        found = [
            f
            for f in self.files.values()
            if f.owner == call.user
            and f.space in spaces
            and f.id != self.roots[call.user]
            and test(f)
        ]
        found.sort(key=_order(call.query.get("orderBy")))
        size = call.integer("pageSize", len(found) or 1, 1, 1000, clamp=True)
        if "pageSize" not in call.query:
            size = max(len(found), 1)
        chunk, token = page(found, call.query.get("pageToken"), size)
        mask = call.query.get("fields")
        files = [
            self.resource(f) if mask else {k: self.resource(f)[k] for k in DEFAULT_FIELDS}
            for f in chunk
        ]
        listing: dict[str, Any] = {
            "kind": "drive#fileList",
            "incompleteSearch": False,
            "files": files,
        }
        if token:
            listing["nextPageToken"] = token
        return Reply(200, listing)

    def revisions(self, call: Call) -> Reply:
        """revisions.list, oldest first."""
        found = self._file(call)
        if found.folder:
            raise bad_request("Folders have no revisions.", "revisionsNotSupported")
        mask = call.query.get("fields")
        items = [self._revision_resource(found, r, full=bool(mask)) for r in found.revisions]
        chunk, token = page(
            items, call.query.get("pageToken"), call.integer("pageSize", 200, 1, 1000)
        )
        listing: dict[str, Any] = {"kind": "drive#revisionList", "revisions": chunk}
        if token:
            listing["nextPageToken"] = token
        return Reply(200, listing)

    def revision(self, call: Call) -> Reply:
        """revisions.get: metadata, or the revision's bytes with ``alt=media``."""
        found = self._file(call, need="reader")
        wanted = call.args["revisionId"]
        if wanted == "head" and found.revisions:
            wanted = found.revisions[-1].id
        for item in found.revisions:
            if item.id == wanted:
                if call.query.get("alt") == "media":
                    return Reply(200, raw=item.content, content_type=item.mime_type)
                full = bool(call.query.get("fields"))
                return Reply(200, self._revision_resource(found, item, full=full))
        raise ApiError(404, f"Revision not found: {wanted}.", "notFound", location="revisionId")

    def _revision_resource(self, file: File, item: Revision, *, full: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "drive#revision",
            "id": item.id,
            "mimeType": item.mime_type,
            "modifiedTime": stamp(item.modified),
        }
        if full:
            out.update(
                {
                    "keepForever": item.keep_forever,
                    "published": False,
                    "lastModifyingUser": self._user(file.owner),
                    "originalFilename": item.original_filename,
                    "md5Checksum": item.md5,
                    "size": str(len(item.content)),
                }
            )
        return out

    # -- permissions ----------------------------------------------------------------------------

    def permission(self, email: str, role: str) -> dict[str, Any]:
        """A user's Permission resource (its id is the user's stable permission id)."""
        return {
            "kind": "drive#permission",
            "id": self._user(email)["permissionId"],
            "type": "user",
            "role": role,
            "emailAddress": email,
            "displayName": self.directory.name_of(email) or email,
            "deleted": False,
            "pendingOwner": False,
        }

    def _permissions(self, file: File) -> list[dict[str, Any]]:
        owner = self.permission(file.owner, "owner")
        return [owner, *(self.permission(e, r) for e, r in file.shares.items())]

    def create_permission(self, call: Call) -> Reply:
        """permissions.create for users: the owner (or a writer) shares the file.

        Sharing with someone who has a permission already changes their role, as Drive does.
        """
        found = self._file(call, need="writer")
        body = call.json()
        send = call.flag("sendNotificationEmail", True)
        role, kind = body.get("role"), body.get("type")
        if not role:
            raise _required("role")
        if not kind:
            raise _required("type")
        if role not in _ROLES:
            raise bad_request(f"The permission role '{role}' is invalid.", "invalid")
        if kind not in ("user", "group", "domain", "anyone"):
            raise bad_request(f"The permission type '{kind}' is invalid.", "invalid")
        if kind != "user":
            # The product shares with people only; other grantees are not emulated.
            raise ApiError(501, f"Permissions of type {kind} are not emulated.", "notImplemented")
        if role == "owner" and not call.flag("transferOwnership"):
            raise ApiError(
                403,
                "The transferOwnership parameter must be enabled when the permission role is "
                "'owner'.",
                "forbidden",
            )
        if role in ("owner", "organizer", "fileOrganizer"):
            raise ApiError(501, f"Role {role} is not emulated.", "notImplemented")
        email = str(body.get("emailAddress") or "").strip().lower()
        if not email:
            raise _required("emailAddress")
        if not self.directory.known(email) and not send:
            raise bad_request(
                f'Bad Request. User message: "You are trying to invite {email}. Since there is '
                "no Google account associated with this email address, you must check the "
                "'Notify people' box to invite this recipient.\"",
                "invalidSharingRequest",
            )
        if email != found.owner:
            found.shares[email] = role
            found.version += 1
        permission = self.permission(email, found.shares.get(email, "owner"))
        if call.query.get("fields"):
            return Reply(200, permission)
        return Reply(200, {k: permission[k] for k in ("kind", "id", "type", "role")})

    def list_permissions(self, call: Call) -> Reply:
        """permissions.list: the owner's and every share (writers may list them)."""
        found = self._file(call, need="writer")
        items = self._permissions(found)
        if not call.query.get("fields"):
            items = [{k: p[k] for k in ("kind", "id", "type", "role")} for p in items]
        return Reply(200, {"kind": "drive#permissionList", "permissions": items})


_ROLES = ("owner", "organizer", "fileOrganizer", "writer", "commenter", "reader")
_RANK = {"reader": 0, "commenter": 1, "writer": 2, "owner": 3}


def _role_of(file: File, user: str) -> str | None:
    if file.owner == user:
        return "owner"
    return file.shares.get(user)


def _required(name: str) -> ApiError:
    return bad_request(
        f"The permission {name} field is required.",
        "required",
        location=f"permission.{name}",
        location_type="other",
    )


def _icon(mime: str) -> str:
    return f"https://drive-thirdparty.googleusercontent.com/16/type/{mime}"


def _order(order_by: str | None) -> Callable[[File], Any]:
    """A sort key for ``orderBy`` (name, createdTime, modifiedTime, folder; ``desc`` allowed)."""
    keys: list[tuple[str, bool]] = []
    for part in (order_by or "name").split(","):
        words = part.strip().split()
        if not words or words[0] not in ("name", "createdTime", "modifiedTime", "folder"):
            raise bad_request(f"Invalid orderBy: {order_by}", location="orderBy")
        keys.append((words[0], len(words) > 1 and words[1].lower() == "desc"))

    def key(file: File) -> tuple[Any, ...]:
        values: list[Any] = []
        for name, desc in keys:
            value: Any = {
                "name": file.name,
                "createdTime": file.created.timestamp(),
                "modifiedTime": file.modified.timestamp(),
                "folder": 0 if file.folder else 1,
            }[name]
            if desc:
                value = _Reversed(value)
            values.append(value)
        return (*values, file.id)

    return key


@dataclass(frozen=True)
class _Reversed:
    value: Any

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)


# -- the ``q`` language, in the subset we use -----------------------------------------------------

_TOKEN = re.compile(r"\s*(?:('(?:\\.|[^'\\])*')|(!=|=)|(\w+))")


def compile_query(query: str, root: str) -> Callable[[File], bool]:
    """A predicate for ``name = 'x'``, ``'id' in parents``, ``mimeType = 'x'``, ``mimeType !=
    'x'``, ``trashed = true|false``, joined by ``and``. Anything else is a 400, as an unknown
    query term would be on Drive."""
    tokens = _tokens(query)
    tests: list[Callable[[File], bool]] = []
    position = 0
    for _ in range(len(tokens) + 1):
        if position >= len(tokens):
            break
        test, position = _term(tokens, position, root, query)
        tests.append(test)
        if position < len(tokens):
            if tokens[position] != "and":
                raise _bad_query(query)
            position += 1
    return lambda file: all(test(file) for test in tests)


def _tokens(query: str) -> list[str]:
    tokens = []
    position = 0
    stripped = query.rstrip()
    for _ in range(len(query) + 1):
        if position >= len(stripped):
            break
        match = _TOKEN.match(stripped, position)
        if match is None:
            raise _bad_query(query)
        tokens.append(match.group(0).strip())
        position = match.end()
    return tokens


def _literal(token: str, query: str) -> str:
    if len(token) < 2 or token[0] != "'" or token[-1] != "'":
        raise _bad_query(query)
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _term(
    tokens: list[str], position: int, root: str, query: str
) -> tuple[Callable[[File], bool], int]:
    rest = tokens[position : position + 3]
    if len(rest) < 3:
        raise _bad_query(query)
    left, operator, right = rest
    if operator == "in" and right == "parents":
        parent = _literal(left, query)
        parent = root if parent == "root" else parent
        return (lambda f: parent in f.parents), position + 3
    if left in ("name", "mimeType") and operator in ("=", "!="):
        value = _literal(right, query)
        attr = "name" if left == "name" else "mime_type"
        if operator == "=":
            return (lambda f: getattr(f, attr) == value), position + 3
        return (lambda f: getattr(f, attr) != value), position + 3
    if left == "trashed" and operator in ("=", "!=") and right in ("true", "false"):
        wanted = (right == "true") == (operator == "=")
        return (lambda f: f.trashed == wanted), position + 3
    raise _bad_query(query)


def _bad_query(query: str) -> ApiError:
    return ApiError(400, "Invalid Value", "invalid", location="q")


# -- multipart/related ----------------------------------------------------------------------------


def parse_related(call: Call) -> tuple[dict[str, Any], bytes, str]:
    """The JSON metadata and the media of a ``multipart/related`` upload."""
    parts = split_multipart(call.body, call.content_type)
    if len(parts) != 2:
        raise bad_request("Multipart upload needs a metadata part and a media part.")
    (_, meta), (media_headers, media) = parts
    probe = Call(call.user, call.method, call.path, call.args, call.query, call.headers, meta)
    mime = media_headers.get("content-type", "application/octet-stream").split(";")[0].strip()
    if media_headers.get("content-transfer-encoding", "").lower() == "base64":
        media = base64.b64decode(media)
    return probe.json(), media, mime


def split_multipart(body: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    """Split a MIME multipart body into (lower-cased headers, content) pairs."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise bad_request("Missing multipart boundary.", "badContent")
    delimiter = b"--" + match.group(1).encode()
    chunks = body.split(delimiter)
    # The line break before each delimiter belongs to it (RFC 2046). The body's own framing says
    # which one: googleapiclient frames with LF alone, so content ending in CR keeps its CR.
    newline = b"\r\n" if len(chunks) > 1 and chunks[1].startswith(b"\r\n") else b"\n"
    parts: list[tuple[dict[str, str], bytes]] = []
    for raw in chunks[1:]:
        if raw.startswith(b"--"):
            break
        chunk = raw.removeprefix(newline).removesuffix(newline)
        head, content = _split_head(chunk)
        parts.append((head, content))
    return parts


def _split_head(chunk: bytes) -> tuple[dict[str, str], bytes]:
    """A part's headers (names lower-cased) and its content, split at the first blank line."""
    for blank in (b"\r\n", b"\n"):
        if chunk.startswith(blank):
            return {}, chunk[len(blank) :]
    found = [(i, n) for i, n in ((chunk.find(b"\r\n\r\n"), 4), (chunk.find(b"\n\n"), 2)) if i >= 0]
    if not found:
        return {}, chunk
    index, length = min(found)
    headers: dict[str, str] = {}
    for line in chunk[:index].decode("latin-1").splitlines():
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return headers, chunk[index + length :]
