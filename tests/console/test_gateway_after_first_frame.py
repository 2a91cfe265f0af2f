"""The channels come up after the first task rows, never before (issue 20).

The console is given a *factory* for its gateway (``console.bootstrap.gateway_factory``);
the app builds it in a thread once the task list shows its first rows (or, with no task
to show, a moment after mount) and starts it on its own loop. A real gateway on a free
port, a real HTTP request to its ``/health``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.request
from typing import Any

from console.app import SwitchboardApp
from console.config import ChannelConfig, Config, OperatorConfig, ServerConfig
from console.gateway_wiring import make_gateway
from storage.store import Store
from tests.console.conftest import Data, frozen_clock, until
from widgets.status_bar import StatusBar
from widgets.task_list import TaskList

WAIT = 20.0  # seconds: the longest any condition below may take on a loaded machine


def web_config(name: str = "Anna") -> Config:
    return Config(operator=OperatorConfig(name), server=ServerConfig(port=0),
                  channels=(ChannelConfig(name="web", kind="webchat"),))


class HeldFactory:
    """Builds a real gateway, but only once the test lets it (``release``); records what
    the console showed when it was asked to."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store, self.config = store, config
        self.called = threading.Event()
        self.release = threading.Event()
        self.rows_when_called: int | None = None
        self.app: SwitchboardApp | None = None
        self.built: Any = None

    def __call__(self) -> Any:
        assert self.app is not None
        self.rows_when_called = len(self.app.screen.query_one(TaskList).rows)
        self.called.set()
        assert self.release.wait(WAIT), "the test never released the factory"
        self.built = make_gateway(self.store, self.config)
        return self.built


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def get_health(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base_url}/health", timeout=10) as answer:
        return json.loads(answer.read())


def app_with_held_factory(data: Data) -> tuple[SwitchboardApp, HeldFactory]:
    """A console whose gateway factory waits, in its thread, until the test releases it."""
    factory = HeldFactory(data.store, web_config())
    app = SwitchboardApp(data.store, factory.config, data.anna, gateway_factory=factory,
                         clock=frozen_clock)
    factory.app = app
    return app, factory


async def test_rows_show_before_the_gateway_is_built_then_the_channels_come_up(
        data: Data) -> None:
    app, factory = app_with_held_factory(data)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, factory.called.is_set, "the factory to be called")
        # The first rows were on screen before anything of the channels was built.
        assert factory.rows_when_called == len(data.tasks)
        assert app.gateway is None and app.runs_gateway
        bar = app.screen.query_one(StatusBar)
        assert "channels on" in str(bar.render())
        factory.release.set()
        await until(pilot, lambda: app.gateway is not None and "web" in app.health,
                    "the gateway to be attached")
        assert app.gateway is factory.built
        assert any(address.startswith("Web chat: http://127.0.0.1:")
                   for address in app.gateway_addresses)
        assert any("Web chat: http://127.0.0.1:" in n.message for n in app._notifications)
        base = app.gateway.server.base_url()
        await until(pilot, lambda: app.health.get("web", ("",))[0] == "ok",
                    "the web chat to report ok")
        health = await asyncio.to_thread(get_health, base)
        assert "web" in json.dumps(health)
        assert "web" in bar.health
        port = app.gateway.server.bound_port
    assert not port_open(port)  # stopped at exit


async def test_an_empty_inbox_still_starts_the_channels(sqlite_store: Store) -> None:
    anna = sqlite_store.ensure_operator("Anna", "operator")
    sqlite_store.ensure_channel("webchat", "web")  # as console.bootstrap.open_store does
    config = web_config()
    built: list[Any] = []

    def factory() -> Any:
        built.append(make_gateway(sqlite_store, config))
        return built[-1]

    app = SwitchboardApp(sqlite_store, config, anna, gateway_factory=factory,
                         clock=frozen_clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.gateway is not None and "web" in app.health,
                    "the gateway of an empty inbox")
        assert app.screen.query_one(TaskList).rows == ()
        assert len(built) == 1  # built once, though nothing was highlighted
        port = app.gateway.server.bound_port
        await until(pilot, lambda: port_open(port), "the port to accept connections")
    assert not port_open(port)


async def test_quitting_while_the_gateway_is_built_releases_its_port(data: Data) -> None:
    app, factory = app_with_held_factory(data)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, factory.called.is_set, "the factory to be called")
        app.exit()
        factory.release.set()
    assert factory.built is not None
    assert not port_open(factory.built.server.bound_port)


async def test_a_gateway_that_cannot_be_built_leaves_a_working_console(data: Data) -> None:
    def broken() -> Any:
        raise OSError("no such interface")

    app = SwitchboardApp(data.store, web_config(), data.anna, gateway_factory=broken,
                         clock=frozen_clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: any("Channels could not start" in n.message
                                       for n in app._notifications), "the error notice")
        assert app.gateway is None
        assert len(app.screen.query_one(TaskList).rows) == len(data.tasks)
