"""The side-panel API as OpenAPI 3.1; a test holds it against the real routes and answers."""

from __future__ import annotations

from typing import Any

from cadence.suggestions import RULES

Json = dict[str, Any]

_STR: Json = {"type": "string"}
_NSTR: Json = {"type": ["string", "null"]}
_ROLE: Json = {"type": "string", "enum": ["employee", "manager"]}
_ROLES: Json = {"type": "array", "items": _ROLE}
_WHEN: Json = {"type": "string", "format": "date-time"}


def _can(*steps: str) -> Json:
    """What the caller may do now with one thing: the steps to offer, nothing else."""
    return {
        "type": "array",
        "items": {"type": "string", "enum": list(steps)},
        "description": "What the caller may do now: a host offers exactly these steps.",
    }


def _obj(required: list[str], **props: Json) -> Json:
    return {"type": "object", "required": required, "properties": props}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(name: str) -> Json:
    return {"oneOf": [_ref(name), {"type": "null"}]}


_PERSON = _obj(["email", "name"], email=_STR, name=_STR)

SCHEMAS: dict[str, Json] = {
    "ErasureReceipt": _obj(
        ["id", "at", "reason", "employee", "manager", "series", "rows", "signature"],
        id=_STR,
        at=_STR,
        reason={"enum": ["employee", "operator", "retention"]},
        employee=_STR,
        manager=_STR,
        series={
            "type": "array",
            "items": _obj(
                ["series", "key_destroyed", "files_deleted", "drive", "appointments"],
                series=_STR,
                key_destroyed={
                    "type": "boolean",
                    "description": "True: the data key was bound to the server and is gone, "
                    "so no copy of a document opens anywhere.",
                },
                files_deleted={"type": "integer"},
                drive={"type": "string", "description": "deleted, or why it was not reached"},
                appointments={"type": "string", "description": "ended, none, or why not"},
            ),
        },
        rows={"type": "object", "additionalProperties": {"type": "integer"}},
        people_forgotten={"type": "array", "items": _STR},
        signature={"type": "string", "description": "HMAC-SHA256 by the server, hex"},
    ),
    "Error": _obj(
        ["error", "message"],
        error={"type": "string", "description": "A stable code, e.g. conflict or invalid."},
        message={"type": "string", "description": "A sentence in the caller's language."},
    ),
    "SignIn": {
        "allOf": [
            _ref("Error"),
            {
                "type": "object",
                "properties": {
                    "signin": {
                        "enum": ["again", "consent"],
                        "description": (
                            "again: sign in again (the token is unusable or the stored sign-in "
                            "was revoked); consent: grant the permissions in scopes"
                        ),
                    },
                    "scopes": {"type": "array", "items": {"type": "string"}},
                },
            },
        ]
    },
    "Conflict": {
        "allOf": [
            _ref("Error"),
            _obj(
                ["current", "yours"],
                current=_ref("Context"),
                yours={"type": "object", "description": "The request that was not applied."},
            ),
        ]
    },
    "SeriesExists": {
        "allOf": [
            _ref("Error"),
            _obj(["existing"], existing=_ref("ExistingSeries")),
        ]
    },
    "ExistingSeries": _obj(
        ["series", "partner", "next"],
        series=_ref("Series"),
        partner=_PERSON,
        next={**_NSTR, "format": "date-time", "description": "The next conversation, if any."},
    ),
    "Person": _PERSON,
    "Event": _obj(
        ["id", "subject", "start", "end", "organizer", "attendees"],
        id=_STR,
        subject=_STR,
        start=_WHEN,
        end=_WHEN,
        organizer=_STR,
        attendees={"type": "array", "items": _PERSON},
    ),
    "Series": _obj(
        ["id", "employee", "manager", "tz", "description", "duration", "place", "online"],
        id=_STR,
        employee=_PERSON,
        manager=_PERSON,
        tz=_STR,
        description=_STR,
        duration={"type": "integer", "minimum": 30, "maximum": 120},
        place=_STR,
        online={"type": "boolean"},
        event_copy={"type": "string", "enum": ["full", "titles"]},
        template=_STR,
    ),
    "Agenda": _obj(
        ["state", "agreed_by", "themes", "items"],
        state={"type": "string", "enum": ["draft", "shared", "agreed"]},
        agreed_by=_ROLES,
        themes={
            "type": "array",
            "items": _obj(
                ["key", "title"],
                key=_STR,
                title=_STR,
                hint={
                    "type": "string",
                    "description": "The template's hint; empty for a theme of the pair's own.",
                },
                prompts={
                    "type": "array",
                    "items": _STR,
                    "description": "The template's guiding questions for this theme.",
                },
            ),
        },
        items={
            "type": "array",
            "items": _obj(
                ["id", "theme", "title", "notes", "owner", "proposed_by", "carried_from"],
                can=_can("edit", "remove", "move"),
                id=_STR,
                theme=_STR,
                title=_STR,
                notes=_STR,
                owner=_ROLE,
                proposed_by=_ROLE,
                carried_from={
                    "oneOf": [
                        _obj(
                            ["occurrence", "origin", "id"],
                            occurrence=_WHEN,
                            origin={"type": "string", "enum": ["item", "action"]},
                            id=_STR,
                        ),
                        {"type": "null"},
                    ]
                },
            ),
        },
        actions={
            "type": "array",
            "items": _ref("Action"),
            "description": "Actions carried over from earlier conversations, open until done.",
        },
    ),
    "Agreement": _obj(
        ["id", "text", "state", "accepted_by", "waiting_for"],
        id=_STR,
        text=_STR,
        item_id=_STR,
        state={"type": "string", "enum": ["draft", "proposed", "final"]},
        accepted_by=_ROLES,
        waiting_for=_ROLES,
        can=_can("edit", "remove", "propose", "accept", "decline"),
        declined={
            "description": "Who declined it back to draft, when and why (null: not declined).",
            "oneOf": [
                _obj(
                    ["role", "name", "at", "reason"], role=_ROLE, name=_STR, at=_WHEN, reason=_STR
                ),
                {"type": "null"},
            ],
        },
    ),
    "Action": _obj(
        ["id", "description", "owner", "due", "status"],
        id=_STR,
        description=_STR,
        owner=_ROLE,
        due={"type": ["string", "null"], "format": "date"},
        status={"type": "string", "enum": ["open", "done", "dropped"]},
        item_id=_STR,
        can=_can("edit", "mark_done", "drop", "reopen"),
        carried_from=_obj(
            ["occurrence", "origin", "id"],
            occurrence=_WHEN,
            origin={"type": "string", "enum": ["action"]},
            id=_STR,
        ),
    ),
    "Record": _obj(
        ["summaries", "agreements", "actions", "final", "carries"],
        summaries={
            "type": "array",
            "items": _obj(
                ["item_id", "text", "finished"],
                item_id=_STR,
                text=_STR,
                finished={"type": "boolean"},
            ),
        },
        agreements={"type": "array", "items": _ref("Agreement")},
        actions={"type": "array", "items": _ref("Action")},
        final={"type": "boolean"},
        carries=_obj(
            ["items", "actions"],
            items={"type": "array", "items": _obj(["id", "title"], id=_STR, title=_STR)},
            actions={"type": "array", "items": _ref("Action")},
        ),
    ),
    "Turn": _obj(
        ["who", "what", "message"],
        who=_ROLES,
        what={
            "type": "string",
            "enum": [
                "plan",
                "write_agenda",
                "agree_agenda",
                "prepare",
                "write_record",
                "accept",
                "done",
            ],
        },
        message=_STR,
    ),
    "Context": _obj(
        [
            "user",
            "event",
            "state",
            "series",
            "occurrence",
            "next_dates",
            "partner",
            "etag",
            "agenda",
            "record",
            "previous",
            "open_actions",
            "turn",
            "preparation",
        ],
        user=_obj(
            ["email", "name", "role"],
            email=_STR,
            name=_STR,
            role={"type": ["string", "null"], "enum": ["employee", "manager", None]},
        ),
        event=_ref("Event"),
        state={"type": "string", "enum": ["not_series", "upcoming", "ended", "not_partner"]},
        series=_nullable("Series"),
        occurrence={
            "oneOf": [
                _obj(
                    ["key", "start", "end", "number"],
                    key={"type": "string", "pattern": "^[0-9]{8}T[0-9]{6}Z$"},
                    start=_WHEN,
                    end=_WHEN,
                    number={"type": "integer", "minimum": 1},
                ),
                {"type": "null"},
            ]
        },
        next_dates={"type": "array", "items": _WHEN, "maxItems": 4},
        partner={"oneOf": [_PERSON, {"type": "null"}]},
        existing={
            "description": (
                "not_series only: the series the caller already has with this partner, shown "
                "instead of planning another."
            ),
            "oneOf": [_ref("ExistingSeries"), {"type": "null"}],
        },
        templates={
            "description": "not_series only: the agenda templates to plan with, and the default.",
            **_obj(
                ["default", "choices"],
                default=_STR,
                choices={
                    "type": "array",
                    "items": _obj(
                        ["key", "title", "description", "themes"],
                        key=_STR,
                        title=_STR,
                        description=_STR,
                        themes={"type": "array", "items": _STR},
                    ),
                },
            ),
        },
        feedback_asks={
            "description": (
                "not_series only: requests for feedback waiting for the caller as someone's "
                "colleague (who asks, until when, the link to answer on)."
            ),
            "type": "array",
            "items": _obj(
                ["name", "expires", "questions", "link"],
                name=_STR,
                expires={"type": "string", "format": "date"},
                questions={"type": "integer", "minimum": 1},
                link=_STR,
            ),
        },
        etag=_NSTR,
        pending={
            "type": "boolean",
            "description": (
                "True while this occurrence's document waits on the server because the "
                "employee's drive did not answer; it is put there later, nothing to do."
            ),
        },
        agenda=_nullable("Agenda"),
        record=_nullable("Record"),
        previous={
            "oneOf": [
                _obj(
                    ["occurrence", "agreements", "final"],
                    occurrence=_WHEN,
                    agreements={"type": "array", "items": _ref("Agreement")},
                    final={"type": "boolean"},
                ),
                {"type": "null"},
            ]
        },
        open_actions={"type": "array", "items": _ref("Action")},
        turn=_ref("Turn"),
        can=_obj(
            ["agenda", "record", "series"],
            agenda=_can("add_item", "propose_item", "share", "agree"),
            record=_can("summarise", "add_agreement", "propose_all", "accept_all", "add_action"),
            series=_can("change_event_copy", "change_place", "end"),
        ),
        journal={
            "description": (
                "The pair's journal around this conversation, as the caller may see it (goals, "
                "check-ins, feedback, reflection, time-outs, guests)."
            ),
            **_ref("Journal"),
        },
        preparation=_obj(
            ["questions", "checklist"],
            questions={"type": "array", "items": _obj(["key", "text"], key=_STR, text=_STR)},
            checklist={
                "type": "array",
                "items": _obj(["key", "title", "text"], key=_STR, title=_STR, text=_STR),
            },
        ),
    ),
    "Goal": _obj(
        [
            "id",
            "kind",
            "title",
            "why",
            "horizon",
            "state",
            "accepted_by",
            "waiting_for",
            "status",
            "progress",
            "actions",
            "can",
        ],
        id=_STR,
        kind={"enum": ["development", "results"]},
        title=_STR,
        why=_STR,
        horizon=_NSTR,
        state={"enum": ["draft", "proposed", "agreed"]},
        accepted_by=_ROLES,
        waiting_for=_ROLES,
        status={"enum": ["open", "achieved", "dropped"]},
        progress={
            "type": "array",
            "items": _obj(
                ["at", "role", "note", "occurrence"],
                at=_WHEN,
                role=_ROLE,
                note=_STR,
                occurrence=_STR,
            ),
        },
        actions={"type": "array", "items": _obj(["occurrence", "id"], occurrence=_STR, id=_STR)},
        declined={
            "description": "Who sent the goal back to the employee's draft, when and why.",
            "oneOf": [
                _obj(["role", "at", "reason"], role=_ROLE, at=_WHEN, reason=_STR),
                {"type": "null"},
            ],
        },
        can=_can("accept", "decline", "edit", "propose", "remove", "progress", "link", "status"),
    ),
    "CheckIn": _obj(
        ["at", "occurrence", "energy", "happiness"],
        at=_WHEN,
        occurrence={"type": "string", "description": "The conversation's key; empty in between."},
        energy={"type": "integer", "minimum": 1, "maximum": 5},
        happiness={"type": "integer", "minimum": 1, "maximum": 5},
    ),
    "FeedbackRequest": _obj(
        [
            "id",
            "name",
            "colleague",
            "occurrence",
            "asked_by",
            "asked_at",
            "expires",
            "state",
            "questions",
            "answers",
            "answered_at",
            "shared",
            "discussed",
            "can",
        ],
        id=_STR,
        name=_STR,
        colleague=_STR,
        occurrence=_STR,
        asked_by=_ROLE,
        asked_at=_WHEN,
        expires={"type": "string", "format": "date"},
        expired={"type": "boolean", "description": "Open, but past its last day to answer."},
        state={"enum": ["consent", "open", "answered", "withdrawn"]},
        questions={"type": "array", "items": _STR},
        answers={
            "type": "array",
            "items": _STR,
            "description": "Empty for the manager until the employee shares the answer.",
        },
        answered_at=_NSTR,
        shared={"type": "boolean"},
        discussed={"type": "boolean"},
        link={
            "type": "string",
            "description": "The colleague's link, for the asker to pass on (open requests only).",
        },
        can=_can("consent", "withdraw", "renew", "share", "discussed"),
    ),
    "Journal": _obj(
        [
            "etag",
            "can",
            "goals",
            "checkin",
            "trend",
            "feedback",
            "questions",
            "reflection",
            "reflection_prompts",
            "timeouts",
            "guests",
        ],
        etag=_NSTR,
        pending={"type": "boolean"},
        can=_can(
            "goal.add",
            "goal.accept",
            "goal.progress",
            "checkin",
            "feedback.ask",
            "reflection.write",
            "reflection.share",
            "timeout.ask",
            "guest.invite",
        ),
        goals={"type": "array", "items": _ref("Goal")},
        checkin=_nullable("CheckIn"),
        checkin_between={
            "type": "boolean",
            "description": (
                "True once this conversation is over: a check-in now counts between "
                "conversations, and `checkin` is the latest such one."
            ),
        },
        trend={"type": "array", "items": _ref("CheckIn"), "maxItems": 12},
        feedback={"type": "array", "items": _ref("FeedbackRequest")},
        questions={
            "type": "array",
            "items": _obj(
                ["key", "text", "group", "mode"],
                key=_STR,
                text=_STR,
                group=_STR,
                mode={"enum": ["feedback", "feedforward"]},
            ),
        },
        reflection={
            "oneOf": [
                _obj(["text", "shared", "at"], text=_STR, shared={"type": "boolean"}, at=_WHEN),
                {"type": "null"},
            ]
        },
        reflection_prompts={"type": "array", "items": _STR},
        timeouts={
            "type": "array",
            "items": _obj(
                ["id", "kind", "role", "at", "reason", "open"],
                id=_STR,
                kind={"enum": ["time_out", "other_partner"]},
                role=_ROLE,
                at=_WHEN,
                reason=_STR,
                open={"type": "boolean"},
                can=_can("close"),
            ),
        },
        guests={
            "type": "array",
            "items": _obj(
                ["email", "name", "record", "invited"],
                email=_STR,
                name=_STR,
                record={"type": "boolean"},
                invited={"type": "boolean"},
                can=_can("record", "remove", "send_record"),
            ),
        },
    ),
    "JournalOps": _obj(
        ["ops"],
        event=_STR,
        change_id={"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
        ops={
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": _obj(
                ["op"],
                op={
                    "type": "string",
                    "enum": [
                        "goal.add",
                        "goal.edit",
                        "goal.propose",
                        "goal.accept",
                        "goal.decline",
                        "goal.remove",
                        "goal.status",
                        "goal.progress",
                        "goal.link",
                        "goal.unlink",
                        "checkin",
                        "feedback.ask",
                        "feedback.consent",
                        "feedback.withdraw",
                        "feedback.renew",
                        "feedback.share",
                        "feedback.discussed",
                        "reflection.write",
                        "reflection.share",
                        "timeout.ask",
                        "timeout.close",
                        "guest.invite",
                        "guest.record",
                        "guest.remove",
                        "guest.send_record",
                    ],
                },
            ),
        },
    ),
    "Overview": _obj(
        [
            "suggestions",
            "goals",
            "open_actions",
            "agreements",
            "feedback",
            "trend",
            "conversations",
        ],
        suggestions={
            "type": "array",
            "items": _obj(
                ["rule", "subject", "ref", "params", "title", "reason"],
                rule={"enum": list(RULES)},
                subject=_STR,
                ref=_STR,
                params={"type": "object", "additionalProperties": _STR},
                title=_STR,
                reason={"type": "string", "description": "Why, in one line."},
            ),
        },
        goals={"type": "array", "items": _ref("Goal")},
        open_actions={
            "type": "array",
            "items": _obj(
                ["id", "description", "owner", "due"],
                id=_STR,
                description=_STR,
                owner=_ROLE,
                due=_NSTR,
            ),
        },
        agreements={
            "type": "array",
            "items": _obj(["occurrence", "text", "state"], occurrence=_WHEN, text=_STR, state=_STR),
        },
        feedback={"type": "array", "items": _ref("FeedbackRequest")},
        trend={"type": "array", "items": _ref("CheckIn")},
        conversations={"type": "integer", "minimum": 0},
    ),
    "Preferences": {
        "type": "object",
        "properties": {
            "weekdays": {
                "type": "array",
                "items": {"type": "string", "enum": ["MO", "TU", "WE", "TH", "FR"]},
                "minItems": 1,
                "description": "At least one; left out, TU, WE and TH.",
            },
            "earliest": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
            "latest": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
            "duration": {"type": "integer", "minimum": 30, "maximum": 120},
            "place": {"type": "string", "maxLength": 200},
            "online": {"type": "boolean"},
            "every": {"type": "integer", "minimum": 1, "maximum": 6},
        },
    },
    "PlanRequest": _obj(
        ["partner", "role", "preferences"],
        partner={"type": "string", "format": "email"},
        partner_name=_STR,
        role=_ROLE,
        preferences=_ref("Preferences"),
        request_id={"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
        event_copy={"type": "string", "enum": ["full", "titles"]},
        template={
            "type": "string",
            "description": "An agenda template's key (context.templates); left out, the default.",
        },
        event=_STR,
        tz={
            "type": "string",
            "maxLength": 64,
            "description": (
                "The pair's IANA zone: the conversations keep their clock time in it. Left "
                "out, the employee's own."
            ),
        },
        viewer_tz={
            "type": "string",
            "maxLength": 64,
            "description": (
                "The reader's IANA zone: the proposal's sentence gives their clock time and "
                "names both zones where it differs from the pair's."
            ),
        },
    ),
    "Proposal": _obj(
        ["fits", "sentence", "description", "occurrences", "clashes", "rfc5545"],
        fits={"type": "boolean"},
        sentence=_STR,
        description=_STR,
        occurrences={"type": "array", "items": _WHEN},
        clashes={
            "type": "array",
            "items": _obj(
                ["date", "reasons"],
                date={"type": "string", "format": "date"},
                reasons={"type": "array", "items": _STR},
            ),
        },
        rfc5545={"type": "array", "items": _STR},
        tz=_STR,
        employee=_PERSON,
        manager=_PERSON,
    ),
    "Ops": _obj(
        ["ops"],
        event=_STR,
        change_id={
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{8,64}$",
            "description": (
                "The client's id of this change, made once per change and sent again with every "
                "resend of it. A change whose id the document already holds is not applied again: "
                "the answer is the current context (200), whatever If-Match says, since the etag "
                "the client holds predates that very write. Optional for older clients, which "
                "then get no such protection; both hosts always send it. The document remembers "
                "the last 50 ids."
            ),
        },
        ops={
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": _obj(
                ["op"],
                op={
                    "type": "string",
                    "enum": [
                        "agenda.add_item",
                        "agenda.edit_item",
                        "agenda.remove_item",
                        "agenda.move_item",
                        "agenda.share",
                        "agenda.agree",
                        "agenda.set_action_status",
                        "record.summarise",
                        "record.add_agreement",
                        "record.edit_agreement",
                        "record.remove_agreement",
                        "record.propose",
                        "record.accept",
                        "record.decline",
                        "record.add_action",
                        "record.edit_action",
                        "record.set_status",
                    ],
                },
            ),
        },
    ),
    "EventCopy": _obj(
        ["copy", "html", "text", "markers", "attachment"],
        copy={"type": "string", "enum": ["full", "titles"]},
        html=_STR,
        text=_STR,
        markers=_obj(["start", "end"], start=_STR, end=_STR),
        attachment=_obj(
            ["name", "content_type", "base64"],
            name=_STR,
            content_type=_STR,
            base64={"type": "string", "contentEncoding": "base64"},
        ),
    ),
}


def _json(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def _errors(*codes: int) -> dict[str, Json]:
    text = {
        400: "Bad input; the message says what to change.",
        401: (
            "No valid bearer token, or a sign-in that no longer works: signin says whether to "
            "sign in again or to grant permissions; the body never names the expected audience, "
            "tenant or keys."
        ),
        403: (
            "The caller is not a partner, or the step is the other partner's; not_reporting_line: "
            "the directory does not name the partner as the caller's manager or report; "
            "handed_over: the caller was this series' manager until a change of manager; "
            "partner_signin: the partner's stored sign-in is missing or expired, and only the "
            "partner can mend it by signing in."
        ),
        404: "No such event, series or occurrence.",
        409: "The other partner saved meanwhile.",
        413: "The body is larger than 64 KB.",
        415: "The body is not JSON.",
        422: (
            "The saved record cannot be opened (damaged, replaced or sealed for another series); "
            "nothing was changed and a retry will not help (error record_unreadable)."
        ),
        428: "The document exists: send If-Match.",
        503: "The calendar or drive cannot be reached; see Retry-After.",
    }
    return {
        str(code): {
            "description": text[code],
            "content": _json(
                _ref("Conflict" if code in (409, 428) else "SignIn" if code == 401 else "Error")
            ),
        }
        for code in codes
    }


_LANG: Json = {
    "name": "lang",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["nl", "en"]},
    "description": "The host's language; else Accept-Language.",
}
_SERIES: Json = {"name": "series_id", "in": "path", "required": True, "schema": _STR}
_OCC: Json = {
    "name": "occ",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]{8}T[0-9]{6}Z$"},
    "description": "The occurrence's original start in UTC.",
}
_HOURS: Json = {
    "type": "object",
    "required": ["days", "start", "end", "tz"],
    "properties": {
        "days": {
            "type": "array",
            "minItems": 1,
            "maxItems": 7,
            "items": {"enum": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]},
        },
        "start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "end": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "tz": {"type": "string", "description": "An IANA time zone"},
    },
}
_HOURS_ANSWER = _obj(
    ["working_hours", "source"],
    working_hours=_HOURS,
    source={"enum": ["own", "directory", "default"]},
)
_KINDS = {"enum": ["prepare", "agenda", "record", "accept", "cadence"]}
_DAYS = {"enum": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]}
_REMINDERS = _obj(
    [],
    off={"type": "array", "items": _KINDS, "maxItems": 5},
    quiet_days={"type": "array", "items": _DAYS, "maxItems": 6},
)
_REMINDERS_ANSWER = _obj(
    ["off", "quiet_days", "kinds"],
    off={"type": "array", "items": _KINDS},
    quiet_days={"type": "array", "items": _DAYS},
    kinds={"type": "array", "items": _KINDS},
)
_READ = (400, 401, 403, 404, 422, 503)
_WRITE = (400, 401, 403, 404, 413, 415, 422, 503)


def spec() -> Json:
    """The OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Goed Gesprek side-panel API",
            "version": "1.0.0",
            "description": (
                "The API behind the Outlook task pane. The Google Calendar add-on's card "
                "endpoints run the same use cases but are not part of this API."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/api/context": {
                "get": {
                    "operationId": "context",
                    "summary": "The opened event's context",
                    "parameters": [
                        {
                            "name": "event",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1},
                            "description": "The opened event's id (an empty one is refused).",
                        },
                        {
                            "name": "series",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 1024},
                            "description": (
                                "For an occurrence, its series master's id as the host gives it "
                                "(Outlook's item.seriesId): lets a first open read the event and "
                                "its documents at once."
                            ),
                        },
                        {
                            "name": "start",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "format": "date-time"},
                            "description": (
                                "The start the host shows for the event (ISO 8601 with offset), "
                                "to find the occurrence before the event is read."
                            ),
                        },
                        _LANG,
                    ],
                    "responses": {
                        "200": {"description": "The context", "content": _json(_ref("Context"))},
                        **_errors(*_READ),
                    },
                }
            },
            "/api/series/preview": {
                "post": {
                    "operationId": "previewSeries",
                    "summary": "Propose a series; nothing is created",
                    "parameters": [_LANG],
                    "requestBody": {"required": True, "content": _json(_ref("PlanRequest"))},
                    "responses": {
                        "200": {"description": "The proposal", "content": _json(_ref("Proposal"))},
                        **_errors(*_WRITE),
                        "409": {
                            "description": (
                                "The pair has a series with conversations to come already."
                            ),
                            "content": _json(_ref("SeriesExists")),
                        },
                    },
                }
            },
            "/api/series": {
                "post": {
                    "operationId": "createSeries",
                    "summary": "Plan the series (idempotent on request_id)",
                    "parameters": [_LANG],
                    "requestBody": {"required": True, "content": _json(_ref("PlanRequest"))},
                    "responses": {
                        "201": {
                            "description": "The series and the context of its first event",
                            "content": _json(
                                _obj(
                                    ["series", "first_event", "context"],
                                    series=_ref("Series"),
                                    first_event=_STR,
                                    context=_ref("Context"),
                                )
                            ),
                        },
                        **_errors(*_WRITE),
                        "409": {
                            "description": (
                                "The pair has a series with conversations to come already."
                            ),
                            "content": _json(_ref("SeriesExists")),
                        },
                    },
                }
            },
            "/api/series/{series_id}": {
                "patch": {
                    "operationId": "changeSeries",
                    "summary": "Change the event copy, place, duration or online",
                    "parameters": [_SERIES, _LANG],
                    "requestBody": {
                        "required": True,
                        "content": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "event_copy": {"type": "string", "enum": ["full", "titles"]},
                                    "place": _STR,
                                    "duration": {"type": "integer"},
                                    "online": {"type": "boolean"},
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": {
                            "description": "The series",
                            "content": _json(_obj(["series"], series=_ref("Series"))),
                        },
                        **_errors(*_WRITE),
                        "409": {
                            "description": "The calendar event changed meanwhile: send it again.",
                            "content": _json(_ref("Error")),
                        },
                    },
                }
            },
            "/api/series/{series_id}/end": {
                "post": {
                    "operationId": "endSeries",
                    "summary": "End the series (either partner); the records stay; idempotent",
                    "parameters": [_SERIES, _LANG],
                    "responses": {
                        "200": {
                            "description": "The ended series (the same answer when sent again)",
                            "content": _json(
                                _obj(
                                    ["series", "ended"],
                                    series=_ref("Series"),
                                    ended={"const": True},
                                )
                            ),
                        },
                        **_errors(*_READ),
                    },
                }
            },
            "/api/series/{series_id}/erase": {
                "post": {
                    "operationId": "eraseDossier",
                    "summary": (
                        "The employee erases every conversation of the pair by destroying its "
                        "data key, then its files and the server's rows; cannot be undone"
                    ),
                    "parameters": [_SERIES, _LANG],
                    "requestBody": {
                        "required": True,
                        "content": _json(_obj(["confirm"], confirm={"const": True})),
                    },
                    "responses": {
                        "200": {
                            "description": "The receipt, signed by the server",
                            "content": _json(_obj(["receipt"], receipt=_ref("ErasureReceipt"))),
                        },
                        **_errors(400, 401, 403, 404, 413, 415),
                    },
                }
            },
            "/api/me/dossier": {
                "get": {
                    "operationId": "exportDossier",
                    "summary": (
                        "The caller's whole dossier as employee: every conversation's agenda "
                        "and record as HTML and Markdown in one zip"
                    ),
                    "parameters": [_LANG],
                    "responses": {
                        "200": {
                            "description": "The zip",
                            "content": {"application/zip": {"schema": _STR}},
                        },
                        **_errors(401, 404, 503),
                    },
                }
            },
            "/api/me/working-hours": {
                "get": {
                    "operationId": "workingHours",
                    "summary": "The caller's working days, hours and zone, and their source",
                    "parameters": [_LANG],
                    "responses": {
                        "200": {"description": "The hours", "content": _json(_HOURS_ANSWER)},
                        **_errors(401, 503),
                    },
                },
                "put": {
                    "operationId": "setWorkingHours",
                    "summary": "Set the caller's own working days, hours and zone",
                    "parameters": [_LANG],
                    "requestBody": {"required": True, "content": _json(_HOURS)},
                    "responses": {
                        "200": {"description": "The hours kept", "content": _json(_HOURS_ANSWER)},
                        **_errors(400, 401, 413, 415, 503),
                    },
                },
            },
            "/api/me/reminders": {
                "get": {
                    "operationId": "reminders",
                    "summary": "Which reminders the caller gets by mail, and their quiet days",
                    "parameters": [_LANG],
                    "responses": {
                        "200": {"description": "The settings", "content": _json(_REMINDERS_ANSWER)},
                        **_errors(401, 503),
                    },
                },
                "put": {
                    "operationId": "setReminders",
                    "summary": "Turn kinds of reminder off or on, and choose quiet days",
                    "parameters": [_LANG],
                    "requestBody": {"required": True, "content": _json(_REMINDERS)},
                    "responses": {
                        "200": {
                            "description": "The settings kept",
                            "content": _json(_REMINDERS_ANSWER),
                        },
                        **_errors(400, 401, 413, 415, 503),
                    },
                },
            },
            "/api/me/hr": {
                "get": {
                    "operationId": "hr",
                    "summary": "Whether the caller may see the organisation's cadence report",
                    "parameters": [_LANG],
                    "responses": {
                        "200": {
                            "description": "hr: true for the people the deployment names as HR",
                            "content": _json(_obj(["hr"], hr={"type": "boolean"})),
                        },
                        **_errors(401),
                    },
                },
            },
            "/api/hr/report-link": {
                "post": {
                    "operationId": "hrReportLink",
                    "summary": "A link to the cadence report, signed for the caller (HR only)",
                    "parameters": [_LANG],
                    "responses": {
                        "200": {
                            "description": "The link, valid for expires_in seconds",
                            "content": _json(
                                _obj(
                                    ["url", "expires_in"],
                                    url={"type": "string"},
                                    expires_in={"type": "integer"},
                                )
                            ),
                        },
                        **_errors(401, 403),
                    },
                },
            },
            "/api/series/{series_id}/occurrences/{occ}": {
                "post": {
                    "operationId": "applyOps",
                    "summary": "Change the agenda and record, all or nothing",
                    "parameters": [
                        _SERIES,
                        _OCC,
                        _LANG,
                        {"name": "If-Match", "in": "header", "required": False, "schema": _STR},
                    ],
                    "requestBody": {"required": True, "content": _json(_ref("Ops"))},
                    "responses": {
                        "200": {
                            "description": "The new context",
                            "content": _json(_ref("Context")),
                        },
                        **_errors(*_WRITE, 409, 428),
                    },
                }
            },
            "/api/series/{series_id}/occurrences/{occ}/journal": {
                "post": {
                    "operationId": "applyJournal",
                    "summary": "Change the pair's journal, all or nothing",
                    "parameters": [
                        _SERIES,
                        _OCC,
                        _LANG,
                        {
                            "name": "If-Match",
                            "in": "header",
                            "required": False,
                            "schema": _STR,
                            "description": "The journal's etag (journal.etag in the context).",
                        },
                    ],
                    "requestBody": {"required": True, "content": _json(_ref("JournalOps"))},
                    "responses": {
                        "200": {
                            "description": "The new context",
                            "content": _json(_ref("Context")),
                        },
                        **_errors(*_WRITE, 409, 428),
                    },
                }
            },
            "/api/series/{series_id}/occurrences/{occ}/overview": {
                "get": {
                    "operationId": "overview",
                    "summary": "Suggestions and the overview for preparing the conversation",
                    "parameters": [_SERIES, _OCC, _LANG],
                    "responses": {
                        "200": {"description": "The overview", "content": _json(_ref("Overview"))},
                        **_errors(*_READ),
                    },
                }
            },
            "/api/series/{series_id}/occurrences/{occ}/export": {
                "get": {
                    "operationId": "exportRecord",
                    "summary": "The record as a download",
                    "parameters": [
                        _SERIES,
                        _OCC,
                        _LANG,
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["html", "md"]},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The record",
                            "content": {
                                "text/html": {"schema": _STR},
                                "text/markdown": {"schema": _STR},
                            },
                        },
                        **_errors(*_READ),
                    },
                }
            },
            "/api/series/{series_id}/occurrences/{occ}/event-copy": {
                "get": {
                    "operationId": "eventCopy",
                    "summary": "What compose mode writes into the event",
                    "parameters": [_SERIES, _OCC, _LANG],
                    "responses": {
                        "200": {"description": "The copy", "content": _json(_ref("EventCopy"))},
                        **_errors(*_READ),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": _json({})}},
                }
            },
        },
    }
