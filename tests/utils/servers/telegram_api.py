"""A fake Telegram Bot API on loopback for running real bot code (PTB v22) offline.

Serves ``/bot<TOKEN>/<method>`` and ``/file/bot<TOKEN>/<path>`` like
api.telegram.org, so an Application built with ``.base_url(api.base_url)`` and
``.base_file_url(api.base_file_url)`` polls, sends and downloads for real.
Long polls are capped at ``max_poll_wait`` (about 1 s) so stopping never waits
on an abandoned getUpdates. Tests push updates, inspect calls, and inject
errors such as a 429 with ``retry_after``.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.utils.servers._asgi import AsgiServer
from tests.utils.servers.ports import LOOPBACK, Recorder
from tests.utils.servers.telegram_objects import ApiError, UploadedFile
from tests.utils.servers.telegram_state import BotState
from tests.utils.servers.telegram_updates import UpdateBuilders

DEFAULT_TOKEN = "123456789:AAFakeTokenForLoopbackTests-0123456789"
_STRING_IDS = frozenset({"callback_query_id", "file_id", "file_unique_id", "inline_message_id"})
_INT = re.compile(r"^-?\d+$")


@dataclass(frozen=True)
class ApiCall:
    """One request to the fake: method name as sent, decoded params, and the error code if it failed."""

    method: str
    params: dict[str, Any]
    error_code: int | None = None


def _coerce(key: str, value: str) -> Any:
    """Decode a form value the way the Bot API reads it (PTB sends non-strings JSON-encoded)."""
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if value in ("true", "false"):
        return value == "true"
    if _INT.match(value) and (key.endswith("_id") or key in {"offset", "limit", "timeout"}):
        return value if key in _STRING_IDS else int(value)
    return value


async def _read_params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = {k: _coerce(k, v) for k, v in request.query_params.items()}
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        async with request.form() as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    ct = value.content_type or "application/octet-stream"
                    params[key] = UploadedFile(value.filename or key, data, ct)
                else:
                    params[key] = _coerce(key, value)
    return params


class TelegramApi(UpdateBuilders, AsgiServer):
    """Bot API fake with test hooks; start with ``TelegramApi().start()`` or the ``telegram_api`` fixture."""

    name = "telegram-api"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        host: str = LOOPBACK,
        port: int | None = None,
        max_poll_wait: float = 1.0,
    ) -> None:
        super().__init__(host=host, port=port)
        self.token = token
        self.max_poll_wait = max_poll_wait
        self.state = BotState(token)
        self.webhook_deliveries: list[tuple[int, int]] = []
        self._calls: Recorder[ApiCall] = Recorder()
        self._faults: defaultdict[str, deque[ApiError | float]] = defaultdict(deque)
        self._fault_lock = threading.Lock()
        self._changed: asyncio.Event | None = None

    # -- addresses ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url`` (the token is appended by PTB)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url``."""
        return f"{self.url}/file/bot"

    # -- inspection -------------------------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        """Every request received, including getUpdates polls and failed calls."""
        return self._calls.snapshot()

    @property
    def sent(self) -> list[ApiCall]:
        """Every call except getUpdates polling, oldest first."""
        return [c for c in self.calls if c.method.lower() != "getupdates"]

    def sent_params(self, method: str) -> list[dict[str, Any]]:
        """Params of each successful call to ``method`` (case-insensitive)."""
        return [c.params for c in self.calls if c.method.lower() == method.lower() and c.error_code is None]

    def wait_for_call(self, method: str, count: int = 1, *, timeout: float = 5.0) -> list[ApiCall]:
        """Wait until ``method`` was called ``count`` times; raises ``TimeoutError`` otherwise."""
        return self._calls.wait_for(
            count, timeout=timeout, where=lambda c: c.method.lower() == method.lower()
        )

    # -- scripting ---------------------------------------------------------------------------------

    def fail_next(
        self, method: str, code: int, description: str, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with an error (e.g. 429 + retry_after)."""
        with self._fault_lock:
            self._faults[method.lower()].extend(
                [ApiError(code, description, retry_after=retry_after)] * times
            )

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Delay the next ``times`` answers to ``method`` by ``seconds`` (to exercise client timeouts)."""
        with self._fault_lock:
            self._faults[method.lower()].extend([seconds] * times)

    def block_chat(self, chat_id: int) -> None:
        """Make sends to ``chat_id`` fail with 403 "Forbidden: bot was blocked by the user"."""
        self.state.blocked_chats.add(chat_id)

    # -- incoming updates (builders come from UpdateBuilders) ------------------------------------

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue ``update`` for getUpdates, or POST it to the webhook when one is set; returns it."""
        if "update_id" not in update:
            update = {"update_id": self.state.next_update_id(), **update}
        self.state.enqueue(update)
        if self._thread is not None:
            if self.state.webhook:
                self._thread.run(self._deliver(update), timeout=10.0)
            elif self._changed is not None:
                self._thread.call_soon(self._changed.set)
        return update

    async def _deliver(self, update: dict[str, Any]) -> None:
        hook = dict(self.state.webhook or {})
        headers = (
            {"X-Telegram-Bot-Api-Secret-Token": str(hook["secret_token"])} if hook.get("secret_token") else {}
        )
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                status = (await client.post(str(hook["url"]), json=update, headers=headers)).status_code
        except httpx.HTTPError:
            status = 0
        self.webhook_deliveries.append((update["update_id"], status))
        if 200 <= status < 300:
            self.state.remove_update(update["update_id"])

    async def on_stop(self) -> None:
        """Drop the loop-bound wake-up event so a restart gets a fresh one."""
        self._changed = None

    # -- HTTP ------------------------------------------------------------------------------------

    def build_app(self) -> Starlette:
        """Routes of the Bot API and its file downloads."""
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )

    def _take_fault(self, method: str) -> ApiError | float | None:
        with self._fault_lock:
            queue = self._faults.get(method)
            return queue.popleft() if queue else None

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        if request.path_params["token"] != self.token:
            return JSONResponse(ApiError(401, "Unauthorized").body(), status_code=401)
        try:
            params = await _read_params(request)
        except ValueError:
            return JSONResponse(ApiError(400, "Bad Request: can't parse JSON object").body(), status_code=400)
        fault = self._take_fault(method.lower())
        if isinstance(fault, float | int) and await self.sleep_unless_closing(float(fault)):
            return Response(status_code=503)
        try:
            if isinstance(fault, ApiError):
                raise fault
            if method.lower() == "getupdates":
                result = await self._get_updates(params)
            else:
                result = self.state.call(method.lower(), params)
        except ApiError as err:
            self._calls.append(ApiCall(method, params, err.code))
            return JSONResponse(err.body(), status_code=err.code)
        self._calls.append(ApiCall(method, params))
        return JSONResponse({"ok": True, "result": result})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.state.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
                "delete the webhook first",
            )
        if "allowed_updates" in params:
            self.state.allowed_updates = list(params["allowed_updates"] or [])
        if self._changed is None:
            self._changed = asyncio.Event()
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            self._changed.clear()
            batch = self.state.take_updates(None if offset is None else int(offset), limit)
            remaining = deadline - asyncio.get_running_loop().time()
            if batch or remaining <= 0:
                return batch
            if await self.wait_or_closing(self._changed, remaining):
                return []

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse(ApiError(401, "Unauthorized").body(), status_code=401)
        stored = self.state.file_by_path(request.path_params["path"])
        if stored is None:
            return JSONResponse(ApiError(404, "Not Found").body(), status_code=404)
        return Response(stored.content, media_type=stored.mime_type)
