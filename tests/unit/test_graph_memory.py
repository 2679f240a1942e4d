"""What a Graph session remembers per file (ids, download URLs) stays bounded."""

from __future__ import annotations

from connectors.graph import _keep


def test_memory_keeps_the_newest_and_forgets_the_oldest() -> None:
    """Past the limit the oldest entries go; putting a key again makes it the newest."""
    memory: dict[str, int] = {}
    for n in range(5):
        _keep(memory, f"k{n}", n, 3)
    assert list(memory) == ["k2", "k3", "k4"]
    _keep(memory, "k2", 20, 3)
    _keep(memory, "k5", 5, 3)
    assert memory == {"k4": 4, "k2": 20, "k5": 5}
