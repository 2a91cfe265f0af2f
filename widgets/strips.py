"""Strip and style helpers shared by the line-API widgets (task list, conversation pane).

Why :func:`separate_blanks`: a row drawn in one style becomes one text run, blanks
and words together ("      #28 Hello", "   — Today —"). SVG renderers (rsvg, which
draws the snapshot reviews) drop a text run's leading blanks, so such rows were drawn
shifted left. Giving leading blanks a segment of their own, in a style that draws
exactly the same but is not *equal* to the text's (so ``Segment.simplify``, which
screenshots apply, does not join them again), makes every text run start at its glyph.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

__all__ = ["part_style", "separate_blanks", "separate_strip_blanks"]

# Turns no attribute on (draws like no style) but compares unequal to the text's style.
_BLANK = Style(underline=False)


def separate_blanks(segments: Iterable[Segment]) -> list[Segment]:
    """``segments`` with each segment's leading blanks split into a segment of their own."""
    out: list[Segment] = []
    for segment in segments:
        text, style, control = segment
        stripped = text.lstrip(" ")
        if control or stripped == text:
            out.append(segment)
            continue
        if not stripped:  # all blank: kept apart from a text run that may follow
            out.append(Segment(text, (style or Style()) + _BLANK))
            continue
        out.append(Segment(" " * (len(text) - len(stripped)), (style or Style()) + _BLANK))
        out.append(Segment(stripped, style))
    return out


def separate_strip_blanks(strip: Strip) -> Strip:
    """A strip drawn the same, with leading blanks of each run kept apart (see above)."""
    return Strip(separate_blanks(strip), strip.cell_length)


def part_style(widget: Widget, name: str) -> Style:
    """A component's own style (no inherited background) with its colour resolved.

    ``get_component_rich_style(name, partial=True)`` hands back a theme's ``auto``
    and translucent colours unresolved: ``$text-muted`` ("auto 60%") came out pure
    white, invisible on the light theme and not muted on the dark one. The full style
    has the colour blended over the widget's background; this keeps that colour and
    the partial style's own attributes (bold, italic, a background it sets itself)."""
    partial = widget.get_component_rich_style(name, partial=True)
    if partial.color is None:
        return partial
    return partial + Style(color=widget.get_component_rich_style(name).color)
