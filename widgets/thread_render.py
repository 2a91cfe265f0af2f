"""Turn one message row into the strips the conversation pane shows.

Kept apart from the widget so the layout rules (which side, which marks, how long a
message may get on screen) read in one place and can be tested on their own.

Layout, mirroring the client's messenger: a one-column gutter (the keyboard cursor
mark), then the client's messages in a bubble on the left and the company's on the
right. Private notes are on the company side too but in a bubble of their own colour
with a bar on the left and a "Private note · not sent to client" line. System events
are one centred, muted line. A day separator precedes the first message of each day.

Every piece of client text goes through :func:`widgets.safe_text.clean` and into
``Text(...)`` as plain text: markup is never parsed. One message renders at most
:data:`MAX_BODY_LINES` wrapped lines, and only the characters those lines can hold are
ever wrapped, so a 1 MB message costs what a screenful costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from storage.constants import DELIVERED, EVENT, FAILED, INBOUND, NOTE, QUEUED, READ, SENDING, SENT
from storage.i18n import _
from storage.rows import MessageRow
from widgets.safe_text import clean, one_line

__all__ = ["MAX_BODY_LINES", "RenderContext", "ThreadStyles", "day_label", "human_size",
           "render_message", "delivery_label"]

MAX_BODY_LINES = 40
TAB = "    "


@dataclass(frozen=True)
class ThreadStyles:
    """Rich styles of the widget's component classes (resolved by the widget)."""

    base: Style = field(default_factory=Style)
    inbound: Style = field(default_factory=Style)
    outbound: Style = field(default_factory=Style)
    note: Style = field(default_factory=Style)
    note_mark: Style = field(default_factory=Style)
    event: Style = field(default_factory=Style)
    day: Style = field(default_factory=Style)
    author: Style = field(default_factory=Style)
    meta: Style = field(default_factory=Style)
    delivery: Style = field(default_factory=Style)
    read: Style = field(default_factory=Style)
    failed: Style = field(default_factory=Style)
    attachment: Style = field(default_factory=Style)
    truncated: Style = field(default_factory=Style)
    cursor: Style = field(default_factory=Style)


@dataclass(frozen=True)
class RenderContext:
    console: Console
    width: int
    styles: ThreadStyles
    contact_name: str = ""
    today: date = field(default_factory=lambda: datetime.now().astimezone().date())
    moved_numbers: dict[int, int] = field(default_factory=dict)
    tz: tzinfo | None = None  # the zone times are shown in; None: the machine's local zone


def human_size(size: int) -> str:
    """``532 B``, ``12.3 KB``, ``4.0 MB``: sizes as people read them (1 KB = 1024 B)."""
    value = float(max(0, size))
    for unit in (_("B"), _("KB"), _("MB"), _("GB")):
        if value < 1024 or unit == _("GB"):
            return f"{int(value)} {unit}" if unit == _("B") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} {_('TB')}"  # pragma: no cover


def local(moment: datetime, tz: tzinfo | None = None) -> datetime:
    """``moment`` in zone ``tz`` (None: the machine's local zone); naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz)


def day_label(day: date, today: date) -> str:
    if day == today:
        return _("Today")
    if day == today - timedelta(days=1):
        return _("Yesterday")
    return day.isoformat()


def delivery_label(state: str | None) -> str:
    """The mark an outbound message carries for its delivery state."""
    return {
        QUEUED: "◷ " + _("queued"),
        SENDING: "↑ " + _("sending"),
        SENT: "✓ " + _("sent"),
        DELIVERED: "✓✓ " + _("delivered"),
        READ: "✓✓ " + _("read"),
        FAILED: "✗ " + _("failed"),
    }.get(state or "", "")


def _event_text(msg: MessageRow) -> str:
    """The event's text; "moved from" events name the task numbers the store recorded."""
    return msg.text


class _Lines:
    """Collects the strips of one block; every strip is exactly ``width`` cells."""

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx
        self.strips: list[Strip] = []

    def centred(self, text: Text, style: Style) -> None:
        width = self.ctx.width
        room = width - 1
        text.no_wrap = True
        text.overflow = "ellipsis"
        text.truncate(room, overflow="ellipsis")
        left = max(0, (room - text.cell_len) // 2)
        segs = [Segment(" ", self.ctx.styles.base), Segment(" " * left, style)]
        segs += list(text.render(self.ctx.console))
        strip = Strip(segs).apply_style(style)
        self.strips.append(strip.adjust_cell_length(width, self.ctx.styles.base))

    def bubble(self, content: Text, offset: int, bubble_width: int, bubble_style: Style,
               edge: str = " ", edge_style: Style | None = None) -> None:
        """One line of a bubble at ``offset`` (after the gutter), padded to the bubble.

        Built as one list of segments and one Strip: this runs for every line of every
        message in the window, so it avoids intermediate strips."""
        base = self.ctx.styles.base
        inner = bubble_width - 2
        if content.cell_len > inner:
            content = content.copy()
            content.truncate(inner)
        segs = [Segment(" " * (offset + 1), base), Segment(edge, edge_style or bubble_style)]
        segs.extend(Segment.apply_style(content.render(self.ctx.console), bubble_style))
        tail = inner - content.cell_len + 1
        segs.append(Segment(" " * tail, bubble_style))
        rest = self.ctx.width - (offset + 1 + bubble_width)
        if rest > 0:
            segs.append(Segment(" " * rest, base))
        self.strips.append(Strip(segs, max(self.ctx.width, offset + 1 + bubble_width)))

    def blank(self) -> None:
        self.strips.append(Strip.blank(self.ctx.width, self.ctx.styles.base))


def _lines_needed(text: str, inner: int) -> int:
    """Wrapped lines ``text`` needs at ``inner`` columns (exact below 200k characters)."""
    if len(text) < 200_000:
        return sum(max(1, -(-len(line) // inner)) for line in text.split("\n"))
    return text.count("\n") + 1 + len(text) // inner


def _body_text(raw: str, inner: int) -> tuple[str, int]:
    """The head of ``raw`` worth wrapping, and how many wrapped lines are left out.

    Only ``inner * MAX_BODY_LINES`` characters are ever looked at for the shown part,
    so a 1 MB message or a 10,000-character line costs what a screenful costs.
    """
    inner = max(1, inner)
    head = raw[: inner * MAX_BODY_LINES + MAX_BODY_LINES]
    shown: list[str] = []
    budget = MAX_BODY_LINES
    for line in head.split("\n"):
        if budget <= 0:
            break
        need = max(1, -(-len(line) // inner))
        if need > budget:
            shown.append(line[: inner * budget])
            budget = 0
            break
        shown.append(line)
        budget -= need
    text = "\n".join(shown)
    rest = raw[len(text):]
    if rest.startswith("\n"):
        rest = rest[1:]
    hidden = _lines_needed(rest, inner) if rest.strip() else 0
    return text, hidden


def _wrap(text: Text, console: Console, width: int) -> list[Text]:
    return list(text.wrap(console, max(1, width), overflow="fold", no_wrap=False))


def render_message(msg: MessageRow, ctx: RenderContext, *, day_separator: bool) -> list[Strip]:
    """The strips of one message block (day separator, bubble or event line, spacing)."""
    out = _Lines(ctx)
    st = ctx.styles
    when = local(msg.created_at, ctx.tz)
    if day_separator:
        label = Text(f"── {day_label(when.date(), ctx.today)} ──", style=st.day)
        out.centred(label, st.base)
    if msg.kind == EVENT:
        stamp = f" · {when:%H:%M} ·"
        # The time always shows: only the event's text is shortened to what is left
        # of the line (gutter, "· " and the stamp).
        text = one_line(_event_text(msg), max(8, ctx.width - 1 - 2 - cell_len(stamp)))
        out.centred(Text(f"· {text}{stamp}", style=st.event), st.base)
        return out.strips
    _render_bubble(out, msg, ctx, when)
    out.blank()
    return out.strips


def _render_bubble(out: _Lines, msg: MessageRow, ctx: RenderContext, when: datetime) -> None:
    st = ctx.styles
    avail = max(8, ctx.width - 1)
    bubble_width = avail if avail < 40 else max(36, avail * 3 // 4)
    bubble_width = min(bubble_width, avail)
    inner = bubble_width - 2
    inbound = msg.kind == INBOUND
    note = msg.kind == NOTE
    offset = 0 if inbound else avail - bubble_width
    bubble = st.inbound if inbound else st.note if note else st.outbound
    edge, edge_style = ("┃", st.note_mark) if note else (" ", None)

    def line(text: Text) -> None:
        out.bubble(text, offset, bubble_width, bubble, edge, edge_style)

    if note:
        # In a narrow pane the long mark would be cut mid-word: the short one keeps
        # what matters, that the client does not see it.
        mark = "🔒 " + _("Private note · not sent to client")
        if cell_len(mark) > inner:
            mark = "🔒 " + _("Not sent to client")
        line(Text(mark, style=st.note_mark))

    # Header: author · time · marks ... delivery state
    if inbound:
        author = ctx.contact_name or _("Client")
    else:
        author = msg.author_operator_name or _("Company")
    marks: list[str] = [f"{when:%H:%M}"]
    if msg.deleted:
        marks.append(_("deleted by the client"))
    if msg.edited:
        marks.append(_("edited · v") if msg.versions else _("edited"))
    if msg.moved_from_task_id is not None:
        number = ctx.moved_numbers.get(msg.moved_from_task_id)
        marks.append(_("moved from #{number}").format(number=number) if number is not None
                     else _("moved from another task"))
    if msg.scheduled_at is not None and msg.delivery_state == QUEUED:  # C2: scheduled send
        marks.append(_("scheduled {time}").format(time=f"{local(msg.scheduled_at, ctx.tz):%d.%m %H:%M}"))
    state = delivery_label(msg.delivery_state) if msg.kind not in (INBOUND, NOTE) else ""
    meta = " · " + " · ".join(marks)
    room = inner - cell_len(meta) - (cell_len(state) + 1 if state else 0)
    header = Text()
    header.append(one_line(author, max(4, room)), st.author)
    header.append(meta, st.meta)
    if state:
        pad = inner - header.cell_len - cell_len(state)
        header.append(" " * max(1, pad))
        state_style = st.failed if msg.delivery_state == FAILED else (
            st.read if msg.delivery_state == READ else st.delivery)
        header.append(state, state_style)
    line(header)
    if msg.quote_text or msg.quote_message_id is not None:
        # What this reply answers: the client's words it quotes, one line.
        quoted = one_line(msg.quote_text or _("(a client message)"), max(4, inner - 2))
        line(Text(f"┃ {quoted}", style=st.meta))

    body, hidden = _body_text(msg.text, inner)
    if body or not msg.attachments:
        text = Text(clean(body).replace("\t", TAB))
        pieces = _wrap(text, ctx.console, inner)
        if len(pieces) > MAX_BODY_LINES:  # wide characters wrap to more lines than counted
            hidden += len(pieces) - MAX_BODY_LINES
            pieces = pieces[:MAX_BODY_LINES]
        for piece in pieces:
            line(piece)
    if hidden:
        line(Text(_("… (message truncated in view, {count} more lines)").format(count=hidden),
                  style=st.truncated))
    for att in msg.attachments:
        size = human_size(att.size)
        name = one_line(att.name or _("(unnamed file)"), max(4, inner - cell_len(size) - 6))
        line(Text(f"📎 {name} · {size}", style=st.attachment))
    if msg.delivery_state == QUEUED and msg.failure_reason and msg.kind not in (INBOUND, NOTE):
        # Waiting, not failed: say why it has not gone out yet (a channel not running).
        text = Text(_("Waiting: {reason}").format(reason=clean(msg.failure_reason)[: inner * 3]),
                    style=st.meta)
        for piece in _wrap(text, ctx.console, inner)[:3]:
            line(piece)
    if msg.delivery_state == FAILED and msg.kind not in (INBOUND, NOTE):
        reason = clean(msg.failure_reason or _("unknown error"))[: inner * 4]
        text = Text(_("Not delivered: {reason} — press r to retry").format(reason=reason),
                    style=st.failed)
        for piece in _wrap(text, ctx.console, inner)[:5]:
            line(piece)
