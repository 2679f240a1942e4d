"""The two host manifests, generated for one public base URL.

- `outlook.xml`: Outlook's XML add-in manifest (schema 1.1, `MailApp`) with VersionOverrides 1.0
  and, nested inside, 1.1. The XSDs are sequences, so the order of every element below follows
  Microsoft's manifest reference exactly; `tests/app/test_manifest.py` holds the file to it.
- `workspace-deployment.json`: the Google Workspace add-on deployment for the HTTP runtime
  (`gcloud workspace-add-ons deployments create NAME --deployment-file=...`).

Everything here is pure: the same base URL (and app id, version) always gives the same bytes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from connectors._files import write_atomically

ICON_SIZES: Final = (16, 32, 64, 80, 128)

ROUTES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "pane": "/pane/",
        "commands": "/pane/commands.html",
        **{f"icon-{size}": f"/static/icons/icon-{size}.png" for size in ICON_SIZES},
        "support": "/support",
        "privacy": "/privacy",
        "workspace-homepage": "/workspace/homepage",
        "workspace-event-open": "/workspace/calendar/event-open",
        "workspace-event-update": "/workspace/calendar/event-update",
    }
)
"""Every path the manifests point at, and the privacy page for the AppSource and Google Workspace
Marketplace listings (neither manifest format has a field for it). The app serves each one; a test
checks the app's `url_map`."""

GOOGLE_SCOPES: Final[tuple[str, ...]] = (
    "https://www.googleapis.com/auth/calendar.addons.execute",
    "https://www.googleapis.com/auth/calendar.addons.current.event.read",
    "https://www.googleapis.com/auth/calendar.addons.current.event.write",
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/userinfo.email",
)
"""The smallest scope list the Google add-on needs; `workspace_deployment` says why each one."""

PROVIDER = "Goed Gesprek"
DISPLAY_NAME = "Goed Gesprek"
BRAND_COLOUR = "#0F6CBD"
BRAND_COLOUR_DARK = "#0F548C"
DEFAULT_VERSION = "1.0.0.0"

MAX_BASE_URL = 1800  # manifest URLs are at most 2048 characters; leave room for the routes
_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
_VERSION = re.compile(r"[0-9]{1,5}(?:\.[0-9]{1,5}){3}")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})

# Outlook's namespaces (the XSDs' target namespaces).
NS_OFFICEAPP = "http://schemas.microsoft.com/office/appforoffice/1.1"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_BASICTYPES = "http://schemas.microsoft.com/office/officeappbasictypes/1.0"
NS_VERSIONOVERRIDES_1_0 = "http://schemas.microsoft.com/office/mailappversionoverrides"
NS_VERSIONOVERRIDES_1_1 = "http://schemas.microsoft.com/office/mailappversionoverrides/1.1"

DEFAULT_LOCALE = "en-US"
OTHER_LOCALE = "nl-NL"


@dataclass(frozen=True, slots=True)
class _Text:
    """One user-visible string in the manifest's default language (en-US) and in Dutch."""

    en: str
    nl: str


_DESCRIPTION = _Text(
    en="The good conversation (het goede gesprek) in your calendar: plan the quarterly 1:1 "
    "series, agree the agenda, prepare, write the record and accept the agreements together.",
    nl="Het goede gesprek in je agenda: plan de reeks 1-op-1-gesprekken per kwartaal, spreek de "
    "agenda af, bereid je voor, leg het verslag vast en geef samen akkoord op de afspraken.",
)

# Resource strings, by resource id (ids are at most 32 characters).
_SHORT_STRINGS: Mapping[str, _Text] = {
    "groupLabel": _Text(en="Goed Gesprek", nl="Goed Gesprek"),
    "paneButtonLabel": _Text(en="Open side panel", nl="Zijpaneel openen"),
    "paneTipTitle": _Text(en="Goed Gesprek side panel", nl="Zijpaneel van Goed Gesprek"),
}
_LONG_STRINGS: Mapping[str, _Text] = {
    "addinDescription": _DESCRIPTION,
    "paneTipDescription": _Text(
        en="Plan the series, agree the agenda, prepare, and write the record of this "
        "conversation with your conversation partner.",
        nl="Plan de reeks, spreek de agenda af, bereid je voor en schrijf het verslag van dit "
        "gesprek met je gesprekspartner.",
    ),
}
_BUTTON_ICONS = (16, 32, 80)  # the sizes Microsoft requires on a ribbon button


def normalize_base_url(base_url: str, *, allow_loopback: bool = False) -> str:
    """The public base URL the add-in is served from, checked and without a trailing slash.

    It must be https with a host name, optionally a port and a plain path prefix, and nothing
    else: no user name or password, no query, no fragment, no `.` or `..` segments. Plain http
    is refused (Outlook and Google load add-ins only over https), except for 127.0.0.1 or
    localhost when `allow_loopback` is set, for sideloading on one's own machine.

    Raises `ValueError` saying what is wrong and what to give instead.
    """
    text = base_url.strip()
    if not text:
        raise ValueError("the base URL is empty; give the https address the app is served at")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise ValueError(f"the base URL must not contain spaces or control characters: {text!r}")
    if len(text) > MAX_BASE_URL:
        raise ValueError(f"the base URL is longer than {MAX_BASE_URL} characters")
    if "?" in text or "#" in text:
        raise ValueError(
            f"the base URL must not have a query or fragment (? or #), got {text!r}; "
            "give only the scheme, host and optional path prefix"
        )
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"the base URL must look like https://HOST, got {text!r}")
    if "@" in parts.netloc:
        raise ValueError(f"the base URL must not contain a user name or password, got {text!r}")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"the base URL has a bad port, got {text!r}") from None
    if not _HOST.fullmatch(host):
        raise ValueError(
            f"the base URL's host {host!r} is not a valid host name (letters, digits, dots and "
            "hyphens; give an international name in its xn-- form)"
        )
    if scheme == "http":
        if host not in _LOOPBACK_HOSTS:
            raise ValueError(
                f"the base URL must be https (Outlook and Google load add-ins only over https), "
                f"got {text!r}"
            )
        if not allow_loopback:
            raise ValueError(
                f"http is allowed only for local sideloading on 127.0.0.1 or localhost, with "
                f"allow_loopback (--allow-loopback); got {text!r}"
            )
    path = parts.path.rstrip("/")
    segments = path.split("/")[1:] if path else []
    for segment in segments:
        if not _SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise ValueError(
                f"the base URL's path must be plain segments (letters, digits, . _ ~ -), "
                f"got {parts.path!r}"
            )
    netloc = host if port is None else f"{host}:{port}"
    return f"{scheme}://{netloc}{path}"


def route_url(base_url: str, route: str, *, lang: str | None = None) -> str:
    """The absolute URL of one of `ROUTES` under a normalized base URL."""
    url = base_url + ROUTES[route]
    return url if lang is None else f"{url}?lang={lang}"


def default_app_id(base_url: str) -> str:
    """A stable add-in id for a deployment: a UUID5 of the normalized base URL.

    Re-running the generator for the same URL keeps the id, so an updated manifest replaces the
    installed add-in instead of adding a second one.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, base_url))


def _app_id(app_id: str | None, base_url: str) -> str:
    if app_id is None:
        return default_app_id(base_url)
    try:
        return str(uuid.UUID(app_id.strip()))
    except ValueError:
        raise ValueError(
            f"the app id must be a GUID like 0f6cbd00-1234-4abc-8def-0123456789ab, got {app_id!r}"
        ) from None


WEB_APP_SCOPES: Final[tuple[str, ...]] = ("openid", "profile", "offline_access", "access_as_user")
"""`WebApplicationInfo`'s scopes: sign-in (openid, profile), a refresh token for work done later
(offline_access) and our API's own scope, the one the pane's access token carries."""


def _client_id(client_id: str) -> str:
    """The Entra app registration's client id: a GUID (`bt:UUID` in the manifest's schema)."""
    try:
        return str(uuid.UUID(client_id.strip()))
    except ValueError:
        raise ValueError(
            "the Entra client id must be the app registration's Application (client) ID, a GUID "
            f"like 0f6cbd00-1234-4abc-8def-0123456789ab, got {client_id!r}"
        ) from None


def default_app_id_uri(base_url: str, client_id: str) -> str:
    """Our API's App ID URI as Office SSO expects it: `api://<host of the base URL>/<client id>`."""
    return f"api://{urlsplit(base_url).netloc}/{client_id}"


def _app_id_uri(uri: str) -> str:
    text = uri.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme != "api" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"the App ID URI must look like api://HOST/CLIENT-ID, got {uri!r}")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in text) or len(text) > 250:
        raise ValueError(f"the App ID URI must be one short line without spaces, got {uri!r}")
    return text


def _web_application_info(client_id: str, resource: str) -> _El:
    """Entra ID's registration of the add-in (schema VersionOverrides 1.1: after Resources)."""
    return _el(
        "WebApplicationInfo",
        None,
        _el("Id", text=client_id),
        _el("Resource", text=resource),
        _el("Scopes", None, *(_el("Scope", text=scope) for scope in WEB_APP_SCOPES)),
    )


def _origin(domain: str) -> str:
    """An AppDomain: an origin (scheme, host, optional port), no path and no trailing slash."""
    parts = urlsplit(domain.strip())
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ValueError(
            f"an app domain must be an https origin like https://login.example, got {domain!r}"
        )
    return f"https://{parts.netloc.lower()}"


# --- a small XML writer: exact control over element order and namespace declarations ----------


@dataclass(frozen=True, slots=True)
class _El:
    tag: str
    attrs: tuple[tuple[str, str], ...] = ()
    children: tuple[_El, ...] = ()
    text: str | None = None


def _el(
    tag: str, attrs: Mapping[str, str] | None = None, *children: _El, text: str | None = None
) -> _El:
    return _El(tag, tuple((attrs or {}).items()), children, text)


def _lines(node: _El, depth: int) -> Iterator[str]:
    pad = "  " * depth
    attrs = "".join(f' {name}="{escape(value, {chr(34): "&quot;"})}"' for name, value in node.attrs)
    if node.text is not None:
        yield f"{pad}<{node.tag}{attrs}>{escape(node.text)}</{node.tag}>"
    elif not node.children:
        yield f"{pad}<{node.tag}{attrs}/>"
    else:
        yield f"{pad}<{node.tag}{attrs}>"
        for child in node.children:
            yield from _lines(child, depth + 1)
        yield f"{pad}</{node.tag}>"


def _render(root: _El) -> bytes:
    body = "\n".join(_lines(root, 0))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


# --- outlook.xml ------------------------------------------------------------------------------


def _localized(tag: str, text: _Text) -> _El:
    return _el(
        tag, {"DefaultValue": text.en}, _el("Override", {"Locale": OTHER_LOCALE, "Value": text.nl})
    )


def _resources(base_url: str) -> _El:
    def strings(kind: str, texts: Mapping[str, _Text]) -> _El:
        return _el(
            kind,
            None,
            *(
                _el(
                    "bt:String",
                    {"id": rid, "DefaultValue": text.en},
                    _el("bt:Override", {"Locale": OTHER_LOCALE, "Value": text.nl}),
                )
                for rid, text in texts.items()
            ),
        )

    return _el(
        "Resources",
        None,
        _el(
            "bt:Images",
            None,
            *(
                _el(
                    "bt:Image",
                    {"id": f"icon{size}", "DefaultValue": route_url(base_url, f"icon-{size}")},
                )
                for size in _BUTTON_ICONS
            ),
        ),
        _el(
            "bt:Urls",
            None,
            _el("bt:Url", {"id": "paneUrl", "DefaultValue": route_url(base_url, "pane")}),
            _el("bt:Url", {"id": "commandsUrl", "DefaultValue": route_url(base_url, "commands")}),
        ),
        strings("bt:ShortStrings", _SHORT_STRINGS),
        strings("bt:LongStrings", _LONG_STRINGS),
    )


def _surface(surface: str, short: str, *, pinning: bool) -> _El:
    """One appointment surface: a group on the default ribbon tab with one task pane button."""
    action = [_el("SourceLocation", {"resid": "paneUrl"})]
    if pinning:
        # SupportsPinning exists only in the VersionOverrides 1.1 schema (Mailbox 1.5).
        action.append(_el("SupportsPinning", text="true"))
    button = _el(
        "Control",
        {"xsi:type": "Button", "id": f"gg{short}PaneButton"},
        _el("Label", {"resid": "paneButtonLabel"}),
        _el(
            "Supertip",
            None,
            _el("Title", {"resid": "paneTipTitle"}),
            _el("Description", {"resid": "paneTipDescription"}),
        ),
        _el(
            "Icon",
            None,
            *(
                _el("bt:Image", {"size": str(size), "resid": f"icon{size}"})
                for size in _BUTTON_ICONS
            ),
        ),
        _el("Action", {"xsi:type": "ShowTaskpane"}, *action),
    )
    group = _el("Group", {"id": f"gg{short}Group"}, _el("Label", {"resid": "groupLabel"}), button)
    return _el(
        "ExtensionPoint", {"xsi:type": surface}, _el("OfficeTab", {"id": "TabDefault"}, group)
    )


def _version_overrides(
    base_url: str,
    *,
    namespace: str,
    xsi_type: str,
    min_mailbox: str,
    pinning: bool,
    nested: _El | None,
    web_app: _El | None = None,
) -> _El:
    form_factor = _el(
        "DesktopFormFactor",
        None,
        _el("FunctionFile", {"resid": "commandsUrl"}),
        _surface("AppointmentOrganizerCommandSurface", "Org", pinning=pinning),
        _surface("AppointmentAttendeeCommandSurface", "Att", pinning=pinning),
    )
    children = [
        _el("Description", {"resid": "addinDescription"}),
        _el(
            "Requirements",
            None,
            _el("bt:Sets", {"DefaultMinVersion": min_mailbox}, _el("bt:Set", {"Name": "Mailbox"})),
        ),
        _el("Hosts", None, _el("Host", {"xsi:type": "MailHost"}, form_factor)),
        _resources(base_url),
    ]
    if nested is not None:
        children.append(nested)
    if web_app is not None:
        # Microsoft's reference: WebApplicationInfo must be the last child of VersionOverrides.
        children.append(web_app)
    return _el("VersionOverrides", {"xmlns": namespace, "xsi:type": xsi_type}, *children)


def outlook_manifest(
    base_url: str,
    *,
    app_id: str | None = None,
    version: str = DEFAULT_VERSION,
    allow_loopback: bool = False,
    app_domains: Sequence[str] = (),
    provider: str = PROVIDER,
    entra_client_id: str | None = None,
    app_id_uri: str | None = None,
) -> bytes:
    """Outlook's XML add-in manifest for an add-in served at `base_url`, as UTF-8 bytes.

    The task pane opens from a button on the appointment's ribbon, for the organizer and for
    attendees, in read and compose mode, with `ReadWriteItem` (the open appointment only). Older
    clients (Mailbox 1.1/1.2) use `FormSettings`; Mailbox 1.3 clients use VersionOverrides 1.0;
    Mailbox 1.5 clients use the nested 1.1, which adds a pinnable pane.

    `app_domains` are extra https origins the pane may navigate to. The base URL's own origin is
    never listed: Microsoft's reference says listing the SourceLocation domain has no effect and
    misleads, and an empty `AppDomains` element is invalid, so it is left out when there are none.

    With `entra_client_id` (the Entra app registration's client id), the nested 1.1 level carries
    `WebApplicationInfo`: that id and our API's App ID URI as `Resource` (`app_id_uri`, by default
    `api://<host>/<client id>`). Sign-in itself needs no `AppDomains`: NAA runs through the host,
    and Microsoft's AppDomain reference says a page opened with the dialog API needs none.

    Raises `ValueError` for a bad base URL, app id, version, app domain, provider name, Entra
    client id or App ID URI.
    """
    base = normalize_base_url(base_url, allow_loopback=allow_loopback)
    web_app = None
    if entra_client_id is not None:
        client = _client_id(entra_client_id)
        resource = _app_id_uri(app_id_uri) if app_id_uri else default_app_id_uri(base, client)
        web_app = _web_application_info(client, resource)
    elif app_id_uri:
        raise ValueError("an App ID URI needs the Entra client id it belongs to")
    guid = _app_id(app_id, base)
    if not _VERSION.fullmatch(version):
        raise ValueError(f"the version must be four numbers like 1.0.0.0, got {version!r}")
    provider = provider.strip()
    if not 1 <= len(provider) <= 125 or any(ord(ch) < 0x20 for ch in provider):
        raise ValueError("the provider name must be 1-125 characters on one line")
    domains = list(dict.fromkeys(_origin(domain) for domain in app_domains))

    pane = route_url(base, "pane")
    inner = _version_overrides(
        base,
        namespace=NS_VERSIONOVERRIDES_1_1,
        xsi_type="VersionOverridesV1_1",
        min_mailbox="1.5",
        pinning=True,
        nested=None,
        web_app=web_app,
    )
    outer = _version_overrides(
        base,
        namespace=NS_VERSIONOVERRIDES_1_0,
        xsi_type="VersionOverridesV1_0",
        min_mailbox="1.3",
        pinning=False,
        nested=inner,
    )
    children: list[_El] = [
        _el("Id", text=guid),
        _el("Version", text=version),
        _el("ProviderName", text=provider),
        _el("DefaultLocale", text=DEFAULT_LOCALE),
        _localized("DisplayName", _Text(en=DISPLAY_NAME, nl=DISPLAY_NAME)),
        _localized("Description", _DESCRIPTION),
        _el("IconUrl", {"DefaultValue": route_url(base, "icon-64")}),
        _el("HighResolutionIconUrl", {"DefaultValue": route_url(base, "icon-128")}),
        _el(
            "SupportUrl",
            {"DefaultValue": route_url(base, "support", lang="en")},
            _el(
                "Override", {"Locale": OTHER_LOCALE, "Value": route_url(base, "support", lang="nl")}
            ),
        ),
    ]
    if domains:
        children.append(_el("AppDomains", None, *(_el("AppDomain", text=d) for d in domains)))
    children += [
        _el("Hosts", None, _el("Host", {"Name": "Mailbox"})),
        _el(
            "Requirements",
            None,
            _el("Sets", None, _el("Set", {"Name": "Mailbox", "MinVersion": "1.1"})),
        ),
        _el(
            "FormSettings",
            None,
            _el(
                "Form",
                {"xsi:type": "ItemRead"},
                _el(
                    "DesktopSettings",
                    None,
                    _el("SourceLocation", {"DefaultValue": pane}),
                    _el("RequestedHeight", text="450"),
                ),
            ),
            _el(
                "Form",
                {"xsi:type": "ItemEdit"},
                _el("DesktopSettings", None, _el("SourceLocation", {"DefaultValue": pane})),
            ),
        ),
        _el("Permissions", text="ReadWriteItem"),
        _el(
            "Rule",
            {"xsi:type": "RuleCollection", "Mode": "Or"},
            _el("Rule", {"xsi:type": "ItemIs", "ItemType": "Appointment", "FormType": "Read"}),
            _el("Rule", {"xsi:type": "ItemIs", "ItemType": "Appointment", "FormType": "Edit"}),
        ),
        outer,
    ]
    root = _el(
        "OfficeApp",
        {
            "xmlns": NS_OFFICEAPP,
            "xmlns:xsi": NS_XSI,
            "xmlns:bt": NS_BASICTYPES,
            "xsi:type": "MailApp",
        },
        *children,
    )
    return _render(root)


# --- workspace-deployment.json ----------------------------------------------------------------


def workspace_deployment(base_url: str, *, allow_loopback: bool = False) -> dict[str, Any]:
    """The Google Workspace add-on deployment (HTTP runtime) for an app served at `base_url`.

    Why each OAuth scope in `GOOGLE_SCOPES` is asked for, and why no other:

    - `calendar.addons.execute`: run as a Calendar add-on at all.
    - `calendar.addons.current.event.read` and `.write`: `currentEventAccess: READ_WRITE`, so
      the event-open trigger sees the open event's attendees and the add-on can write the agreed
      agenda into the event the user is editing.
    - `calendar.events.owned`: create the quarterly series (`RRULE`, our ids in
      `extendedProperties`, the agenda as a Drive attachment) and read each partner's copy on
      their own calendar. Narrower than `calendar.events`: calendars the user does not own
      stay out of reach.
    - `calendar.events.freebusy`: plan the first slot that fits both partners, which needs the
      other partner's free/busy only, never their events.
    - `drive.file`: keep the sealed dossier (agenda, record, agreements) in a folder the app
      itself creates; the rest of the user's Drive stays out of reach.
    - `userinfo.email`: know who the user is, to match them to their pair as employee or manager.
    - No `gmail.send`: reminders and record prompts are sent by the background scheduler, which
      cannot use an add-on's short-lived token anyway; any mail consent belongs to its own
      sign-in flow, asked only when someone turns mail on.

    `httpOptions.authorizationHeader` is `SYSTEM_ID_TOKEN`: Google signs every request as the
    add-on's service account, which the app verifies (audience and service-account email).
    `useLocaleFromApp` passes the user's Calendar language, so cards answer in Dutch or English.
    `openLinkUrlPrefixes` lets cards open the app's own pages (support, export), nothing else.
    """
    base = normalize_base_url(base_url, allow_loopback=allow_loopback)
    homepage = {"runFunction": route_url(base, "workspace-homepage"), "enabled": True}
    return {
        "oauthScopes": list(GOOGLE_SCOPES),
        "addOns": {
            "common": {
                "name": DISPLAY_NAME,
                "logoUrl": route_url(base, "icon-128"),
                "layoutProperties": {
                    "primaryColor": BRAND_COLOUR,
                    "secondaryColor": BRAND_COLOUR_DARK,
                },
                "useLocaleFromApp": True,
                "homepageTrigger": dict(homepage),
                "openLinkUrlPrefixes": [f"{base}/"],
            },
            "calendar": {
                "currentEventAccess": "READ_WRITE",
                "homepageTrigger": dict(homepage),
                "eventOpenTrigger": {"runFunction": route_url(base, "workspace-event-open")},
                "eventUpdateTrigger": {"runFunction": route_url(base, "workspace-event-update")},
            },
            "httpOptions": {"authorizationHeader": "SYSTEM_ID_TOKEN"},
        },
    }


def workspace_deployment_json(base_url: str, *, allow_loopback: bool = False) -> bytes:
    """`workspace_deployment` as the bytes of `workspace-deployment.json`."""
    document = workspace_deployment(base_url, allow_loopback=allow_loopback)
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


OUTLOOK_FILE = "outlook.xml"
WORKSPACE_FILE = "workspace-deployment.json"


def write_manifests(
    base_url: str,
    out_dir: Path | str,
    *,
    app_id: str | None = None,
    version: str = DEFAULT_VERSION,
    allow_loopback: bool = False,
    app_domains: Sequence[str] = (),
    provider: str = PROVIDER,
    entra_client_id: str | None = None,
    app_id_uri: str | None = None,
) -> list[Path]:
    """Write `outlook.xml` and `workspace-deployment.json` into `out_dir`; return their paths.

    Both documents are built (and every input checked) before either file is written, so a bad
    input leaves the directory as it was. Each file is replaced atomically.
    """
    outlook = outlook_manifest(
        base_url,
        app_id=app_id,
        version=version,
        allow_loopback=allow_loopback,
        app_domains=app_domains,
        provider=provider,
        entra_client_id=entra_client_id,
        app_id_uri=app_id_uri,
    )
    workspace = workspace_deployment_json(base_url, allow_loopback=allow_loopback)
    directory = Path(out_dir)
    written = []
    for name, content in ((OUTLOOK_FILE, outlook), (WORKSPACE_FILE, workspace)):
        path = directory / name
        write_atomically(path, content)
        written.append(path)
    return written
