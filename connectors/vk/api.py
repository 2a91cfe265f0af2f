"""A small VK API client over one shared aiohttp session.

Every method is ``POST {base}/method/{name}`` with a form-encoded body carrying
``access_token`` and ``v`` (VK does not accept JSON bodies). Every answer comes with
HTTP 200: ``{"response": …}`` or ``{"error": {"error_code", "error_msg",
"request_params"}}`` (https://dev.vk.com/ru/reference/errors; ``VKCOM/vk-api-schema``
``errors.json``). Failures become two typed errors:

* :class:`VkApiError` — VK answered and refused (``code``, ``message``);
* :class:`VkNetworkError` — no usable answer (connection refused, timeout, HTML page).

The access token is a password: it travels only in the body, never in a URL, and every
error text built here has it masked.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from storage.i18n import _

DEFAULT_BASE = "https://api.vk.com"
DEFAULT_VERSION = "5.199"
SNIPPET = 200


class VkApiError(Exception):
    """VK answered with an ``error`` object; ``str(err)`` is VK's ``error_msg``."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(message)
        self.method = method
        self.code = code
        self.message = message


class VkNetworkError(Exception):
    """No usable answer from VK (connection, timeout, malformed reply)."""


def mask_secret(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret and len(secret) >= 4 else text


class VkApi:
    def __init__(self, session: aiohttp.ClientSession, token: str, base_url: str | None = None,
                 version: str = DEFAULT_VERSION, request_timeout: float = 30.0) -> None:
        self.session = session
        self.token = token
        self.base_url = (base_url or DEFAULT_BASE).rstrip("/")
        self.version = version or DEFAULT_VERSION
        self.request_timeout = request_timeout

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Call one method and return its ``response``; raise a typed error."""
        form = {k: _form_value(v) for k, v in (params or {}).items() if v is not None}
        form["access_token"] = self.token
        form["v"] = self.version
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        try:
            async with self.session.post(f"{self.base_url}/method/{method}", data=form,
                                         timeout=timeout) as resp:
                status, body = resp.status, await resp.read()
        except TimeoutError as err:
            raise VkNetworkError(_("VK did not answer {method} in time.").format(
                method=method)) from err
        except aiohttp.ClientError as err:
            raise VkNetworkError(mask_secret(_("Cannot reach VK ({method}): {error}").format(
                method=method, error=str(err) or type(err).__name__), self.token)) from err
        return self._result(method, status, body)

    def _result(self, method: str, status: int, body: bytes) -> Any:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict) and "response" in data:
            return data["response"]
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            error = data["error"]
            code = error.get("error_code")
            code = code if isinstance(code, int) and not isinstance(code, bool) else 0
            message = error.get("error_msg")
            message = message if isinstance(message, str) and message else _(
                "VK error {code}").format(code=code)
            raise VkApiError(method, code, mask_secret(message, self.token))
        text = body[:4096].decode("utf-8", "replace")
        raise VkNetworkError(mask_secret(_("VK answered {method} with HTTP {status}: {body}")
                                         .format(method=method, status=status,
                                                 body=text.strip()[:SNIPPET]
                                                 or _("(empty body)")), self.token))

    async def long_poll(self, server: str, key: str, ts: str, wait: int) -> dict[str, Any]:
        """One ``a_check`` request to the Bots Long Poll server; the raw answer."""
        timeout = aiohttp.ClientTimeout(total=wait + self.request_timeout)
        params = {"act": "a_check", "key": key, "ts": ts, "wait": str(wait)}
        try:
            async with self.session.get(server, params=params, timeout=timeout) as resp:
                status, body = resp.status, await resp.read()
        except TimeoutError as err:
            raise VkNetworkError(_("The VK long poll server did not answer in time.")) from err
        except aiohttp.ClientError as err:
            raise VkNetworkError(mask_secret(_("Cannot reach the VK long poll server: {error}")
                                             .format(error=str(err) or type(err).__name__),
                                             key)) from err
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise VkNetworkError(mask_secret(_("The VK long poll server answered HTTP {status}: "
                                               "{body}").format(
                status=status, body=body[:SNIPPET].decode("utf-8", "replace").strip()), key))
        return data

    # ---- the methods Switchboard uses ----------------------------------------------------
    async def users_get(self, user_ids: list[int]) -> list[dict[str, Any]]:
        result = await self.call("users.get", {"user_ids": ",".join(map(str, user_ids))})
        return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []

    async def groups_get_long_poll_server(self, group_id: int) -> dict[str, Any]:
        result = await self.call("groups.getLongPollServer", {"group_id": group_id})
        if not isinstance(result, dict) or not all(
                isinstance(result.get(k), str | int) for k in ("server", "key", "ts")):
            raise VkNetworkError(_("VK answered groups.getLongPollServer without server, key "
                                   "and ts."))
        return result


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
