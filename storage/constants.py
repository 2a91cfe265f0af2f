"""The plain constants of the domain: statuses, message kinds, delivery states, roles.

No ORM here (nothing but strings and tuples), so the widgets and the connectors can
name a status or a delivery state without loading peewee or a database driver.
``storage.models`` re-exports every name, so ``from storage.models import NEW`` still
works inside storage.

Labels are English source text, translated where they are shown (``_(STATUS_LABELS[s])``);
``scripts/compile_translations.py`` extracts them from here (its ``DEFERRED`` table).
"""

from __future__ import annotations

# Task statuses. "Active" means the task still receives the client's messages.
NEW = "new"
IN_PROGRESS = "in_progress"
WAITING = "waiting"
DONE = "done"
COMPLETED = "completed"
CANCELLED = "cancelled"
STATUSES = (NEW, IN_PROGRESS, WAITING, DONE, COMPLETED, CANCELLED)
INACTIVE_STATUSES = (COMPLETED, CANCELLED)
# Left out of the console's default lists and of "needing an answer".
CLOSED_STATUSES = (DONE, COMPLETED, CANCELLED)
STATUS_LABELS = {
    "new": "New", "in_progress": "In progress", "waiting": "Waiting for the client",
    "done": "Done", "completed": "Completed", "cancelled": "Cancelled",
}

# Message kinds.
INBOUND = "inbound"
OUTBOUND = "outbound"
NOTE = "note"
EVENT = "event"
MESSAGE_KINDS = (INBOUND, OUTBOUND, NOTE, EVENT)

# Delivery states of outbound messages.
QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
DELIVERED = "delivered"
READ = "read"
FAILED = "failed"
DELIVERY_STATES = (QUEUED, SENDING, SENT, DELIVERED, READ, FAILED)

# A new task after a completed one quotes this many of its last messages (per channel:
# ``history_messages`` in the channel's settings).
DEFAULT_HISTORY = 10
HISTORY_CHOICES = (1, 5, 10, 20, 50)

# Operator roles (their values are also their English labels: "operator", "supervisor").
OPERATOR = "operator"
SUPERVISOR = "supervisor"
ROLES = (OPERATOR, SUPERVISOR)

__all__ = [
    "CANCELLED", "COMPLETED", "DEFAULT_HISTORY", "DELIVERED", "DELIVERY_STATES", "DONE", "EVENT",
    "FAILED", "HISTORY_CHOICES", "INACTIVE_STATUSES", "INBOUND", "IN_PROGRESS", "MESSAGE_KINDS",
    "NEW", "NOTE", "OPERATOR", "OUTBOUND", "QUEUED", "READ", "ROLES", "SENDING", "SENT",
    "STATUSES", "STATUS_LABELS", "SUPERVISOR", "WAITING",
]
