"""The Google emulator's batch endpoints: parts, Content-IDs, auth and limits as documented."""

from __future__ import annotations

import email
import json
from email.message import Message
from typing import Any

import pytest
from google_checks import ERROR_SCHEMA, validate
from jsonschema import Draft7Validator
from werkzeug.test import Client

from emulators.google import GoogleEmulator

ADA = "ada@example.org"
BOUNDARY = "batch_foobarbaz"
EVENT = {
    "summary": "Batch",
    "start": {"dateTime": "2027-02-01T10:00:00+01:00"},
    "end": {"dateTime": "2027-02-01T11:00:00+01:00"},
}


def part(
    content_id: str, method: str, path: str, body: Any = None, token: str | None = None
) -> str:
    """One application/http part."""
    lines = [f"{method} {path} HTTP/1.1"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines.append("Content-Type: application/json")
        request = "\r\n".join(lines) + "\r\n\r\n" + json.dumps(body)
    else:
        request = "\r\n".join(lines) + "\r\n\r\n"
    return (
        f"--{BOUNDARY}\r\nContent-Type: application/http\r\nContent-ID: <{content_id}>\r\n\r\n"
        f"{request}\r\n"
    )


def send(google: GoogleEmulator, path: str, parts: list[str], token: str | None) -> list[Message]:
    """POST a batch; the answer's parts (each with its parsed inner response)."""
    headers = {"Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = "".join(parts) + f"--{BOUNDARY}--\r\n"
    response = Client(google).post(path, data=data, headers=headers)
    assert response.status_code == 200, response.get_data(True)
    outer = email.message_from_bytes(
        f"Content-Type: {response.headers['Content-Type']}\r\n\r\n".encode() + response.get_data()
    )
    answers = outer.get_payload()
    assert isinstance(answers, list)
    return answers


def inner(answer: Message) -> tuple[int, Any]:
    """The status and JSON body of one answer part."""
    payload = answer.get_payload()
    assert isinstance(payload, str)
    status_line, rest = payload.split("\r\n", 1)
    _, body = rest.split("\r\n\r\n", 1)
    return int(status_line.split()[1]), json.loads(body) if body.strip() else None


@pytest.fixture
def google() -> GoogleEmulator:
    """A fresh emulator."""
    return GoogleEmulator()


def test_parts_answer_in_order_with_response_content_ids(google: GoogleEmulator) -> None:
    """Each part is answered with Content-ID response-<id>; the outer token applies to parts."""
    token = google.token(ADA)
    events = "/calendar/v3/calendars/primary/events"
    answers = send(
        google,
        "/batch/calendar/v3",
        [
            part("item1:12930812@x + 1", "POST", events, EVENT),
            part("item2:12930812@x + 2", "GET", events + "/nosuchevent"),
            part("item3:12930812@x + 3", "GET", events + "?maxResults=5"),
        ],
        token,
    )
    assert [a["Content-ID"] for a in answers] == [
        "<response-item1:12930812@x + 1>",
        "<response-item2:12930812@x + 2>",
        "<response-item3:12930812@x + 3>",
    ]
    (s1, b1), (s2, b2), (s3, b3) = (inner(a) for a in answers)
    assert (s1, s2, s3) == (200, 404, 200)
    validate("calendar", "Event", b1)
    Draft7Validator(ERROR_SCHEMA).validate(b2)
    validate("calendar", "Events", b3)
    assert [e["id"] for e in b3["items"]] == [b1["id"]]


def test_auth_is_per_part(google: GoogleEmulator) -> None:
    """A part's own token wins; a part with a revoked token alone answers 401."""
    ada = google.token(ADA)
    bob = google.token("bob@example.org")
    google.revoke("bob@example.org")
    answers = send(
        google,
        "/batch/drive/v3",
        [
            part("1", "GET", "/drive/v3/files", token=ada),
            part("2", "GET", "/drive/v3/files", token=bob),
            part("3", "GET", "/drive/v3/files"),
        ],
        None,
    )
    statuses = [inner(a)[0] for a in answers]
    assert statuses == [200, 401, 401]
    assert inner(answers[1])[1]["error"]["status"] == "UNAUTHENTICATED"


def test_parts_must_go_to_the_batch_api_and_drive_takes_no_media(google: GoogleEmulator) -> None:
    """A Calendar call in a Drive batch, and a Drive download, are refused part by part."""
    token = google.token(ADA)
    answers = send(
        google,
        "/batch/drive/v3",
        [
            part("1", "GET", "/calendar/v3/calendars/primary/events"),
            part("2", "GET", "/drive/v3/files/abc?alt=media"),
            part("3", "GET", "https://www.googleapis.com/drive/v3/files"),
        ],
        token,
    )
    assert [inner(a)[0] for a in answers] == [400, 400, 200]


@pytest.mark.parametrize(("path", "limit"), [("/batch/drive/v3", 100), ("/batch", 100)])
def test_batch_size_limit(google: GoogleEmulator, path: str, limit: int) -> None:
    """More parts than the documented limit refuse the whole batch with 400."""
    token = google.token(ADA)
    prefix = "/drive/v3/files" if "drive" in path else "/gmail/v1/users/me/messages"
    data = "".join(part(str(i), "GET", prefix) for i in range(limit + 1)) + f"--{BOUNDARY}--"
    response = Client(google).post(
        path,
        data=data,
        headers={
            "Content-Type": f"multipart/mixed; boundary={BOUNDARY}",
            "Authorization": f"Bearer {token}",
        },
    )
    assert response.status_code == 400
    Draft7Validator(ERROR_SCHEMA).validate(response.get_json())
    assert (
        len(send(google, path, [part(str(i), "GET", prefix) for i in range(limit)], token)) == limit
    )


def test_unknown_batch_path_is_404(google: GoogleEmulator) -> None:
    """Only the discovery documents' batch paths exist."""
    response = Client(google).post(
        "/batch/people/v1", data="", headers={"Content-Type": "multipart/mixed; boundary=x"}
    )
    assert response.status_code == 404
