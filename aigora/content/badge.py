"""An embeddable SVG badge showing a content item's community status next to the content."""

from html import escape

COLORS = {
    "helpful": "#2e7d32",
    "not helpful": "#c62828",
    "needs more ratings": "#757575",
    "unrated": "#9e9e9e",
}
_CHAR_PX = 7  # approximate width of one character at 11px Verdana, enough for layout


def badge_svg(status: str, score: float | None, n_ratings: int) -> str:
    """A flat two-part badge: "aigora" | "<status> <score> (<n>)"."""
    label = "aigora"
    value = status if score is None else f"{status} {score:+.2f} ({n_ratings})"
    color = COLORS.get(status, COLORS["unrated"])
    left = _CHAR_PX * len(label) + 12
    right = _CHAR_PX * len(value) + 12
    total = left + right
    title = escape(f"Aigora community status: {value}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{color}"/>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" '
        'font-size="11">'
        f'<text x="{left / 2}" y="14">{escape(label)}</text>'
        f'<text x="{left + right / 2}" y="14">{escape(value)}</text>'
        "</g></svg>"
    )
