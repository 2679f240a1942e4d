"""Recurrence rules (interface placeholder; being implemented)."""

from __future__ import annotations


class Rule:
    """Placeholder."""
