"""The collision notice before a reply goes out (issue 17).

Another operator typing in the task now, or another operator's reply stored since this
operator started typing (:func:`storage.collision.collision`): the notice names them
and shows their replies' text; "Send anyway" is one deliberate choice, Esc keeps the
text. Presence comes from the app (:mod:`console.presence_wiring`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.presence_wiring import announcer, tracker
from storage.collision import Collision, collision
from storage.i18n import _
from widgets.composer import Composer
from widgets.safe_text import one_line

if TYPE_CHECKING:
    from console.screens.inbox import InboxScreen

REPLY_EXCERPT = 200  # characters of each other reply shown in the notice
REPLIES_SHOWN = 3


def collision_text(found: Collision) -> str:
    """What the notice says: who is typing, and the other replies with their text."""
    lines: list[str] = []
    names = sorted({one_line(e.operator_name, 30) for e in found.typing})
    if names:
        lines.append(_("{names} is typing in this task now.").format(names=", ".join(names)))
    for reply in found.replies[:REPLIES_SHOWN]:
        lines.append(_("{name} replied: {text}").format(
            name=one_line(reply.author_operator_name or _("(no name)"), 30),
            text=one_line(reply.text, REPLY_EXCERPT)))
    more = len(found.replies) - REPLIES_SHOWN
    if more > 0:
        lines.append(_("and {n} more").format(n=more))
    return "\n".join(lines)


def stop_typing(app: Any) -> None:
    presence = announcer(app)
    if presence is not None:
        presence.stop_typing()


def check_collision(screen: InboxScreen, composer: Composer, task_id: int,
                    send: Callable[[], None]) -> None:
    """Run ``send`` at once when nobody else is answering; otherwise ask first."""
    since = composer.typing_since or datetime.now(UTC)
    presence = announcer(screen.app)
    session = presence.session if presence is not None else None
    live = tracker(screen.app)

    def checked(found: Collision) -> None:
        if not found:
            send()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                send()
            else:
                composer.focus()

        from console.screens.confirm import ConfirmDialog  # imported when first asked

        screen.app.push_screen(ConfirmDialog(_("Someone else is answering"),
                                             collision_text(found), _("Send anyway")),
                               answered)

    screen.store_call(lambda: collision(screen.store, live, task_id, screen.me.id, since,
                                        session), checked)
