"""The msgraph-sdk modules the Graph connector uses, and two SDK warnings silenced for good.

kiota-abstractions 1.16 and msgraph-sdk 1.65 warn from class bodies, at import time: the
deprecated ``GetQueryParameters`` alias and every generated ``...RequestConfiguration`` class.
The warnings are about the SDK's own generated code, not ours; with warnings as errors they
would stop the import, and the SDK imports request builders lazily inside properties, so a
first ``client.me.events`` would raise them mid-request. The connector builds its URLs itself
and needs no request builder, so none is imported ahead (that cost a fresh process about 20 ms
before its first Graph call): instead an import hook runs the modules that carry those
warnings, whenever something imports them, with only those two messages silenced.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import re
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any

_SDK_WARNINGS = r"(GetQueryParameters is deprecated|This class is deprecated)"

_WARNING_MODULES = re.compile(
    r"msgraph\.generated\..*_request_builder|kiota_abstractions\.default_query_parameters"
)
"""The modules whose class bodies raise one of `_SDK_WARNINGS`."""

MODULES = (
    "msgraph.generated.models.o_data_errors.o_data_error",
    "kiota_serialization_json.json_parse_node_factory",
    "kiota_serialization_json.json_serialization_writer_factory",
    "kiota_serialization_text.text_parse_node_factory",
    "msgraph",
)
"""The SDK modules a Graph call of the connector reaches beyond its own imports."""


class _QuietLoader(importlib.abc.Loader):
    """Runs one module with the SDK's import-time deprecation warnings silenced."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", _SDK_WARNINGS, DeprecationWarning)
            self._loader.exec_module(module)

    def __getattr__(self, name: str) -> Any:
        # get_code, get_data, is_package and the rest: the wrapped loader's own.
        return getattr(self._loader, name)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds the modules of `_WARNING_MODULES` with the other finders, to load them quietly."""

    quiet_sdk_imports = True

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not _WARNING_MODULES.fullmatch(fullname):
            return None
        for finder in sys.meta_path:
            if finder is self or getattr(finder, "quiet_sdk_imports", False):
                continue
            find = getattr(finder, "find_spec", None)
            spec: importlib.machinery.ModuleSpec | None = (
                find(fullname, path, target) if find is not None else None
            )
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def import_sdk(name: str) -> ModuleType:
    """Import one SDK module with the SDK's own import-time deprecation warnings silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _SDK_WARNINGS, DeprecationWarning)
        return importlib.import_module(name)


def import_all() -> None:
    """Import every module in `MODULES` (what importing the connector pays for, once)."""
    for name in MODULES:
        import_sdk(name)


if not any(getattr(finder, "quiet_sdk_imports", False) for finder in sys.meta_path):
    sys.meta_path.insert(0, _QuietFinder())
import_all()
