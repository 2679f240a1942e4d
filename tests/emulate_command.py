"""`goedgesprek emulate` run as a process, for the tests of what it prints and serves.

Shared by the emulate-CLI tests of every provider: stdout is read on a thread, so every wait
is bounded, and the process stops as Ctrl-C would.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

GOEDGESPREK = Path(sys.executable).with_name("goedgesprek")


class EmulateCommand:
    """``goedgesprek emulate <args>`` running; its stdout lines queued as they come."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            [str(GOEDGESPREK), "emulate", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def line(self, timeout: float = 30) -> str:
        """The next line of stdout, waiting at most `timeout` seconds."""
        return self.lines.get(timeout=timeout)

    def settings(self, count: int) -> dict[str, str]:
        """The next `count` lines, each ``NAME=value``."""
        return dict(self.line().split("=", 1) for _ in range(count))

    def user(self) -> dict[str, str]:
        """The next line, ``user=... token=... url=...``, as a dict."""
        return parse_user_line(self.line())

    def stop(self) -> tuple[int, list[str], str]:
        """Interrupt as Ctrl-C would; the exit code, the rest of stdout, and stderr."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self._reader.join(timeout=5)
        assert self.process.stdout is not None and self.process.stderr is not None
        with self.process.stdout, self.process.stderr:
            err = self.process.stderr.read()
        rest = []
        while not self.lines.empty():
            rest.append(self.lines.get_nowait())
        return self.process.returncode, rest, err


def parse_user_line(line: str) -> dict[str, str]:
    """``user=... token=... url=...`` as a dict."""
    return dict(part.split("=", 1) for part in line.split())
