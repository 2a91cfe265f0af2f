"""The channel registry: one line per channel package.

Each package declares a :class:`connectors.plugin.ChannelPlugin` (kind, options model,
policy, connector class path). The config validator, the gateway and the store's channel
rules all read it from here. Connector classes are imported only when a channel of that
kind runs, so a broken or missing connector module affects only its own channels.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from functools import cache

from connectors.plugin import ChannelPlugin, ConnectorError
from storage.channel_policy import ChannelPolicy
from storage.i18n import _

# kind -> the package that declares PLUGIN. Adding a channel is one package and one line.
PACKAGES: dict[str, str] = {
    "webchat": "connectors.webchat",
    "telegram": "connectors.telegram",
    "generic": "connectors.generic",
    "whatsapp": "connectors.whatsapp",
    "facebook": "connectors.facebook",
    "instagram": "connectors.instagram",
    "vk": "connectors.vk",
    "viber": "connectors.viber",
}


@cache
def plugin(kind: str) -> ChannelPlugin:
    """The plug-in of ``kind``; ConnectorError (a user-facing message) if none."""
    package = PACKAGES.get(kind)
    if package is None:
        raise ConnectorError(_("No connector is available for channels of kind {kind!r} "
                               "(available: {kinds}).").format(
            kind=kind, kinds=", ".join(sorted(PACKAGES))))
    found = importlib.import_module(package).PLUGIN
    assert found.kind == kind, (package, found.kind)
    return found


def plugins() -> dict[str, ChannelPlugin]:
    return {kind: plugin(kind) for kind in PACKAGES}


def policies() -> dict[str, ChannelPolicy]:
    """Every kind's storage rules, for ``Store.open(url, policies=policies())``.

    A policy without its own title or tag takes the plug-in's, so the store's messages
    name the channel as people know it ("Facebook Messenger") and the task list tags it
    ("FB")."""
    return {kind: replace(p.policy, title=p.policy.title or p.title, tag=p.policy.tag or p.tag)
            for kind, p in plugins().items()}


def connector_class(kind: str) -> type:
    """The connector class for ``kind``; ConnectorError if none is ready."""
    declared = plugin(kind)
    module_name, _sep, class_name = declared.connector.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise ConnectorError(_("The connector for {kind!r} channels is not installed "
                                   "({module}).").format(kind=kind, module=module_name)) from err
        raise
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ConnectorError(_("The connector module {module} has no class {name}.").format(
            module=module_name, name=class_name))
    return cls
