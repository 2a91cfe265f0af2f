"""The built-in web chat: a self-contained page and a websocket served by the gateway."""
