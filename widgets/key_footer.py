"""The footer at any width: whole key labels only, fewer keys when the room is short.

Textual's ``Footer`` lays its keys out in a row and lets the last ones run past the
edge, so at 80 columns a label is cut mid-word ("/ Se", "f1 Справк"). ``KeyFooter``
measures each key as the compact footer draws it and keeps, in the screen's binding
order (its priority), only the keys that fit whole beside the command-palette key; a key
that does not fit is left out, and a shorter one after it may still be shown.

It recomposes only when what it shows changed: Textual's ``Footer`` rebuilds every key
(widgets removed and mounted, a layout pass) on each ``refresh_bindings()``, and the
inbox asks for one on every cursor move, where the keys rarely change.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

HELP_ACTIONS = frozenset({"help", "app.help"})


def key_cells(widget: FooterKey) -> int:
    """Cells a compact key takes with its right margin: "key description" and one space."""
    label = widget.key_display + (" " + widget.description if widget.description else "")
    return cell_len(label) + 1


class KeyFooter(Footer):
    """A compact footer that never cuts a label (see the module doc)."""

    # The palette key is docked right: Textual's compact margin would leave a stray cell
    # after "palette" at the bottom-right corner.
    DEFAULT_CSS = """
    KeyFooter.-compact FooterKey.-command-palette { margin-right: 0; }
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(**kwargs)
        self._laid_out_width = 0
        self._shown: tuple[Any, ...] | None = None  # what the keys showed when composed

    def room(self) -> int:
        width = self.size.width or self.app.size.width
        return width

    def shown_bindings(self) -> tuple[Any, ...]:
        """What the keys would show now: each shown binding, whether it is enabled, its
        tooltip (the check_action answers of the screen, the focused widget, the app)."""
        active = self.screen.active_bindings
        palette = self.app.COMMAND_PALETTE_BINDING
        return tuple((key, b.binding.action, b.binding.description, b.enabled, b.tooltip)
                     for key, b in active.items() if b.binding.show or key == palette)

    def bindings_changed(self, screen: Screen) -> None:
        """Recompose only if the keys to show are not the ones shown (see the module doc)."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if self.is_attached and self.shown_bindings() != self._shown:
            await self.recompose()

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self.shown_bindings()
        widgets = list(super().compose())
        palette = [w for w in widgets if w.has_class("-command-palette")]
        keys = [w for w in widgets if not w.has_class("-command-palette")]
        room = self.room()
        for widget in palette:
            # border-left (1) + "key description"
            room -= 1 + cell_len(widget.key_display + " " + widget.description)
        chosen = self.choose(keys, room)
        self._laid_out_width = self.room()
        yield from chosen
        yield from palette

    @staticmethod
    def choose(keys: list, room: int) -> list:
        """Keys in order that fit whole in ``room`` cells; help is kept first of all."""
        need = {id(w): (key_cells(w) if isinstance(w, FooterKey)
                        else cell_len(str(w.render())) if isinstance(w, FooterLabel) else 0)
                for w in keys}
        keep: set[int] = set()
        for widget in keys:  # help first: the key that explains every other key
            if isinstance(widget, FooterKey) and widget.action in HELP_ACTIONS:
                if need[id(widget)] <= room:
                    keep.add(id(widget))
                    room -= need[id(widget)]
        for widget in keys:
            if id(widget) in keep or not isinstance(widget, FooterKey):
                continue
            if need[id(widget)] <= room:
                keep.add(id(widget))
                room -= need[id(widget)]
        return [w for w in keys if id(w) in keep]

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._laid_out_width:
            self.call_after_refresh(self.recompose)
