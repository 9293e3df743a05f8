"""Small SVG charts rendered on the server: no script, readable by screen readers (each chart
has a title and the same numbers are in a table next to it)."""

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD = 480, 200, 32


def bar_chart(bars: Sequence[tuple[str, int]], title: str) -> str:
    """Vertical bars, one per (label, value), scaled to the largest value."""
    top = max((v for _, v in bars), default=0) or 1
    slot = (WIDTH - 2 * PAD) / max(len(bars), 1)
    parts = []
    for i, (label, value) in enumerate(bars):
        height = (HEIGHT - 2 * PAD) * value / top
        x = PAD + i * slot + slot * 0.15
        y = HEIGHT - PAD - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" '
            f'fill="#1f5fbf"><title>{escape(label)}: {value:,}</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - PAD + 16}" text-anchor="middle" '
            f'font-size="12">{escape(label)}</text>'
        )
    return _frame(title, "".join(parts))


def line_chart(points: Sequence[tuple[str, float]], title: str, low: float, high: float) -> str:
    """A polyline through (label, value) points on a fixed [low, high] scale."""
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)
    coords = [
        (PAD + i * step, HEIGHT - PAD - (HEIGHT - 2 * PAD) * (min(max(v, low), high) - low) / span)
        for i, (_, v) in enumerate(points)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f5fbf"><title>{escape(label)}: '
        f"{value:.3f}</title></circle>"
        for (x, y), (label, value) in zip(coords, points, strict=True)
    )
    axis = (
        f'<text x="4" y="{PAD}" font-size="12">{high:g}</text>'
        f'<text x="4" y="{HEIGHT - PAD}" font-size="12">{low:g}</text>'
    )
    return _frame(
        title,
        f'<polyline points="{line}" fill="none" stroke="#1f5fbf" stroke-width="2"/>' + dots + axis,
    )


def _frame(title: str, body: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        f'stroke="#d9dee6"/>{body}</svg>'
    )
