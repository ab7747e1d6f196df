"""Base class for fake HTTP APIs served by uvicorn in a background loop.

Starlette and uvicorn are already dependencies of the console, so the fake
Telegram and Ollama APIs need nothing new. Long polls and scripted delays wait
on ``closing`` so that ``stop`` never waits for them to time out.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Self

import uvicorn
from starlette.applications import Starlette

from tests.utils.servers._loop import LoopThread
from tests.utils.servers.ports import LOOPBACK, free_port

logger = logging.getLogger(__name__)


class AsgiServer:
    """Serve a Starlette app on loopback from a daemon thread."""

    name = "asgi-server"

    def __init__(self, *, host: str = LOOPBACK, port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._thread: LoopThread | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing: asyncio.Event | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._thread is not None

    def build_app(self) -> Starlette:
        """Return the ASGI app to serve; subclasses implement it."""
        raise NotImplementedError

    def start(self) -> Self:
        """Bind and serve; returns once the port accepts connections."""
        if self._thread is not None:
            return self
        thread = LoopThread(self.name)
        thread.start()
        self._thread = thread
        try:
            thread.run(self._start(), timeout=5.0)
        except BaseException:
            self.stop()
            raise
        logger.debug("%s listening on %s", self.name, self.url)
        return self

    async def _start(self) -> None:
        self._closing = asyncio.Event()
        config = uvicorn.Config(
            self.build_app(),
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._task = asyncio.create_task(server.serve())
        while not server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError(f"{self.name}: server exited during start-up")
            await asyncio.sleep(0.005)

    def stop(self) -> None:
        """Stop serving and join the thread; safe to call twice."""
        thread = self._thread
        if thread is None:
            return
        try:
            thread.run(self._stop(), timeout=5.0)
        except Exception:  # a broken shutdown must not hide the test's own failure
            logger.warning("%s: unclean shutdown", self.name, exc_info=True)
        finally:
            thread.stop()
            self._thread = None

    async def _stop(self) -> None:
        if self._closing is not None:
            self._closing.set()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.wait_for(asyncio.shield(self._task), timeout=4.0)
        await self.on_stop()

    async def on_stop(self) -> None:
        """Release subclass resources inside the server loop."""

    async def sleep_unless_closing(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True early if the server is stopping."""
        if self._closing is None:
            return True
        try:
            await asyncio.wait_for(self._closing.wait(), timeout=max(seconds, 0.0))
        except TimeoutError:
            return False
        return True

    async def wait_or_closing(self, event: asyncio.Event, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``event``; return True if the server started stopping instead."""
        if self._closing is None or self._closing.is_set():
            return True
        waiters = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._closing.wait())}
        try:
            await asyncio.wait(waiters, timeout=max(seconds, 0.0), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return self._closing.is_set()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
