"""From the config to the connectors' specs: the server's public URL reaches only the
channels whose options declare it (every options model forbids unknown keys)."""

from __future__ import annotations

import pytest

from connectors.base import options_model
from connectors.registry import PACKAGES
from console.config import ChannelConfig, Config, OperatorConfig, ServerConfig
from console.gateway_wiring import channel_specs
from storage.store import Store


@pytest.mark.parametrize("kind", sorted(PACKAGES))
def test_public_url_only_where_the_options_have_it(sqlite_store: Store, kind: str) -> None:
    sqlite_store.ensure_channel(kind, "ch")
    config = Config(operator=OperatorConfig("Anna"),
                    server=ServerConfig(port=0, public_url="https://support.example"),
                    channels=(ChannelConfig(name="ch", kind=kind),))
    (spec,) = channel_specs(sqlite_store, config)
    model = options_model(kind)
    if "public_url" in model.model_fields:
        assert spec.options["public_url"] == "https://support.example"
    else:
        assert "public_url" not in spec.options
    model.model_validate(spec.options)  # what the connector will accept at start
