"""A one-column scroll indicator that a line-API view draws inside its own lines.

Textual's ``ScrollBar`` is a widget of its own: it re-renders several times a frame
whenever the view's virtual size, window or position changes, and showing or hiding
it lays the whole screen out again. Opening a long thread paid about 10 ms for it,
scrolling paid it on every step (``bench/PROFILE.md`` §9). A view that renders its
lines anyway draws this column for one cell a line: the thumb's rows are computed
here, once per frame, and a click or a drag on the column maps back to an offset.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 1  # cells the indicator takes at the view's right edge


@dataclass(frozen=True)
class Thumb:
    """The rows ``[start, end)`` of the thumb in a column ``height`` rows tall."""

    start: int
    end: int

    def covers(self, row: int) -> bool:
        return self.start <= row < self.end


def _thumb_size(height: int, total: int) -> int:
    return max(1, round(height * height / total))


def thumb(height: int, total: int, top: float) -> Thumb | None:
    """The thumb for content ``total`` lines long shown ``height`` lines at a time from
    line ``top``; None when everything fits (no thumb is drawn)."""
    if height <= 0 or total <= height:
        return None
    size = _thumb_size(height, total)
    max_top = total - height
    start = round((height - size) * min(max(top, 0.0), max_top) / max_top)
    return Thumb(start, start + size)


def offset_at(row: int, height: int, total: int) -> float:
    """The scroll offset that centres the thumb on ``row`` (a click or a drag there)."""
    if height <= 0 or total <= height:
        return 0.0
    size = _thumb_size(height, total)
    max_top = total - height
    travel = max(1, height - size)
    return min(float(max_top), max(0.0, (row - size / 2) / travel * max_top))
