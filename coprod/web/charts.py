"""Charts drawn on the server as SVG: readable without JavaScript, with a title and description
for screen readers, and always shown next to a table of the same figures."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

BAR_COLOUR = "#005eb8"  # NHS blue
TEXT_COLOUR = "#212b32"


def bar_chart(
    chart_id: str, title: str, description: str, items: Sequence[tuple[str, float]], unit: str = ""
) -> Markup:
    """A horizontal bar chart. Values are labelled on the bars, so colour carries no meaning."""
    width, label_width, bar_height, gap = 640, 200, 28, 12
    height = max(len(items), 1) * (bar_height + gap) + gap
    top = max((value for _, value in items), default=0) or 1
    parts = [
        f'<svg class="coprod-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    room = width - label_width - 90
    for index, (label, value) in enumerate(items):
        y = gap + index * (bar_height + gap)
        bar = max(int(room * value / top), 2 if value else 0)
        shown = f"{value:g}{unit}"
        parts += [
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.7:.0f}" text-anchor="end" '
            f'font-size="16" fill="{TEXT_COLOUR}">{escape(label)}</text>',
            f'<rect x="{label_width}" y="{y}" width="{bar}" height="{bar_height}" '
            f'fill="{BAR_COLOUR}"/>',
            f'<text x="{label_width + bar + 6}" y="{y + bar_height * 0.7:.0f}" font-size="16" '
            f'fill="{TEXT_COLOUR}">{escape(shown)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part above is escaped
