"""The channel plug-in contract: what one channel package declares, in one place.

Every channel is one package under ``connectors/`` (``connectors/telegram/``,
``connectors/whatsapp/`` …) whose ``__init__.py`` defines ``PLUGIN``, a
:class:`ChannelPlugin`. The package's ``__init__`` must stay light: it imports the
options model (pydantic) and the policy (plain data), never aiohttp or the connector
itself, so ``switchboard config check`` can validate every channel's options without
loading any connector, and a console with only the web chat never imports Telegram.

``connectors/registry.py`` lists the packages, one line each; the config validator,
the gateway and the store's channel rules all read the same registry:

* ``options``: a pydantic model of ``channels[].options`` (unknown keys forbidden,
  secrets as plain ``str`` fields whose names contain token/secret/password/key so
  they are never printed);
* ``policy``: the storage-level rules (write first, reply window, text limit, splitting,
  attachments, history replay), enforced by the store before anything is queued;
* ``connector``: ``"module:Class"`` of the :class:`connectors.base.Connector`, imported
  only when a channel of this kind runs. Its routes come from ``Connector.routes()``;
  webhooks are served at ``/hooks/{kind}/{channel name}`` (percent-encoded).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from storage.channel_policy import ChannelPolicy


class ConnectorError(Exception):
    """The connector cannot run (a revoked token, a conflict); ``str(err)`` says why.

    Declared here (light) so the registry and the config check need no aiohttp;
    ``connectors.base`` re-exports it."""


class ConnectorOptions(BaseModel):
    """Base of every channel's options model: unknown keys are errors, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class ChannelPlugin:
    kind: str
    options: type[ConnectorOptions]
    policy: ChannelPolicy
    connector: str  # "module:Class", imported only when a channel of this kind runs
    title: str = ""  # the human name ("Telegram", "WhatsApp")
    tag: str = ""  # the task list's short tag ("TG", at most three characters)
    docs: str = ""  # the setup page under docs/ ("docs/telegram.md")
    ready: bool = True  # False: declared (rules enforced) but no working connector yet
