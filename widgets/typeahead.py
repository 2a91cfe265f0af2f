"""Type-ahead: keys typed while the focus moves arrive, in order, where it lands.

Textual hands each key to the widget focused *when the app reads it*. An operator who
types ``Enter * greet Enter`` in one burst on the task list has every key after the
first queued for the task list, because the composer (and then the quick-reply
picker) takes the focus only a few loop turns later: the ``*`` and the word were lost
or went to the wrong place.

A widget that may move the focus elsewhere on a key (the task list opening a task on
Enter, the composer asking for the quick-reply picker on ``*``) says so through
``moves_focus(key, binding_id)``: the app asks the focused widget before handing each
key out, and holds what follows when the answer is yes. The app reads keys faster
than the widget handles them, so this is the only moment where nothing typed later
has been handed out yet. A widget may also call :func:`hold_keys` itself when it
finds out late. While holding:

* the app keeps every new key in the buffer instead of handing it out;
* the holding widget hands back, through :func:`held`, the keys that were already
  queued for it;
* when the focus lands on another widget, the buffer is handed out in the order the
  keys were typed (their time stamps), to wherever the focus now is.

If the focus does not move after all, the widget calls :func:`release_keys` (or the
hold ends after :data:`HOLD_LIMIT` seconds) and the keys go, in order, to the widget
that still has the focus.

The app owns one :class:`TypeAhead` as ``app.typeahead`` (widgets look it up by that
name and do nothing without one, so they work in any app).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from textual import events
from textual.timer import Timer
from textual.widget import Widget

HOLD_LIMIT = 2.0  # seconds a hold may last when the focus never moves (a busy machine
# may take a while to open a task; a widget that keeps the focus releases at once)


class TypeAhead:
    """The keys held while the focus moves (one per app)."""

    def __init__(self, deliver: Callable[[events.Key], Awaitable[None]],
                 set_timer: Callable[..., Timer]) -> None:
        self._deliver = deliver  # hands a fresh key to the focused widget, as a typed key
        self._set_timer = set_timer
        self._holder: Widget | None = None
        self._buffer: list[tuple[float, int, str, str | None]] = []
        self._timer: Timer | None = None
        self._releasing = False
        self._trigger: events.Key | None = None
        self._order = itertools.count()

    @property
    def holder(self) -> Widget | None:
        """The widget whose focus move the keys wait for (None: not holding)."""
        return self._holder

    def hold(self, holder: Widget, trigger: events.Key | None = None) -> None:
        """Keep keys until the focus leaves ``holder`` (or :data:`HOLD_LIMIT` passes);
        ``trigger``, the key that moves the focus, still goes to the holder."""
        self._holder = holder
        self._trigger = trigger
        if self._timer is not None:
            self._timer.stop()
        self._timer = self._set_timer(HOLD_LIMIT, self.release)

    def take(self, event: events.Key) -> bool:
        """Keep ``event`` if holding (True), stopping it; False: handle it normally."""
        trigger = self._trigger
        if self._holder is None or event is trigger or (
                trigger is not None and event.time < trigger.time):
            return False  # the trigger itself, or typed before it: it goes where it was sent
        self._buffer.append((event.time, next(self._order), event.key, event.character))
        event.stop()
        event.prevent_default()
        return True

    async def focus_moved(self, focused: Widget | None) -> None:
        """The focus changed: hand the keys out if it left the holder."""
        if self._holder is not None and focused is not None and focused is not self._holder:
            await self.release()

    async def release(self) -> None:
        """Stop holding and hand the kept keys, in typing order, to the focused widget."""
        if self._releasing:
            return
        self._holder = self._trigger = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._releasing = True
        try:
            while self._buffer and self._holder is None:
                self._buffer.sort()
                typed, _n, key, character = self._buffer.pop(0)
                key_event = events.Key(key, character)
                key_event.time = typed  # handed back again, it keeps its place in line
                await self._deliver(key_event)
        finally:
            self._releasing = False


def moves_focus(widget: Widget, key: events.Key, binding_id: str | None) -> bool:
    """Whether ``widget`` (focused) will move the focus away when it handles ``key``
    (``binding_id``: the id of the binding the key triggers there, if any)."""
    ask = getattr(widget, "moves_focus", None)
    return bool(ask(key, binding_id)) if callable(ask) else False


def typeahead_of(widget: Widget) -> TypeAhead | None:
    ahead: Any = getattr(widget.app, "typeahead", None)
    return ahead if isinstance(ahead, TypeAhead) else None


def hold_keys(widget: Widget) -> None:
    """``widget`` is about to move the focus: keep the keys typed meanwhile."""
    ahead = typeahead_of(widget)
    if ahead is not None:
        ahead.hold(widget)


def held(widget: Widget, event: events.Key) -> bool:
    """Call first in ``widget``'s key handler: True if the key was kept for later."""
    ahead = typeahead_of(widget)
    return ahead is not None and ahead.holder is widget and ahead.take(event)


def release_keys(widget: Widget) -> None:
    """``widget`` held the keys but keeps the focus after all: hand them out now."""
    ahead = typeahead_of(widget)
    if ahead is not None and ahead.holder is widget:
        widget.app.call_later(ahead.release)
