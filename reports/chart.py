"""The report's chart, drawn on the server with no library: downtime minutes per day as bars.

Mail clients show an inline PNG (a cid: part) and never run scripts or load remote images by
default, so the mail carries a PNG written here with zlib alone; the admin page draws the same
bars as SVG. Both scale to the worst day."""

import struct
import zlib

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 600, 160, 10
BACKGROUND = (255, 255, 255)
AXIS = (150, 150, 150)
GOOD = (46, 160, 67)  # a day without downtime: a thin green mark
BAD = (207, 34, 46)


def _layout(values: list[float]) -> tuple[float, float, float]:
    """(bar width, plot height, top value)."""
    slot = (WIDTH - 2 * PAD) / max(len(values), 1)
    return slot, HEIGHT - 2 * PAD, max([*values, 1.0])


def png_bars(values: list[float]) -> bytes:
    slot, plot_h, top = _layout(values)
    pixels = [[BACKGROUND] * WIDTH for _ in range(HEIGHT)]
    base = HEIGHT - PAD

    def fill(x0: int, y0: int, x1: int, y1: int, colour) -> None:
        for y in range(max(y0, 0), min(y1, HEIGHT)):
            row = pixels[y]
            for x in range(max(x0, 0), min(x1, WIDTH)):
                row[x] = colour

    fill(PAD, base, WIDTH - PAD, base + 1, AXIS)
    for i, value in enumerate(values):
        x0 = int(PAD + i * slot + slot * 0.15)
        x1 = max(int(PAD + (i + 1) * slot - slot * 0.15), x0 + 1)
        if value > 0:
            height = max(int(plot_h * value / top), 2)
            fill(x0, base - height, x1, base, BAD)
        else:
            fill(x0, base - 2, x1, base, GOOD)
    raw = b"".join(b"\x00" + bytes(channel for pixel in row for channel in pixel) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def svg_bars(values: list[float], labels: list[str], *, title: str) -> SafeString:
    slot, plot_h, top = _layout(values)
    base = HEIGHT - PAD
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{PAD}" y1="{base}" x2="{WIDTH - PAD}" y2="{base}" stroke="rgb{AXIS}"/>',
    ]
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        x = PAD + i * slot + slot * 0.15
        height = max(plot_h * value / top, 2) if value > 0 else 2
        colour = BAD if value > 0 else GOOD
        parts.append(
            f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{max(slot * 0.7, 1):.1f}" '
            f'height="{height:.1f}" fill="rgb{colour}"><title>{escape(label)}: {value:g} min</title></rect>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text in it is escaped above
