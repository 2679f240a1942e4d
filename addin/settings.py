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
