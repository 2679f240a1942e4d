"""The manifests held to the hosts' rules.

Microsoft's validator needs its online service, so `outlook.xml` is held here to the rules of
Microsoft's manifest reference (the XSD sequences of OfficeAppManifestV1_1, MailAppVersionOverrides
V1_0/V1_1 and OfficeAppBasicTypesV1_0): element order, required elements and attributes, resource
references, id and string limits, https URLs. The Google deployment is held to the field names of
the `google.cloud.gsuiteaddons.v1.Deployment` resource. And every URL in both is a route of the app.
"""

from __future__ import annotations

import importlib.util
import json
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from lxml import etree
from werkzeug.exceptions import MethodNotAllowed, NotFound

from addin.app import create_app
from addin.cli import cli
from manifest.build import (
    GOOGLE_SCOPES,
    ICON_SIZES,
    NS_BASICTYPES,
    NS_OFFICEAPP,
    NS_VERSIONOVERRIDES_1_0,
    NS_VERSIONOVERRIDES_1_1,
    NS_XSI,
    OUTLOOK_FILE,
    ROUTES,
    WORKSPACE_FILE,
    default_app_id,
    normalize_base_url,
    outlook_manifest,
    workspace_deployment,
    workspace_deployment_json,
    write_manifests,
)

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

BASE = "https://goedgesprek.example.org"
ROOT = Path(__file__).resolve().parents[2]
ICON_DIR = ROOT / "addin" / "static" / "icons"
UNBOUNDED = 10**6

APP, BT, VO10, VO11 = NS_OFFICEAPP, NS_BASICTYPES, NS_VERSIONOVERRIDES_1_0, NS_VERSIONOVERRIDES_1_1
XSI_TYPE = f"{{{NS_XSI}}}type"


def q(namespace: str, name: str) -> str:
    """A Clark name, as lxml spells a namespaced tag."""
    return f"{{{namespace}}}{name}"


def local(tag: str) -> str:
    """A tag without its namespace."""
    return etree.QName(tag).localname


Spec = list[tuple[str, int, int]]  # (child tag, minOccurs, maxOccurs), in sequence order


def _leaf() -> Spec:
    return []


def _overrides(namespace: str) -> Spec:
    return [(q(namespace, "Override"), 0, UNBOUNDED)]


# The XSD sequences, as Microsoft's manifest reference publishes them, for what a mail add-in uses.
_APP_SPECS: dict[tuple[str, str | None], Spec] = {
    (q(APP, "OfficeApp"), "MailApp"): [
        (q(APP, "Id"), 1, 1),
        (q(APP, "AlternateId"), 0, 1),
        (q(APP, "Version"), 1, 1),
        (q(APP, "ProviderName"), 1, 1),
        (q(APP, "DefaultLocale"), 1, 1),
        (q(APP, "DisplayName"), 1, 1),
        (q(APP, "Description"), 1, 1),
        (q(APP, "IconUrl"), 0, 1),
        (q(APP, "HighResolutionIconUrl"), 0, 1),
        (q(APP, "SupportUrl"), 0, 1),
        (q(APP, "AppDomains"), 0, 1),
        (q(APP, "Hosts"), 0, 1),
        # MailApp's extension of OfficeApp: these always come after the base sequence.
        (q(APP, "Requirements"), 1, 1),
        (q(APP, "FormSettings"), 1, 1),
        (q(APP, "Permissions"), 0, 1),
        (q(APP, "Rule"), 1, 1),
        (q(APP, "DisableEntityHighlighting"), 0, 1),
        (q(VO10, "VersionOverrides"), 0, 1),
    ],
    **{
        (q(APP, name), None): _overrides(APP)
        for name in ("DisplayName", "Description", "IconUrl", "HighResolutionIconUrl", "SupportUrl")
    },
    **{
        (q(APP, name), None): _leaf()
        for name in (
            "Id",
            "Version",
            "ProviderName",
            "DefaultLocale",
            "Override",
            "AppDomain",
            "Host",
            "Set",
            "Permissions",
            "RequestedHeight",
            "DisableEntityHighlighting",
        )
    },
    (q(APP, "AppDomains"), None): [(q(APP, "AppDomain"), 1, UNBOUNDED)],
    (q(APP, "Hosts"), None): [(q(APP, "Host"), 1, UNBOUNDED)],
    (q(APP, "Requirements"), None): [(q(APP, "Sets"), 1, 1)],
    (q(APP, "Sets"), None): [(q(APP, "Set"), 1, UNBOUNDED)],
    (q(APP, "FormSettings"), None): [(q(APP, "Form"), 1, 2)],
    (q(APP, "Form"), "ItemRead"): [
        (q(APP, "DesktopSettings"), 1, 1),
        (q(APP, "TabletSettings"), 0, 1),
        (q(APP, "PhoneSettings"), 0, 1),
    ],
    (q(APP, "Form"), "ItemEdit"): [
        (q(APP, "DesktopSettings"), 1, 1),
        (q(APP, "TabletSettings"), 0, 1),
        (q(APP, "PhoneSettings"), 0, 1),
    ],
    (q(APP, "SourceLocation"), None): _overrides(APP),
    (q(APP, "Rule"), "RuleCollection"): [(q(APP, "Rule"), 1, UNBOUNDED)],
    (q(APP, "Rule"), "ItemIs"): _leaf(),
}

_BT_SPECS: dict[tuple[str, str | None], Spec] = {
    (q(BT, "Sets"), None): [(q(BT, "Set"), 1, UNBOUNDED)],
    (q(BT, "Set"), None): _leaf(),
    (q(BT, "Images"), None): [(q(BT, "Image"), 0, UNBOUNDED)],
    (q(BT, "Urls"), None): [(q(BT, "Url"), 0, UNBOUNDED)],
    (q(BT, "ShortStrings"), None): [(q(BT, "String"), 0, UNBOUNDED)],
    (q(BT, "LongStrings"), None): [(q(BT, "String"), 0, UNBOUNDED)],
    (q(BT, "Url"), None): _overrides(BT),
    (q(BT, "String"), None): _overrides(BT),
    (q(BT, "Override"), None): _leaf(),
}


def _vo_specs(ns: str) -> dict[tuple[str, str | None], Spec]:
    """The elements both VersionOverrides schemas define alike, in namespace `ns`."""
    surface: Spec = [(q(ns, "OfficeTab"), 0, UNBOUNDED), (q(ns, "CustomTab"), 0, UNBOUNDED)]
    return {
        (q(ns, "Requirements"), None): [(q(BT, "Sets"), 1, 1)],
        (q(ns, "Hosts"), None): [(q(ns, "Host"), 1, UNBOUNDED)],
        (q(ns, "Host"), "MailHost"): [(q(ns, "DesktopFormFactor"), 0, 1)],
        (q(ns, "DesktopFormFactor"), None): [
            (q(ns, "FunctionFile"), 0, 1),
            (q(ns, "ExtensionPoint"), 1, UNBOUNDED),
        ],
        (q(ns, "ExtensionPoint"), "AppointmentOrganizerCommandSurface"): surface,
        (q(ns, "ExtensionPoint"), "AppointmentAttendeeCommandSurface"): surface,
        (q(ns, "OfficeTab"), None): [(q(ns, "Group"), 1, UNBOUNDED)],
        (q(ns, "Group"), None): [(q(ns, "Label"), 1, 1), (q(ns, "Control"), 1, UNBOUNDED)],
        (q(ns, "Control"), "Button"): [
            (q(ns, "Label"), 1, 1),
            (q(ns, "Supertip"), 1, 1),
            (q(ns, "Icon"), 1, 1),
            (q(ns, "Action"), 1, 1),
        ],
        (q(ns, "Supertip"), None): [(q(ns, "Title"), 1, 1), (q(ns, "Description"), 1, 1)],
        (q(ns, "Icon"), None): [(q(BT, "Image"), 1, UNBOUNDED)],
        (q(ns, "Resources"), None): [
            (q(BT, "Images"), 0, 1),
            (q(BT, "Urls"), 0, 1),
            (q(BT, "ShortStrings"), 0, 1),
            (q(BT, "LongStrings"), 0, 1),
        ],
        **{
            (q(ns, name), None): _leaf()
            for name in (
                "Description",
                "Label",
                "Title",
                "FunctionFile",
                "SourceLocation",
                "SupportsPinning",
            )
        },
    }


_SPECS: dict[tuple[str, str | None], Spec] = {
    **_APP_SPECS,
    **_BT_SPECS,
    **_vo_specs(VO10),
    **_vo_specs(VO11),
    (q(VO10, "VersionOverrides"), "VersionOverridesV1_0"): [
        (q(VO10, "Description"), 0, 1),
        (q(VO10, "Requirements"), 0, 1),
        (q(VO10, "Hosts"), 0, 1),
        (q(VO10, "Resources"), 0, 1),
        (q(VO11, "VersionOverrides"), 0, 1),
    ],
    # MS-OWEMXML's VersionOverridesV1_1 (mail): WebApplicationInfo right after Resources.
    (q(VO11, "VersionOverrides"), "VersionOverridesV1_1"): [
        (q(VO11, "Description"), 0, 1),
        (q(VO11, "Requirements"), 0, 1),
        (q(VO11, "Hosts"), 0, 1),
        (q(VO11, "Resources"), 0, 1),
        (q(VO11, "WebApplicationInfo"), 0, 1),
    ],
    (q(VO11, "WebApplicationInfo"), None): [
        (q(VO11, "Id"), 1, 1),
        (q(VO11, "Resource"), 1, 1),
        (q(VO11, "Scopes"), 1, 1),
    ],
    (q(VO11, "Scopes"), None): [(q(VO11, "Scope"), 1, UNBOUNDED)],
    **{(q(VO11, name), None): _leaf() for name in ("Id", "Resource", "Scope")},
    (q(VO10, "Action"), "ShowTaskpane"): [(q(VO10, "SourceLocation"), 1, 1)],
    (q(VO11, "Action"), "ShowTaskpane"): [
        (q(VO11, "SourceLocation"), 1, 1),
        (q(VO11, "SupportsPinning"), 0, 1),
        (q(VO11, "SupportsNoItemContext"), 0, 1),
        (q(VO11, "SupportsMultiSelect"), 0, 1),
    ],
}


def _spec_of(element: etree._Element) -> Spec:
    parent = element.getparent()
    tag = element.tag
    if local(tag) == "DesktopSettings" and parent is not None:
        # ItemRead's desktop settings need a height; ItemEdit's take only the source.
        source: Spec = [(q(APP, "SourceLocation"), 1, 1)]
        if parent.get(XSI_TYPE) == "ItemRead":
            return [*source, (q(APP, "RequestedHeight"), 1, 1)]
        return source
    if tag == q(BT, "Image"):
        # An image resource may carry overrides; an image reference in an Icon is empty.
        in_icon = parent is not None and local(parent.tag) == "Icon"
        return _leaf() if in_icon else _overrides(BT)
    key = (tag, element.get(XSI_TYPE))
    if key not in _SPECS:
        raise AssertionError(f"{tag} (xsi:type {key[1]}) is not an element the reference allows")
    return _SPECS[key]


def check_sequence(element: etree._Element) -> None:
    """`element`'s children follow its XSD sequence: allowed, in order, within their counts."""
    spec = _spec_of(element)
    children = [child for child in element if isinstance(child.tag, str)]
    position = 0
    counts: dict[str, int] = {}
    for child in children:
        while position < len(spec) and spec[position][0] != child.tag:
            position += 1
        if position == len(spec):
            raise AssertionError(
                f"<{local(child.tag)}> is out of order or not allowed under <{local(element.tag)}>"
            )
        counts[child.tag] = counts.get(child.tag, 0) + 1
    for tag, low, high in spec:
        if not low <= counts.get(tag, 0) <= high:
            raise AssertionError(
                f"<{local(element.tag)}> has {counts.get(tag, 0)} <{local(tag)}>, "
                f"the reference allows {low}..{high}"
            )
    if (
        not spec
        and element.text is None
        and len(element) == 0
        and local(element.tag)
        in {
            "Id",
            "Version",
            "ProviderName",
            "DefaultLocale",
            "Permissions",
            "AppDomain",
        }
    ):
        raise AssertionError(f"<{local(element.tag)}> is empty")


def check_tree(root: etree._Element) -> None:
    """Every element in the document follows its XSD sequence."""
    for element in root.iter():
        if isinstance(element.tag, str):
            check_sequence(element)


def parse(document: bytes) -> etree._Element:
    """Parse with a parser that refuses entities and network access."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    return etree.fromstring(document, parser)


CLIENT_ID = "0f6cbd00-1234-4abc-8def-0123456789ab"
"""An Entra app registration's client id, for the manifest's WebApplicationInfo."""


@pytest.fixture(scope="module")
def outlook() -> etree._Element:
    """The Outlook manifest for the example host, with Entra sign-in."""
    return parse(outlook_manifest(BASE, entra_client_id=CLIENT_ID))


@pytest.fixture(scope="module")
def workspace() -> dict[str, object]:
    """The Google deployment for the example host, read back from its JSON bytes."""
    document = json.loads(workspace_deployment_json(BASE))
    assert isinstance(document, dict)
    return document


def find(root: etree._Element, path: str) -> list[etree._Element]:
    """XPath with the manifest's prefixes: app, bt, vo (1.0) and vo11."""
    result = root.xpath(path, namespaces={"app": APP, "bt": BT, "vo": VO10, "vo11": VO11})
    assert isinstance(result, list)
    return [node for node in result if isinstance(node, etree._Element)]


def one(root: etree._Element, path: str) -> etree._Element:
    """The single element at `path`."""
    found = find(root, path)
    assert len(found) == 1, f"{path}: {len(found)} found"
    return found[0]


def levels(root: etree._Element) -> list[etree._Element]:
    """The two VersionOverrides, 1.0 then 1.1."""
    return [one(root, "/app:OfficeApp/vo:VersionOverrides"), one(root, "//vo11:VersionOverrides")]


def own_descendants(level: etree._Element) -> Iterator[etree._Element]:
    """The elements of one VersionOverrides level, without a nested one."""
    for child in level:
        if not isinstance(child.tag, str) or local(child.tag) == "VersionOverrides":
            continue
        yield from (node for node in child.iter() if isinstance(node.tag, str))


# -- structure ------------------------------------------------------------------------------------


def test_the_manifest_is_well_formed_utf8_with_the_reference_namespaces(
    outlook: etree._Element,
) -> None:
    """The root is a MailApp OfficeApp in schema 1.1 with the xsi and basic-types prefixes."""
    raw = outlook_manifest(BASE)
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    raw.decode("utf-8")
    assert outlook.tag == q(APP, "OfficeApp")
    assert outlook.get(XSI_TYPE) == "MailApp"
    assert outlook.nsmap == {None: APP, "xsi": NS_XSI, "bt": BT}
    outer, inner = levels(outlook)
    assert (outer.get(XSI_TYPE), inner.get(XSI_TYPE)) == (
        "VersionOverridesV1_0",
        "VersionOverridesV1_1",
    )
    assert inner.getparent() is outer


def test_every_element_follows_the_reference_sequence(outlook: etree._Element) -> None:
    """Order, allowed children and counts hold at every level, OfficeApp down to the resources."""
    check_tree(outlook)


def test_the_officeapp_children_are_in_exact_reference_order(outlook: etree._Element) -> None:
    """The top level, spelled out: the order a reader of the reference expects."""
    assert [local(child.tag) for child in outlook] == [
        "Id",
        "Version",
        "ProviderName",
        "DefaultLocale",
        "DisplayName",
        "Description",
        "IconUrl",
        "HighResolutionIconUrl",
        "SupportUrl",
        "Hosts",
        "Requirements",
        "FormSettings",
        "Permissions",
        "Rule",
        "VersionOverrides",
    ]
    for level in levels(outlook):
        names = [local(child.tag) for child in level]
        assert names[:4] == ["Description", "Requirements", "Hosts", "Resources"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("app:Version", "app:Id"),
        ("app:Permissions", "app:FormSettings"),
        ("app:Requirements", "app:Hosts"),
    ],
)
def test_the_order_check_catches_a_swap(outlook: etree._Element, first: str, second: str) -> None:
    """Moving one element before its predecessor is caught: the check is not vacuous."""
    tree = parse(etree.tostring(outlook))
    a, b = one(tree, f"/app:OfficeApp/{first}"), one(tree, f"/app:OfficeApp/{second}")
    b.addprevious(a)  # moves `first` to just before `second`
    with pytest.raises(AssertionError, match="out of order"):
        check_tree(tree)


def test_the_order_check_catches_a_missing_required_element(outlook: etree._Element) -> None:
    """Dropping the required Rule fails the count check."""
    tree = parse(etree.tostring(outlook))
    tree.remove(one(tree, "/app:OfficeApp/app:Rule"))
    with pytest.raises(AssertionError, match="Rule"):
        check_tree(tree)


def test_id_is_a_guid_and_version_four_numbers(outlook: etree._Element) -> None:
    """Id matches the reference's UUID pattern; Version is n.n.n.n."""
    guid = one(outlook, "/app:OfficeApp/app:Id").text or ""
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", guid)
    assert guid == default_app_id(BASE)
    assert re.fullmatch(
        r"\d{1,5}(\.\d{1,5}){3}", one(outlook, "/app:OfficeApp/app:Version").text or ""
    )


def id_of(root: etree._Element) -> str | None:
    """The manifest's add-in id."""
    return one(root, "/app:OfficeApp/app:Id").text


def test_the_id_is_stable_per_base_url_and_can_be_given() -> None:
    """Same URL, same id (also with a trailing slash); another URL, another id; --app-id wins."""
    first = parse(outlook_manifest(BASE))
    again = parse(outlook_manifest(BASE + "/"))
    other = parse(outlook_manifest("https://other.example.org"))
    given = parse(outlook_manifest(BASE, app_id="{0F6CBD00-1234-4ABC-8DEF-0123456789AB}"))
    assert id_of(first) == id_of(again) != id_of(other)
    assert id_of(given) == "0f6cbd00-1234-4abc-8def-0123456789ab"
    with pytest.raises(ValueError, match="GUID"):
        outlook_manifest(BASE, app_id="not-a-guid")
    with pytest.raises(ValueError, match="four numbers"):
        outlook_manifest(BASE, version="1.0")
    assert outlook_manifest(BASE) == outlook_manifest(BASE)


def test_hosts_requirements_permissions_and_rule(outlook: etree._Element) -> None:
    """Mailbox 1.1 at the base, 1.3 for VersionOverrides 1.0, 1.5 for 1.1; ReadWriteItem; both
    appointment forms activate it."""
    assert one(outlook, "/app:OfficeApp/app:Hosts/app:Host").get("Name") == "Mailbox"
    base_set = one(outlook, "/app:OfficeApp/app:Requirements/app:Sets/app:Set")
    assert (base_set.get("Name"), base_set.get("MinVersion")) == ("Mailbox", "1.1")
    assert one(outlook, "/app:OfficeApp/app:Permissions").text == "ReadWriteItem"
    collection = one(outlook, "/app:OfficeApp/app:Rule")
    assert (collection.get(XSI_TYPE), collection.get("Mode")) == ("RuleCollection", "Or")
    rules = {(r.get(XSI_TYPE), r.get("ItemType"), r.get("FormType")) for r in collection}
    assert rules == {("ItemIs", "Appointment", "Read"), ("ItemIs", "Appointment", "Edit")}
    outer, inner = levels(outlook)
    for level, version in ((outer, "1.3"), (inner, "1.5")):
        sets = one(level, "./*[local-name()='Requirements']/bt:Sets")
        assert sets.get("DefaultMinVersion") == version
        assert [s.get("Name") for s in sets] == ["Mailbox"]


def test_form_settings_open_the_pane_in_read_and_compose(outlook: etree._Element) -> None:
    """Older clients get the pane from FormSettings: ItemRead (with a height) and ItemEdit."""
    pane = BASE + ROUTES["pane"]
    forms = find(outlook, "/app:OfficeApp/app:FormSettings/app:Form")
    assert [form.get(XSI_TYPE) for form in forms] == ["ItemRead", "ItemEdit"]
    for form in forms:
        assert one(form, "app:DesktopSettings/app:SourceLocation").get("DefaultValue") == pane
    height = int(one(forms[0], "app:DesktopSettings/app:RequestedHeight").text or "0")
    assert 32 <= height <= 450


def test_both_appointment_surfaces_open_the_task_pane_in_both_levels(
    outlook: etree._Element,
) -> None:
    """Organizer and attendee each get a button that shows the pane; 1.1 makes it pinnable."""
    for level in levels(outlook):
        ns = etree.QName(level).namespace
        points = find(level, "./*[local-name()='Hosts']/*/*[local-name()='DesktopFormFactor']/*")
        assert local(points[0].tag) == "FunctionFile"
        surfaces = [p.get(XSI_TYPE) for p in points if local(p.tag) == "ExtensionPoint"]
        assert surfaces == [
            "AppointmentOrganizerCommandSurface",
            "AppointmentAttendeeCommandSurface",
        ]
        actions = [a for a in level.iter(q(ns, "Action"))]
        assert len(actions) == 2
        for action in actions:
            assert action.get(XSI_TYPE) == "ShowTaskpane"
            assert action.find(q(ns, "SourceLocation")).get("resid") == "paneUrl"  # type: ignore[union-attr]
            pinning = action.find(q(ns, "SupportsPinning"))
            if ns == VO11:
                assert pinning is not None and pinning.text == "true"
            else:
                assert pinning is None  # not in the 1.0 schema
        for tab in level.iter(q(ns, "OfficeTab")):
            assert tab.get("id") == "TabDefault"


# -- resources, ids and strings -------------------------------------------------------------------

_REFERENCE_KINDS = {
    "Label": "ShortStrings",
    "Title": "ShortStrings",
    "Description": "LongStrings",
    "SourceLocation": "Urls",
    "FunctionFile": "Urls",
    "Image": "Images",
}


def test_every_resid_resolves_to_a_resource_of_the_right_kind(outlook: etree._Element) -> None:
    """Each reference names a resource of its own level (1.1 inherits nothing) and kind, and every
    resource is used."""
    for level in levels(outlook):
        resources: dict[str, str] = {}
        for group in one(level, "./*[local-name()='Resources']"):
            for resource in group:
                resources[resource.get("id") or ""] = local(group.tag)
        used = set()
        for node in own_descendants(level):
            resid = node.get("resid")
            if resid is None:
                continue
            kind = _REFERENCE_KINDS[local(node.tag)]
            assert resources.get(resid) == kind, f"{local(node.tag)} resid={resid} is not in {kind}"
            used.add(resid)
        assert used == set(resources), f"unused resources: {set(resources) - used}"


def test_ids_are_unique_and_at_most_32_characters(outlook: etree._Element) -> None:
    """Resource ids are unique per level; group and control ids per form factor; all <= 32."""
    for level in levels(outlook):
        resource_ids = [r.get("id") for g in one(level, "./*[local-name()='Resources']") for r in g]
        assert len(resource_ids) == len(set(resource_ids))
        ui_ids = [
            node.get("id")
            for node in own_descendants(level)
            if local(node.tag) in ("Group", "Control")
        ]
        assert len(ui_ids) == len(set(ui_ids)) == 4
        for node in own_descendants(level):
            for attribute in ("id", "resid"):
                value = node.get(attribute)
                if value is not None:
                    assert 1 <= len(value) <= 32, value


def test_string_lengths_follow_the_reference(outlook: etree._Element) -> None:
    """ShortStrings, DisplayName and ProviderName <= 125; LongStrings and Description <= 250."""

    def values(element: etree._Element) -> list[str]:
        return [element.get("DefaultValue") or ""] + [o.get("Value") or "" for o in element]

    limits = [
        ("/app:OfficeApp/app:DisplayName", 125),
        ("/app:OfficeApp/app:Description", 250),
        ("//bt:ShortStrings/bt:String", 125),
        ("//bt:LongStrings/bt:String", 250),
    ]
    for path, limit in limits:
        elements = find(outlook, path)
        assert elements
        for element in elements:
            for value in values(element):
                assert 1 <= len(value) <= limit, (path, value)
    assert 1 <= len(one(outlook, "/app:OfficeApp/app:ProviderName").text or "") <= 125


def test_names_descriptions_and_every_string_have_a_dutch_override(outlook: etree._Element) -> None:
    """DisplayName, Description, SupportUrl and every resource string carry an nl-NL Override."""
    assert one(outlook, "/app:OfficeApp/app:DefaultLocale").text == "en-US"
    localized = [
        *find(outlook, "/app:OfficeApp/app:DisplayName"),
        *find(outlook, "/app:OfficeApp/app:Description"),
        *find(outlook, "/app:OfficeApp/app:SupportUrl"),
        *find(outlook, "//bt:String"),
    ]
    assert len(localized) == 3 + 2 * 5
    for element in localized:
        overrides = list(element)
        assert [o.get("Locale") for o in overrides] == ["nl-NL"], local(element.tag)
    dutch = one(outlook, "/app:OfficeApp/app:Description/app:Override").get("Value") or ""
    assert "het goede gesprek" in dutch.lower()
    assert dutch != one(outlook, "/app:OfficeApp/app:Description").get("DefaultValue")


def _urls(root: etree._Element) -> list[str]:
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in ("DefaultValue", "Value"):
            value = element.get(name) or ""
            if "://" in value:
                found.append(value)
        if local(element.tag) == "AppDomain":
            found.append(element.text or "")
    return found


def test_every_url_is_https_and_under_the_base_url(outlook: etree._Element) -> None:
    """All URLs are https, at most 2048 characters, and served from the base URL."""
    urls = _urls(outlook)
    assert len(urls) >= 10
    for url in urls:
        assert url.startswith(BASE + "/"), url
        assert len(url) <= 2048


def test_app_domains_are_left_out_unless_given_and_then_well_placed() -> None:
    """No AppDomains by default; given ones are https origins, placed where the reference says."""
    root = parse(outlook_manifest(BASE))
    assert not find(root, "//app:AppDomains")
    root = parse(
        outlook_manifest(
            BASE, app_domains=["https://Login.Example.com/", "https://login.example.com"]
        )
    )
    check_tree(root)
    assert [d.text for d in find(root, "//app:AppDomain")] == ["https://login.example.com"]
    for url in _urls(root):
        assert url.startswith((BASE + "/", "https://login.example.com")), url
    for bad in ("http://login.example.com", "https://login.example.com/path", "login.example.com"):
        with pytest.raises(ValueError, match="app domain"):
            outlook_manifest(BASE, app_domains=[bad])


def test_web_application_info_names_the_entra_app_and_our_api(outlook: etree._Element) -> None:
    """The 1.1 level ends with WebApplicationInfo: the client id, our API's App ID URI on the
    base URL's host, and the scopes sign-in needs (Microsoft's SSO manifests put it there)."""
    inner = one(outlook, "//vo11:VersionOverrides")
    info = one(inner, "vo11:WebApplicationInfo")
    assert [child for child in inner if isinstance(child.tag, str)][-1] is info
    assert one(info, "vo11:Id").text == CLIENT_ID
    assert one(info, "vo11:Resource").text == f"api://goedgesprek.example.org/{CLIENT_ID}"
    scopes = [scope.text for scope in find(info, "vo11:Scopes/vo11:Scope")]
    assert scopes == ["openid", "profile", "offline_access", "access_as_user"]
    assert not find(outlook, "/app:OfficeApp/vo:VersionOverrides/vo:WebApplicationInfo")
    # Sign-in needs no AppDomains: NAA goes through the host; the dialog API needs none.
    assert not find(outlook, "//app:AppDomains")


def test_without_a_client_id_there_is_no_web_application_info() -> None:
    """A deployment without Entra sign-in (the local identity) has no WebApplicationInfo."""
    root = parse(outlook_manifest(BASE))
    check_tree(root)
    assert not find(root, "//vo11:WebApplicationInfo")


def test_the_app_id_uri_can_be_given_and_keeps_a_port() -> None:
    """An explicit App ID URI is used as given; the default keeps the base URL's port."""
    root = parse(outlook_manifest(BASE, entra_client_id=CLIENT_ID, app_id_uri="api://contoso/x/"))
    assert one(root, "//vo11:Resource").text == "api://contoso/x"
    root = parse(
        outlook_manifest(
            "http://127.0.0.1:8765", allow_loopback=True, entra_client_id=CLIENT_ID.upper()
        )
    )
    assert one(root, "//vo11:Id").text == CLIENT_ID
    assert one(root, "//vo11:Resource").text == f"api://127.0.0.1:8765/{CLIENT_ID}"


@pytest.mark.parametrize(
    ("client_id", "uri", "message"),
    [
        ("", None, "client id"),
        ("not-a-guid", None, "client id"),
        (f"{CLIENT_ID}</Id><Id>", None, "client id"),
        (CLIENT_ID, "https://contoso/x", "App ID URI"),
        (CLIENT_ID, "api://", "App ID URI"),
        (CLIENT_ID, "api://contoso/x?y=1", "App ID URI"),
        (CLIENT_ID, "api://contoso/a b", "App ID URI"),
        (None, "api://contoso/x", "client id"),
    ],
)
def test_bad_entra_settings_are_refused(
    client_id: str | None, uri: str | None, message: str
) -> None:
    """A client id that is not a GUID, or an App ID URI that is not api://..., is refused."""
    with pytest.raises(ValueError, match=message):
        outlook_manifest(BASE, entra_client_id=client_id, app_id_uri=uri)


def test_the_cli_takes_the_client_id_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GOEDGESPREK_ENTRA_CLIENT_ID (the server setting) reaches the manifest like the option."""
    monkeypatch.setenv("GOEDGESPREK_ENTRA_CLIENT_ID", CLIENT_ID)
    code, _, err = run(["manifest", "--base-url", BASE, "--out", str(tmp_path)])
    assert (code, err) == (0, "")
    root = parse((tmp_path / OUTLOOK_FILE).read_bytes())
    check_tree(root)
    assert one(root, "//vo11:WebApplicationInfo/vo11:Id").text == CLIENT_ID
    code, _, err = run(
        ["manifest", "--base-url", BASE, "--out", str(tmp_path), "--entra-client-id", "nope"]
    )
    assert code == 2
    assert err.startswith("error: the Entra client id must be")


def test_text_is_escaped() -> None:
    """A provider name with markup stays text: the document parses and round-trips it."""
    root = parse(outlook_manifest(BASE, provider='Ada & Grace <"HR">'))
    assert one(root, "/app:OfficeApp/app:ProviderName").text == 'Ada & Grace <"HR">'
    with pytest.raises(ValueError, match="provider"):
        outlook_manifest(BASE, provider="two\nlines")


# -- icons ----------------------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR, after checking the signature and the chunk's CRC."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    header = data[16:29]
    (crc,) = struct.unpack(">I", data[29:33])
    assert zlib.crc32(kind + header) & 0xFFFFFFFF == crc
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert (depth, colour) == (8, 6)  # 8-bit RGBA
    return width, height


def static_file(url: str) -> Path:
    """The file behind a /static/ URL of the example host."""
    path = urlsplit(url).path
    assert path.startswith("/static/"), url
    return ROOT / "addin" / path.lstrip("/")


def test_every_icon_route_is_a_png_of_its_size() -> None:
    """icon-N.png is an N x N RGBA PNG for every size the manifests use."""
    for size in ICON_SIZES:
        assert png_size(static_file(BASE + ROUTES[f"icon-{size}"])) == (size, size)


def test_icons_in_the_manifest_have_the_sizes_they_claim(outlook: etree._Element) -> None:
    """IconUrl is 64 px, HighResolutionIconUrl 128 px, and each button image is its `size`."""
    icon = one(outlook, "/app:OfficeApp/app:IconUrl").get("DefaultValue") or ""
    high = one(outlook, "/app:OfficeApp/app:HighResolutionIconUrl").get("DefaultValue") or ""
    assert png_size(static_file(icon)) == (64, 64)
    assert png_size(static_file(high)) == (128, 128)
    for level in levels(outlook):
        images = {
            image.get("id"): image.get("DefaultValue") or ""
            for image in find(level, "./*[local-name()='Resources']/bt:Images/bt:Image")
        }
        for reference in find(level, ".//*[local-name()='Icon']/bt:Image"):
            size = int(reference.get("size") or "0")
            assert png_size(static_file(images[reference.get("resid")])) == (size, size)
        for icon_list in find(level, ".//*[local-name()='Icon']"):
            sizes = sorted(int(image.get("size") or "0") for image in icon_list)
            assert sizes == [16, 32, 80]  # the sizes Microsoft requires


def _icon_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "scripts" / "make_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_icons_are_what_the_script_draws() -> None:
    """scripts/make_icons.py reproduces every committed PNG byte for byte."""
    script = _icon_script()
    assert tuple(script.SIZES) == ICON_SIZES
    for size in ICON_SIZES:
        assert (ICON_DIR / f"icon-{size}.png").read_bytes() == script.png(size), size


# -- base URL -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://goedgesprek.example.org", "https://goedgesprek.example.org"),
        ("  https://GoedGesprek.Example.org/  ", "https://goedgesprek.example.org"),
        ("HTTPS://host.example:8443/gg/", "https://host.example:8443/gg"),
        ("https://host.example/a/b-c_d.e~f", "https://host.example/a/b-c_d.e~f"),
        ("https://localhost:3000", "https://localhost:3000"),
    ],
)
def test_good_base_urls_are_normalized(given: str, expected: str) -> None:
    """Scheme and host lower-cased, surrounding space and trailing slash dropped."""
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "empty"),
        ("http://goedgesprek.example.org", "must be https"),
        ("http://127.0.0.1:8765", "allow_loopback"),
        ("ftp://host.example", "https://HOST"),
        ("host.example", "https://HOST"),
        ("https://", "https://HOST"),
        ("https://host.example/?x=1", "query or fragment"),
        ("https://host.example/#top", "query or fragment"),
        ("https://host.example?", "query or fragment"),
        ("https://user:pw@host.example", "user name or password"),
        ("https://host.example/a/../b", "plain segments"),
        ("https://host.example/a b", "spaces"),
        ("https://host.example:99999", "bad port"),
        ("https://host_name.example", "not a valid host"),
        ("https://host.example/%2e%2e", "plain segments"),
        ("https://host.example/" + "a" * 1800, "longer than"),
    ],
)
def test_bad_base_urls_are_refused_with_a_reason(given: str, message: str) -> None:
    """Each refusal says what is wrong."""
    with pytest.raises(ValueError, match=re.escape(message)):
        normalize_base_url(given)


def test_loopback_http_only_with_allow_loopback() -> None:
    """http://127.0.0.1 and http://localhost pass with allow_loopback; other http hosts never."""
    assert (
        normalize_base_url("http://127.0.0.1:8765", allow_loopback=True) == "http://127.0.0.1:8765"
    )
    assert (
        normalize_base_url("http://LOCALHOST:8765/", allow_loopback=True) == "http://localhost:8765"
    )
    with pytest.raises(ValueError, match="must be https"):
        normalize_base_url("http://host.example", allow_loopback=True)
    root = parse(outlook_manifest("http://127.0.0.1:8765", allow_loopback=True))
    check_tree(root)
    assert all(url.startswith("http://127.0.0.1:8765/") for url in _urls(root))


def test_a_path_prefix_is_kept_in_every_url() -> None:
    """An app served under a prefix gets every URL under that prefix."""
    root = parse(outlook_manifest("https://host.example/gg/"))
    assert all(url.startswith("https://host.example/gg/") for url in _urls(root))
    document = workspace_deployment("https://host.example/gg")
    assert document["addOns"]["calendar"]["eventOpenTrigger"]["runFunction"] == (
        "https://host.example/gg/workspace/calendar/event-open"
    )


# -- the Google deployment ------------------------------------------------------------------------

# Scopes an add-on like this may ask for; anything broader (calendar, drive, gmail.*) is refused.
ALLOWED_SCOPES = {
    "https://www.googleapis.com/auth/calendar.addons.execute",
    "https://www.googleapis.com/auth/calendar.addons.current.event.read",
    "https://www.googleapis.com/auth/calendar.addons.current.event.write",
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/gmail.send",
}
NEEDED_SCOPES = {
    "https://www.googleapis.com/auth/calendar.addons.execute",
    "https://www.googleapis.com/auth/calendar.addons.current.event.read",
    "https://www.googleapis.com/auth/calendar.addons.current.event.write",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/userinfo.email",
}
EVENT_SCOPES = {
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events",
}

# Field names of google.cloud.gsuiteaddons.v1.Deployment / AddOns and google.apps.script.type.
_DEPLOYMENT_FIELDS = {"name", "oauthScopes", "addOns", "etag"}
_ADDONS_FIELDS = {"common", "gmail", "drive", "calendar", "docs", "sheets", "slides", "httpOptions"}
_COMMON_FIELDS = {
    "name",
    "logoUrl",
    "layoutProperties",
    "addOnWidgetSet",
    "useLocaleFromApp",
    "homepageTrigger",
    "universalActions",
    "openLinkUrlPrefixes",
}
_CALENDAR_FIELDS = {
    "homepageTrigger",
    "conferenceSolution",
    "createSettingsUrlFunction",
    "eventOpenTrigger",
    "eventUpdateTrigger",
    "currentEventAccess",
}


def test_the_deployment_uses_only_the_resources_field_names(workspace: dict[str, object]) -> None:
    """Every key is a field of the Deployment resource, with the required ones present."""
    assert set(workspace) <= _DEPLOYMENT_FIELDS
    add_ons = workspace["addOns"]
    assert isinstance(add_ons, dict)
    assert set(add_ons) <= _ADDONS_FIELDS
    assert {"common", "calendar"} <= set(add_ons)
    assert set(add_ons["common"]) <= _COMMON_FIELDS
    assert {"name", "logoUrl", "homepageTrigger", "layoutProperties"} <= set(add_ons["common"])
    assert set(add_ons["calendar"]) <= _CALENDAR_FIELDS
    assert add_ons["httpOptions"] == {"authorizationHeader": "SYSTEM_ID_TOKEN"}


def test_calendar_triggers_and_event_access(workspace: dict[str, object]) -> None:
    """Homepage, event open and event update run our endpoints; the add-on reads and writes the
    open event."""
    add_ons = workspace["addOns"]
    assert isinstance(add_ons, dict)
    calendar, common = add_ons["calendar"], add_ons["common"]
    assert calendar["currentEventAccess"] == "READ_WRITE"
    assert calendar["eventOpenTrigger"] == {"runFunction": BASE + ROUTES["workspace-event-open"]}
    assert calendar["eventUpdateTrigger"] == {
        "runFunction": BASE + ROUTES["workspace-event-update"]
    }
    homepage = {"runFunction": BASE + ROUTES["workspace-homepage"], "enabled": True}
    assert calendar["homepageTrigger"] == common["homepageTrigger"] == homepage
    assert common["name"] == "Goed Gesprek"
    assert common["useLocaleFromApp"] is True
    for colour in common["layoutProperties"].values():
        assert re.fullmatch(r"#[0-9A-F]{6}", colour)
    assert common["layoutProperties"]["primaryColor"] == "#0F6CBD"
    assert png_size(static_file(common["logoUrl"])) == (128, 128)


def test_scopes_are_the_smallest_needed_list(workspace: dict[str, object]) -> None:
    """All scopes are known-allowed, the needed ones are there, one events scope, no mail, no
    duplicates, and nothing broader than needed."""
    scopes = workspace["oauthScopes"]
    assert isinstance(scopes, list)
    assert scopes == list(GOOGLE_SCOPES)
    assert len(scopes) == len(set(scopes))
    assert set(scopes) <= ALLOWED_SCOPES
    assert set(scopes) >= NEEDED_SCOPES
    assert len(EVENT_SCOPES & set(scopes)) == 1
    assert not any("gmail" in scope for scope in scopes)
    assert "https://www.googleapis.com/auth/calendar" not in scopes
    assert "https://www.googleapis.com/auth/drive" not in scopes


def _json_urls(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "oauthScopes":
                yield from _json_urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_urls(item)
    elif isinstance(value, str) and "://" in value:
        yield value


def test_every_deployment_url_is_https_under_the_base_url(workspace: dict[str, object]) -> None:
    """Trigger URLs, the logo and the link prefix are https under the base URL."""
    urls = list(_json_urls(workspace))
    assert len(urls) == 6
    for url in urls:
        assert url.startswith(BASE + "/"), url
    add_ons = workspace["addOns"]
    assert isinstance(add_ons, dict)
    assert add_ons["common"]["openLinkUrlPrefixes"] == [BASE + "/"]


def test_the_json_file_is_the_dict_and_deterministic() -> None:
    """The bytes are indented UTF-8 JSON ending in a newline, the same on every run."""
    raw = workspace_deployment_json(BASE)
    assert raw.endswith(b"}\n")
    assert json.loads(raw) == workspace_deployment(BASE)
    assert raw == workspace_deployment_json(BASE + "/")
    with pytest.raises(ValueError, match="must be https"):
        workspace_deployment("http://host.example")


# -- routes of the app ----------------------------------------------------------------------------


def test_the_route_list_is_one_constant_of_absolute_paths() -> None:
    """Paths start with '/', are unique, and there is an icon route for every icon size."""
    paths = list(ROUTES.values())
    assert all(path.startswith("/") for path in paths)
    assert len(paths) == len(set(paths))
    assert {f"icon-{size}" for size in ICON_SIZES} <= set(ROUTES)


def _route_paths() -> list[str]:
    outlook = parse(outlook_manifest(BASE))
    urls = [*_urls(outlook), *_json_urls(workspace_deployment(BASE))]
    prefixes = set(workspace_deployment(BASE)["addOns"]["common"]["openLinkUrlPrefixes"])
    return sorted({urlsplit(url).path for url in urls if url not in prefixes})


def test_every_manifest_url_is_one_of_the_routes() -> None:
    """The manifests point only at ROUTES, and at every one of them but the privacy page, which
    neither format has a field for (it goes into the AppSource and Marketplace listings)."""
    assert set(_route_paths()) == set(ROUTES.values()) - {ROUTES["privacy"]}


def test_every_manifest_url_is_a_route_of_the_app(tmp_path: Path) -> None:
    """Each path the manifests name, and every route, is served: a static file, or a rule in the
    app's url_map (Google POSTs to the add-on endpoints; Outlook and browsers GET the rest)."""
    app = create_app({"DATA_DIR": tmp_path, "TESTING": True})
    adapter = app.url_map.bind("h")
    missing = []
    for path in sorted({*_route_paths(), *ROUTES.values()}):
        if path.startswith("/static/"):
            if not (Path(app.static_folder or "") / path.removeprefix("/static/")).is_file():
                missing.append(path)
            continue
        method = "POST" if path.startswith("/workspace/") else "GET"
        try:
            adapter.match(path, method=method)
        except (NotFound, MethodNotAllowed):
            missing.append(f"{method} {path}")
    assert not missing, f"not served by the app: {missing}"


# -- writing files and the command line -----------------------------------------------------------


def test_write_manifests_writes_both_files(tmp_path: Path) -> None:
    """Both files land in the directory (made if needed) with exactly the generated bytes."""
    out = tmp_path / "new" / "dir"
    paths = write_manifests(BASE, out)
    assert paths == [out / OUTLOOK_FILE, out / WORKSPACE_FILE]
    assert paths[0].read_bytes() == outlook_manifest(BASE)
    assert paths[1].read_bytes() == workspace_deployment_json(BASE)


def test_bad_input_writes_nothing(tmp_path: Path) -> None:
    """A bad URL or app id is refused before any file is written."""
    for kwargs in ({"app_id": "nope"}, {"version": "x"}):
        with pytest.raises(ValueError):
            write_manifests(BASE, tmp_path / "out", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        write_manifests("http://host.example", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def run(args: list[str]) -> tuple[int, str, str]:
    """Run `goedgesprek` with `args`; return exit code, stdout and stderr."""
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stdout, result.stderr


def test_cli_prints_the_files_it_wrote(tmp_path: Path) -> None:
    """`goedgesprek manifest` writes both files and prints their paths, one a line."""
    code, out, err = run(["manifest", "--base-url", BASE, "--out", str(tmp_path)])
    assert (code, err) == (0, "")
    assert out.splitlines() == [str(tmp_path / OUTLOOK_FILE), str(tmp_path / WORKSPACE_FILE)]
    check_tree(parse((tmp_path / OUTLOOK_FILE).read_bytes()))


def test_cli_options_reach_the_manifest(tmp_path: Path) -> None:
    """--app-id, --addin-version, --provider and --allow-loopback are used."""
    guid = "0f6cbd00-1234-4abc-8def-0123456789ab"
    args = ["manifest", "--base-url", "http://127.0.0.1:8765", "--out", str(tmp_path)]
    args += [
        "--app-id",
        guid,
        "--addin-version",
        "1.2.3.4",
        "--provider",
        "Contoso",
        "--allow-loopback",
    ]
    code, _, err = run(args)
    assert (code, err) == (0, "")
    root = parse((tmp_path / OUTLOOK_FILE).read_bytes())
    assert one(root, "/app:OfficeApp/app:Id").text == guid
    assert one(root, "/app:OfficeApp/app:Version").text == "1.2.3.4"
    assert one(root, "/app:OfficeApp/app:ProviderName").text == "Contoso"


@pytest.mark.parametrize(
    "args",
    [
        ["--base-url", "http://goedgesprek.example.org"],
        ["--base-url", "https://goedgesprek.example.org/?x=1"],
        ["--base-url", BASE, "--app-id", "nope"],
        ["--base-url", BASE, "--addin-version", "1"],
        ["--base-url", BASE, "--app-domain", "http://x.example"],
        [],
    ],
)
def test_cli_bad_input_is_one_error_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    """A bad option gives exactly one 'error:' line on stderr, exit 2, and no files."""
    code, out, err = run(["manifest", "--out", str(tmp_path / "out"), *args])
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_cli_unwritable_out_is_one_error_line(tmp_path: Path) -> None:
    """An --out that is a file gives one 'error:' line and exit 1."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(["manifest", "--base-url", BASE, "--out", str(blocker / "sub")])
    assert code == 1
    assert err.startswith("error: cannot write to ")
    assert err.count("\n") == 1
