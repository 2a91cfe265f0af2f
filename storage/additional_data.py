"""A task's additional description data: whose keys are whose, and how they merge.

The data is the system's account of a conversation: the channel, the page the client
was on, UTM tags, the phone a messenger reported, the link to the previous task. Three
sources write into it, with different rights:

* **the store** sets :data:`STORE_KEYS` itself (which channel, which previous task);
* **a connector** (``Inbound.system_data``) sets anything else it observed, but never a
  store key, a link field, nor the client namespace;
* **the client** (``Inbound.client_data``: the generic API's ``data``, web-chat form
  fields) only ever writes inside its own namespace, ``additional_data["client"]``, so
  it can overwrite no system key whatever it sends.

:func:`merge` is the one rule; both ingest paths call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.i18n import _
from storage.text import storable_value

CLIENT_KEY = "client"  # the namespace of client-supplied data
STORE_KEYS = frozenset({"channel", "channel_kind", "previous_task", "started_by"})
LINK_FIELDS = frozenset({"previous_task", "next_task", "merged_into", "merged_from", "task"})
CONNECTOR_KEYS = frozenset({
    "page", "referrer", "phone", "username", "language", "email", "ip", "user_agent",
    "page_title", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
})
RESERVED = STORE_KEYS | LINK_FIELDS | CONNECTOR_KEYS | {CLIENT_KEY}
UTM_PREFIX = "utm_"


def is_reserved(key: str) -> bool:
    """A key only the system may set (``utm_*`` included)."""
    return key in RESERVED or key.startswith(UTM_PREFIX)


def _present(value: Any) -> bool:
    return value not in (None, "")


def merge(existing: Mapping[str, Any] | None, system_data: Mapping[str, Any] | None = None,
          client_data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``existing`` updated with a connector's ``system_data`` and a client's ``client_data``.

    Empty values are ignored. A connector cannot set a store key, a link field or the
    client namespace; client data goes under ``"client"`` and nowhere else."""
    data = dict(existing or {})
    for key, value in (system_data or {}).items():
        key = str(key)
        if _present(value) and key not in STORE_KEYS and key not in LINK_FIELDS \
                and key != CLIENT_KEY:
            data[key] = storable_value(value)
    client = {str(k): storable_value(v) for k, v in (client_data or {}).items() if _present(v)}
    if client:
        previous = data.get(CLIENT_KEY)
        data[CLIENT_KEY] = {**(previous if isinstance(previous, dict) else {}), **client}
    return data


def label(key: str) -> str:
    """The key as the console shows it, in the UI language (unknown keys as they are)."""
    labels = {
        "channel": _("Channel"),
        "channel_kind": _("Channel kind"),
        "previous_task": _("Previous task"),
        "next_task": _("Next task"),
        "merged_into": _("Merged into"),
        "merged_from": _("Merged from"),
        "task": _("Task"),
        "started_by": _("Started by"),
        "page": _("Page"),
        "page_title": _("Page title"),
        "referrer": _("Referrer"),
        "phone": _("Phone"),
        "username": _("Username"),
        "language": _("Language"),
        "email": _("E-mail"),
        "ip": _("IP address"),
        "user_agent": _("Browser"),
        "utm_source": _("UTM source"),
        "utm_medium": _("UTM medium"),
        "utm_campaign": _("UTM campaign"),
        "utm_term": _("UTM term"),
        "utm_content": _("UTM content"),
        CLIENT_KEY: _("Data from the client"),
    }
    if key in labels:
        return labels[key]
    if key.startswith(UTM_PREFIX):
        return _("UTM {name}").format(name=key[len(UTM_PREFIX):])
    return key


def flatten(data: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``(key, value)`` pairs, sorted, the client namespace as ``client.<key>`` after the
    system's own keys (for templates and plain-text views)."""
    system = sorted((k, v) for k, v in data.items() if k != CLIENT_KEY)
    client = data.get(CLIENT_KEY)
    extra = sorted((f"{CLIENT_KEY}.{k}", v) for k, v in client.items()) if isinstance(
        client, dict) else ([(CLIENT_KEY, client)] if client is not None else [])
    return [*system, *extra]
