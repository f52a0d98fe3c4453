"""Line charts drawn on the server as inline SVG: the console works with no internet and no
JavaScript library. Gaps (hours without data) break the line instead of dropping to zero."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 360, 120
LEFT, RIGHT, TOP, BOTTOM = 34, 6, 8, 18


def _ceiling(values: list[float], unit: str, threshold: float | None) -> float:
    top = max([*values, threshold or 0, 1.0])
    if unit == "%":
        return 100.0 if top > 50 else max(10.0, float(int(top * 1.2) + 1))
    return top * 1.15


def svg_chart(points: list[dict], *, title: str, unit: str, threshold: float | None = None) -> SafeString:
    values = [p["value"] for p in points if p["value"] is not None]
    top = _ceiling(values, unit, threshold)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * min(value, top) / top

    segments, current = [], []
    for i, point in enumerate(points):
        if point["value"] is None:
            if current:
                segments.append(current)
            current = []
            continue
        current.append(f"{LEFT + i * step:.1f},{y(point['value']):.1f}")
    if current:
        segments.append(current)
    parts = [
        f'<svg class="vigil-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}, last 24 hours">',
        f"<title>{escape(title)} ({escape(unit)}), last 24 hours</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" class="axis"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end" class="label">{top:g}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end" class="label">0</text>',
        f'<text x="{LEFT}" y="{HEIGHT - 4}" class="label">-24 h</text>',
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" text-anchor="end" class="label">now</text>',
    ]
    if threshold is not None and threshold <= top:
        parts.append(
            f'<line x1="{LEFT}" y1="{y(threshold):.1f}" x2="{WIDTH - RIGHT}" y2="{y(threshold):.1f}" '
            f'class="threshold"><title>threshold {threshold:g} {escape(unit)}</title></line>'
        )
    for segment in segments:
        if len(segment) == 1:
            cx, cy = segment[0].split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" class="line"/>')
        else:
            parts.append(f'<polyline points="{" ".join(segment)}" class="line"/>')
    if not values:
        parts.append(
            f'<text x="{LEFT + plot_w / 2:.0f}" y="{TOP + plot_h / 2:.0f}" text-anchor="middle" '
            'class="label">no data</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
