"""``switchboard serve``: every channel that fails to start is named, with the reason.

Before the fix a channel whose connector could not even be built failed while the
gateway was made, before ``serve`` listened for health changes, and nothing was said.
"""

from __future__ import annotations

import asyncio
import sys
import types
from pathlib import Path

import pytest

from connectors import registry
from connectors.plugin import ChannelPlugin, ConnectorOptions
from console.bootstrap import open_store
from console.cmd_serve import _serve
from console.config import load_config
from console.gateway_wiring import make_gateway
from storage.channel_policy import ChannelPolicy


@pytest.fixture
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return tmp_path


async def test_serve_prints_each_channel_that_failed_and_why(
        isolated_dirs: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One channel whose connector cannot even be built (it fails while the gateway is
    made, before anyone listens) and one that fails when started: both are printed."""
    package = types.ModuleType("pigeon_channel")
    package.PLUGIN = ChannelPlugin(  # type: ignore[attr-defined]
        kind="pigeon", options=ConnectorOptions, policy=ChannelPolicy("pigeon", 140, False),
        connector="pigeon_channel_connector_missing:PigeonConnector", title="Carrier pigeon")
    monkeypatch.setitem(sys.modules, "pigeon_channel", package)
    monkeypatch.setitem(registry.PACKAGES, "pigeon", "pigeon_channel")
    registry.plugin.cache_clear()
    path = isolated_dirs / "serve.yaml"
    path.write_text("server: {host: 127.0.0.1, port: 0}\nchannels:\n"
                    "  - {name: web, kind: webchat}\n  - {name: birds, kind: pigeon}\n"
                    "  - {name: api, kind: generic}\n", encoding="utf-8")
    path.chmod(0o600)
    config = load_config(path)
    store = open_store(config, str(isolated_dirs / "serve.db"))
    try:
        gateway = make_gateway(store, config)
        loop = asyncio.get_running_loop()
        api_failed, stop = asyncio.Event(), asyncio.Event()
        gateway.subscribe_health(lambda name, state, detail: loop.call_soon_threadsafe(
            api_failed.set) if (name, state) == ("api", "failed") else None)
        serving = asyncio.create_task(_serve(gateway, stop))
        await asyncio.wait_for(api_failed.wait(), timeout=30)
        stop.set()
        await asyncio.wait_for(serving, timeout=30)
    finally:
        store.close()
        registry.plugin.cache_clear()  # forget the pigeon
    out, err = capsys.readouterr()
    assert "Serving" in out and "http://127.0.0.1:" in out
    assert "Channel birds failed to start: The connector for 'pigeon' channels is not " \
           "installed" in err
    assert "Channel api failed to start: Channel api: options.secret is required" in err
    assert "Channel web failed" not in err


def test_switchboard_serve_names_a_failed_channel_and_keeps_serving(isolated_dirs: Path) -> None:
    """The installed command, end to end: the failure and its reason on stderr, the web chat
    served anyway, a clean stop on SIGINT."""
    import os
    import queue
    import signal
    import subprocess
    import threading

    path = isolated_dirs / "serve.yaml"
    path.write_text("server: {host: 127.0.0.1, port: 0, header_timeout: 5}\nchannels:\n"
                    "  - {name: web, kind: webchat}\n  - {name: api, kind: generic}\n",
                    encoding="utf-8")
    path.chmod(0o600)
    command = [str(Path(sys.executable).with_name("switchboard")), "--config", str(path),
               "--db", str(isolated_dirs / "serve.db"), "serve"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "LANGUAGE": "en"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, encoding="utf-8")
    lines: queue.Queue[str] = queue.Queue()
    readers = [threading.Thread(target=lambda s=s: [lines.put(line) for line in s], daemon=True)
               for s in (proc.stdout, proc.stderr)]
    for reader in readers:
        reader.start()
    seen: list[str] = []
    try:
        while not (any("Serving" in line for line in seen)
                   and any("Channel api failed to start" in line for line in seen)):
            seen.append(lines.get(timeout=30))
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    failure = next(line for line in seen if "Channel api failed to start" in line)
    assert "options.secret is required" in failure
    assert not any("Channel web failed" in line for line in seen)
