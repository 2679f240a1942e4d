"""Settings, read once from the app config (which reads `GOEDGESPREK_*` variables)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.keyring import default_data_dir


@dataclass(frozen=True, slots=True)
class Settings:
    """What the app needs to know about its deployment."""

    data_dir: Path
    country: str = "NL"
    default_locale: str = "nl"
    template_dirs: tuple[Path, ...] = ()

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> Settings:
        """Settings from a Flask config; unknown keys are ignored."""
        dirs = config.get("TEMPLATE_DIRS") or ()
        if isinstance(dirs, str):
            dirs = [d for d in dirs.split(os.pathsep) if d]
        return cls(
            data_dir=Path(config.get("DATA_DIR") or default_data_dir()),
            country=str(config.get("COUNTRY") or "NL").upper(),
            default_locale=str(config.get("LOCALE") or "nl"),
            template_dirs=tuple(Path(d) for d in dirs),
        )


@dataclass(frozen=True, slots=True)
class ProxyHops:
    """How many proxies in front of us set each ``X-Forwarded-*`` header (0: trust none)."""

    x_for: int = 0
    x_proto: int = 0
    x_host: int = 0

    @property
    def any(self) -> bool:
        """Whether any forwarded header is trusted."""
        return bool(self.x_for or self.x_proto or self.x_host)


def proxy_hops(value: str | None) -> ProxyHops:
    """``PROXY_FIX`` read: empty or ``0`` (no proxy), ``1`` (one proxy sets all three), or
    ``x_for,x_proto,x_host`` counts such as ``2,1,1``. `ValueError` with a sentence otherwise."""
    text = (value or "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return ProxyHops()
    if text in ("true", "yes", "on"):
        text = "1"
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 1:
        parts *= 3
    if len(parts) != 3 or not all(p.isdigit() and int(p) <= 10 for p in parts):
        raise ValueError(
            f"PROXY_FIX must be a hop count (1) or three counts x_for,x_proto,x_host "
            f"such as 1,1,1 (each 0-10), not {value!r}"
        )
    x_for, x_proto, x_host = (int(p) for p in parts)
    return ProxyHops(x_for, x_proto, x_host)


def gc_freeze(config: Mapping[str, Any]) -> bool:
    """``GC_FREEZE`` read: whether what start-up made is left out of later garbage collections.

    On by default for a served app, off when ``TESTING`` (a test process makes many apps).
    `ValueError` with a sentence for a value that is not yes or no.
    """
    value = config.get("GC_FREEZE")
    if value is None or value == "":
        return not config.get("TESTING")
    if isinstance(value, bool | int):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"GC_FREEZE must be true or false, not {value!r}")
