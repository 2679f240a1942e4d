"""Draw the add-in's icons: two people in a speech bubble, brand blue on a transparent background.

Pillow is not a dependency, so this is a tiny rasteriser: each shape is a test "is this point
inside?", every pixel averages a grid of samples (anti-aliasing), and the PNG is written by hand
with zlib and struct. The output is deterministic, so the committed files can be checked against it.

Run from the repository root: `python scripts/make_icons.py` (writes addin/static/icons/).
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

SIZES = (16, 32, 64, 80, 128)
BRAND = (0x0F, 0x6C, 0xBD)  # Fluent brand blue #0F6CBD
WHITE = (0xFF, 0xFF, 0xFF)
OUT_DIR = Path(__file__).resolve().parent.parent / "addin" / "static" / "icons"

Shape = Callable[[float, float], bool]


def _rounded_rect(left: float, top: float, right: float, bottom: float, radius: float) -> Shape:
    def inside(x: float, y: float) -> bool:
        if not (left <= x <= right and top <= y <= bottom):
            return False
        # Distance to the nearest corner centre; only the corners are round.
        cx = min(max(x, left + radius), right - radius)
        cy = min(max(y, top + radius), bottom - radius)
        return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2

    return inside


def _triangle(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> Shape:
    def side(p: tuple[float, float], q: tuple[float, float], x: float, y: float) -> float:
        return (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0])

    def inside(x: float, y: float) -> bool:
        d1, d2, d3 = side(a, b, x, y), side(b, c, x, y), side(c, a, x, y)
        has_neg = d1 < 0 or d2 < 0 or d3 < 0
        has_pos = d1 > 0 or d2 > 0 or d3 > 0
        return not (has_neg and has_pos)

    return inside


def _circle(cx: float, cy: float, r: float) -> Shape:
    return lambda x, y: (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def _person(cx: float) -> Shape:
    """A head and rounded shoulders, centred on `cx`, inside the bubble."""
    head = _circle(cx, 0.30, 0.085)
    body = _circle(cx, 0.63, 0.145)

    def inside(x: float, y: float) -> bool:
        return head(x, y) or (body(x, y) and y <= 0.605)

    return inside


_BUBBLE = _rounded_rect(0.05, 0.08, 0.95, 0.74, 0.17)
_TAIL = _triangle((0.22, 0.70), (0.46, 0.70), (0.18, 0.94))
_PEOPLE = (_person(0.33), _person(0.67))


def _colour_at(x: float, y: float) -> tuple[int, int, int] | None:
    """The colour of the mark at (x, y) in the unit square, or None where it is transparent."""
    if any(person(x, y) for person in _PEOPLE):
        return WHITE
    if _BUBBLE(x, y) or _TAIL(x, y):
        return BRAND
    return None


def render(size: int) -> bytes:
    """The icon as RGBA rows (4 bytes a pixel, `size` rows of `size` pixels)."""
    grid = 8 if size <= 32 else 4  # small icons need finer sampling to stay crisp
    samples = grid * grid
    out = bytearray()
    for row in range(size):
        for col in range(size):
            red = green = blue = covered = 0
            for sy in range(grid):
                y = (row + (sy + 0.5) / grid) / size
                for sx in range(grid):
                    colour = _colour_at((col + (sx + 0.5) / grid) / size, y)
                    if colour is not None:
                        red += colour[0]
                        green += colour[1]
                        blue += colour[2]
                        covered += 1
            if covered:
                # Straight (not premultiplied) alpha: average the covered samples' colour.
                out += bytes(
                    (
                        round(red / covered),
                        round(green / covered),
                        round(blue / covered),
                        round(255 * covered / samples),
                    )
                )
            else:
                out += b"\x00\x00\x00\x00"
    return bytes(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png(size: int) -> bytes:
    """The icon as a PNG file: 8-bit RGBA, no interlace, filter type 0 on every row."""
    pixels = render(size)
    stride = size * 4
    raw = b"".join(b"\x00" + pixels[row * stride : (row + 1) * stride] for row in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def main(argv: list[str]) -> int:
    """Write icon-<size>.png for every size into the given directory (default: the app's)."""
    out_dir = Path(argv[1]) if len(argv) > 1 else OUT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        path = out_dir / f"icon-{size}.png"
        path.write_bytes(png(size))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
