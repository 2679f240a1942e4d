"""The msgraph-sdk modules the Graph connector uses, imported once with two SDK warnings silenced.

kiota-abstractions 1.16 and msgraph-sdk 1.65 warn from class bodies, at import time: the
deprecated ``GetQueryParameters`` alias and every generated ``...RequestConfiguration`` class.
The warnings are about the SDK's own generated code, not ours; with warnings as errors they
would stop the import, and the SDK imports request builders lazily inside properties, so a
first ``client.me.events`` would raise them mid-request. Every module the connector touches is
therefore imported here, once, with only those two messages silenced; later imports are cached.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

_SDK_WARNINGS = r"(GetQueryParameters is deprecated|This class is deprecated)"

MODULES = (
    "kiota_abstractions.default_query_parameters",
    "msgraph.generated.users.users_request_builder",
    "msgraph.generated.users.item.user_item_request_builder",
    "msgraph.generated.users.item.events.events_request_builder",
    "msgraph.generated.users.item.events.item.event_item_request_builder",
    "msgraph.generated.users.item.events.item.instances.instances_request_builder",
    "msgraph.generated.users.item.events.item.attachments.attachments_request_builder",
    "msgraph.generated.users.item.events.item.attachments.item.attachment_item_request_builder",
    "msgraph.generated.users.item.calendar.calendar_request_builder",
    "msgraph.generated.users.item.calendar.get_schedule.get_schedule_request_builder",
    "msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_response",
    "msgraph.generated.users.item.calendar_view.calendar_view_request_builder",
    "msgraph.generated.users.item.send_mail.send_mail_request_builder",
    "msgraph.generated.models.event_collection_response",
    "msgraph.generated.models.attachment_collection_response",
    "msgraph.generated.models.file_attachment",
    "msgraph.generated.models.message",
    "msgraph.generated.models.schedule_information",
    "msgraph.generated.models.o_data_errors.o_data_error",
    "kiota_serialization_json.json_parse_node_factory",
    "kiota_serialization_json.json_serialization_writer_factory",
    "kiota_serialization_text.text_parse_node_factory",
    "msgraph",
)
"""Every SDK module a Graph call reaches, heaviest first."""


def import_sdk(name: str) -> ModuleType:
    """Import one SDK module with the SDK's own import-time deprecation warnings silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _SDK_WARNINGS, DeprecationWarning)
        return importlib.import_module(name)


def import_all() -> None:
    """Import every module in `MODULES` (what `warm_up` pays for, once per process)."""
    for name in MODULES:
        import_sdk(name)


import_all()
