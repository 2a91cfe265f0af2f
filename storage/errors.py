"""Errors the domain operations raise. Each carries a message fit to show a person."""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base of every error the store raises on purpose; ``str(err)`` is user-facing."""


class NotFound(SwitchboardError):
    """A task, contact, channel, message or operator that does not exist."""


class RuleViolation(SwitchboardError):
    """The operation would break one of the product's rules; nothing was changed."""


class NoChannel(RuleViolation):
    """A reply on a task that is bound to no channel."""


class CannotWriteFirst(RuleViolation):
    """The channel does not allow the company to open a conversation."""


class TemplateError(SwitchboardError):
    """A quick-reply template names a variable that does not exist."""

    def __init__(self, message: str, unknown: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.unknown = unknown


class ReadOnly(RuleViolation):
    """A field that no operator operation may edit (additional description data)."""


class TooLong(RuleViolation):
    """A reply over the channel's text limit, in a channel where it may not be split."""


class WindowClosed(RuleViolation):
    """The channel accepts replies only for a while after the client's last message."""


class NeedsConfirmation(SwitchboardError):
    """The operation is allowed but must be confirmed; ``str()`` says what it would do."""
