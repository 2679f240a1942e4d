"""Retention: a pair's dossier is erased some months after its last conversation, once the pair
has ended (AVG/GDPR art. 5(1)(e): kept no longer than needed).

``RETENTION_MONTHS`` (default `DEFAULT_MONTHS`; ``0`` keeps dossiers until someone erases them).
A pair has ended when none of its series is active; its last conversation is the last
occurrence of its series' rules. The worker runs `Retention.run` once a day; each pair goes
through `addin.erasure.Erasure` with the reason ``retention``, and the log gets counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from dateutil.relativedelta import relativedelta

from addin.erasure import Erasure
from cadence.model import Series

log = logging.getLogger(__name__)

DEFAULT_MONTHS: Final = 24
MAX_MONTHS: Final = 120


def retention_months(config: Mapping[str, Any]) -> int:
    """``RETENTION_MONTHS``: 0 (keep) or 1-120; `DEFAULT_MONTHS` unless set."""
    raw = config.get("RETENTION_MONTHS")
    if raw in (None, ""):
        return DEFAULT_MONTHS
    try:
        months = int(str(raw).strip())
    except ValueError:
        months = -1
    if not 0 <= months <= MAX_MONTHS:
        raise ValueError(
            f"RETENTION_MONTHS must be a whole number from 0 (keep) to {MAX_MONTHS}, not {raw!r}"
        )
    return months


@dataclass
class RetentionReport:
    """What one run found and did: counts, and the receipts' ids (no names)."""

    months: int
    pairs_due: int = 0
    pairs_erased: int = 0
    series_erased: int = 0
    failed: int = 0
    receipts: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "months": self.months,
            "pairs_due": self.pairs_due,
            "pairs_erased": self.pairs_erased,
            "series_erased": self.series_erased,
            "failed": self.failed,
            "receipts": list(self.receipts),
        }


class Retention:
    """Finds ended pairs past retention and erases them."""

    def __init__(self, erasure: Erasure, months: int) -> None:
        self._erasure = erasure
        self._registry = erasure.registry
        self._clock = erasure.clock
        self.months = months

    def due(self, now: datetime | None = None) -> list[list[Series]]:
        """The pairs (each its series) whose last conversation is older than the retention."""
        if self.months <= 0:
            return []
        cutoff = (now or self._clock()) - relativedelta(months=self.months)
        active = {e.id for e in self._active()}
        pairs: dict[tuple[str, str], list[Series]] = {}
        for entry in self._registry.all_series():
            key = (entry.pair.employee.email.lower(), entry.pair.manager.email.lower())
            pairs.setdefault(key, []).append(entry)
        found = []
        for entries in pairs.values():
            if any(e.id in active for e in entries):
                continue
            ends = [e.rule.last() or e.created for e in entries]
            known = [end for end in ends if end is not None]
            if known and len(known) == len(ends) and max(known) < cutoff:
                found.append(entries)
        return found

    def _active(self) -> Iterator[Series]:
        """Every active series, a page at a time (one query a page, not one a series)."""
        after = ""
        for _page in range(100_000):
            page = self._registry.active(after=after)
            yield from page
            if len(page) < 500:
                return
            after = page[-1].id

    def run(self, *, dry_run: bool = False) -> RetentionReport:
        report = RetentionReport(self.months)
        due = self.due()
        report.pairs_due = len(due)
        if not dry_run:
            for entries in due:
                try:
                    receipt = self._erasure.erase_series(entries, reason="retention")
                except Exception:  # one pair failing must not keep the others
                    report.failed += 1
                    log.exception("retention: a pair of %s series was not erased", len(entries))
                    continue
                report.pairs_erased += 1
                report.series_erased += len(entries)
                report.receipts.append(receipt.id)
        log.info(
            "retention (%s months%s): %s pairs due, %s erased (%s series), %s failed",
            self.months,
            ", dry run" if dry_run else "",
            report.pairs_due,
            report.pairs_erased,
            report.series_erased,
            report.failed,
        )
        return report
