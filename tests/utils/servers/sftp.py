"""A real SFTP server on loopback (asyncssh), chrooted to a temporary directory.

It accepts one user by password or by public key, with a host key generated
per server, so tests exercise the real protocol including host-key checking.
Clients must pass ``known_hosts`` and ``client_keys`` explicitly, or asyncssh
reads ~/.ssh. Note: SFTP ``rename`` onto an existing file fails there;
``posix_rename`` replaces atomically.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import asyncssh

from tests.utils.servers._loop import LoopThread
from tests.utils.servers.ports import LOOPBACK, free_port

SftpOperation = Literal["open", "rename", "posix_rename", "remove", "mkdir"]


class SftpServer:
    """SFTP over SSH on loopback with password and public-key auth."""

    def __init__(
        self,
        *,
        root: Path | None = None,
        keys_dir: Path | None = None,
        host: str = LOOPBACK,
        port: int | None = None,
        username: str = "switchboard",
        password: str | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.username = username
        self.password = password or secrets.token_urlsafe(12)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if root is None or keys_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="sftp-server-")
        base = Path(self._tmp.name) if self._tmp else Path()
        self.root = root or base / "root"
        self.keys_dir = keys_dir or base / "keys"
        self.root.mkdir(parents=True, exist_ok=True)
        self.keys_dir.mkdir(parents=True, exist_ok=True)

        self._host_key = asyncssh.generate_private_key("ssh-ed25519")
        self._client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.host_public_key: str = self._host_key.export_public_key().decode().strip()
        self.client_key_path = self.keys_dir / "client_ed25519"
        self._client_key.write_private_key(str(self.client_key_path))
        os.chmod(self.client_key_path, 0o600)
        self.known_hosts_path = self.keys_dir / "known_hosts"
        self.known_hosts_path.write_text(self.known_hosts_line + "\n")

        self._failures: Counter[str] = Counter()
        self._lock = threading.Lock()
        # Every file an upload made visible under its final name (an atomic rename each): what the partner got.
        self.landed: list[str] = []
        self._loop: LoopThread | None = None
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self.accepted = 0  # SSH connections accepted since start: what a client's connection reuse saves

    @property
    def known_hosts_line(self) -> str:
        """A known_hosts entry for this server's address and host key."""
        return f"[{self.host}]:{self.port} {self.host_public_key}"

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._loop is not None

    def client_options(self, *, auth: Literal["key", "password"] = "key") -> dict[str, Any]:
        """Keyword arguments for ``asyncssh.connect`` that never touch ~/.ssh."""
        options: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "known_hosts": str(self.known_hosts_path),
            "agent_path": None,
            "config": [],
        }
        if auth == "key":
            options["client_keys"] = [str(self.client_key_path)]
        else:
            options["client_keys"] = None
            options["password"] = self.password
        return options

    def fail_next(self, operation: SftpOperation, *, times: int = 1) -> None:
        """Make the next ``times`` SFTP ``operation`` requests fail with SSH_FX_FAILURE."""
        with self._lock:
            self._failures[operation] += times

    def _take_failure(self, operation: str) -> bool:
        with self._lock:
            if self._failures[operation] > 0:
                self._failures[operation] -= 1
                return True
            return False

    def start(self) -> Self:
        """Listen on ``host:port``; returns once connections are accepted."""
        if self._loop is not None:
            return self
        loop = LoopThread("sftp-server")
        loop.start()
        self._loop = loop
        try:
            self._acceptor = loop.run(self._listen(), timeout=5.0)
        except BaseException:
            self.stop()
            raise
        return self

    async def _listen(self) -> asyncssh.SSHAcceptor:
        owner = self

        class _Server(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                owner._connections.add(conn)
                owner.accepted += 1

            def connection_lost(self, exc: Exception | None) -> None:
                owner._connections.difference_update({c for c in owner._connections if c.is_closed()})

            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return username == owner.username and secrets.compare_digest(password, owner.password)

            def public_key_auth_supported(self) -> bool:
                return True

            def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
                return username == owner.username and key.public_data == owner._client_key.public_data

        return await asyncssh.listen(
            self.host,
            self.port,
            server_host_keys=[self._host_key],
            server_factory=_Server,
            sftp_factory=lambda chan: _ScriptedSFTPServer(chan, owner=self),
            allow_scp=False,
            reuse_address=True,
        )

    @property
    def open_connections(self) -> int:
        """SSH connections open right now (clients still logged in)."""
        return sum(1 for conn in list(self._connections) if not conn.is_closed())

    def drop_connections(self) -> None:
        """Close every open connection, as a server restart or an idle cutoff would; keep listening."""
        loop = self._loop
        if loop is not None:
            loop.run(self._drop(), timeout=5.0)

    async def _drop(self) -> None:
        for conn in list(self._connections):
            conn.close()
            await conn.wait_closed()
        self._connections.clear()

    def stop(self) -> None:
        """Close the listener and every open session; safe to call twice."""
        loop = self._loop
        if loop is None:
            return
        try:
            loop.run(self._close(), timeout=5.0)
        finally:
            loop.stop()
            self._loop = None
            self._acceptor = None

    async def _close(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
        for conn in list(self._connections):
            conn.close()
        self._connections.clear()

    def cleanup(self) -> None:
        """Stop and delete the temporary directories this server created."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()


class _ScriptedSFTPServer(asyncssh.SFTPServer):
    """Chrooted SFTP server whose operations can be made to fail on demand."""

    def __init__(self, chan: asyncssh.SSHServerChannel[bytes], *, owner: SftpServer) -> None:
        super().__init__(chan, chroot=os.fsencode(owner.root))
        self._owner = owner

    def _check(self, operation: str) -> None:
        if self._owner._take_failure(operation):
            raise asyncssh.SFTPFailure(f"scripted failure of {operation}")

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> Any:
        self._check("open")
        return super().open(path, pflags, attrs)

    def rename(self, oldpath: bytes, newpath: bytes) -> Any:
        self._check("rename")
        return super().rename(oldpath, newpath)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> Any:
        self._check("posix_rename")
        done = super().posix_rename(oldpath, newpath)
        with self._owner._lock:
            self._owner.landed.append(os.fsdecode(newpath))
        return done

    def remove(self, path: bytes) -> Any:
        self._check("remove")
        return super().remove(path)

    def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> Any:
        self._check("mkdir")
        return super().mkdir(path, attrs)
