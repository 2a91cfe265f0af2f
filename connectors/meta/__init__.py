"""What WhatsApp Cloud API, Facebook Messenger and Instagram Direct share: the Meta side.

* :mod:`connectors.meta.graph` — a small Graph API client (bearer token, typed errors);
* :mod:`connectors.meta.hook` — the webhook's verification GET handshake and the
  ``X-Hub-Signature-256`` check (constant time, over the raw bytes);
* :mod:`connectors.meta.connector` — the base connector: routes, signature before
  parsing, 200 only after commit, multi-part sends resumed after a failure;
* :mod:`connectors.meta.messaging` — the ``entry[].messaging[]`` envelope of Messenger
  and Instagram turned into plain events;
* :mod:`connectors.meta.text` — splitting long text by characters or UTF-8 bytes.

This package is not a channel: it declares no ``PLUGIN``.
"""
