"""Which connector class serves which kind of channel.

Classes are named by dotted path and imported only when a channel of that kind is
configured, so a console with only the web chat never imports the Telegram code, and
a connector module being broken or missing affects only its own channels.
"""

from __future__ import annotations

import importlib

from connectors.base import ConnectorError
from storage.i18n import _

# kind -> "module:Class"
CONNECTORS: dict[str, str] = {
    "webchat": "connectors.webchat.connector:WebChatConnector",
    "telegram": "connectors.telegram:TelegramConnector",
    "generic": "connectors.generic:GenericConnector",
}


def connector_class(kind: str) -> type:
    """The connector class for ``kind``; ConnectorError (a user-facing message) if none."""
    target = CONNECTORS.get(kind)
    if target is None:
        raise ConnectorError(_("No connector is available for channels of kind {kind!r} yet "
                               "(available: {kinds}).").format(
            kind=kind, kinds=", ".join(sorted(CONNECTORS))))
    module_name, _sep, class_name = target.partition(":")
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
