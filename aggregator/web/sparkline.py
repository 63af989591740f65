"""A source's entries per day as a small inline SVG bar chart: no script, no external file,
so it works under the page's Content-Security-Policy, and labelled for screen readers."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR_WIDTH = 4
GAP = 1
HEIGHT = 24


def sparkline(counts: Sequence[int], label: str) -> Markup:
    """Bars for `counts` (oldest first), scaled to the largest; `label` names the chart."""
    tallest = max(counts, default=0) or 1
    width = len(counts) * (BAR_WIDTH + GAP)
    bars = []
    for index, count in enumerate(counts):
        height = round(count / tallest * HEIGHT) if count else 0
        bars.append(
            f'<rect x="{index * (BAR_WIDTH + GAP)}" y="{HEIGHT - height}" '
            f'width="{BAR_WIDTH}" height="{height}"><title>{count}</title></rect>'
        )
    return Markup(
        f'<svg class="sparkline" role="img" aria-label="{escape(label)}" '
        f'width="{width}" height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
        f'<rect class="baseline" x="0" y="{HEIGHT - 1}" width="{width}" height="1"/>'
        + "".join(bars)
        + "</svg>"
    )
