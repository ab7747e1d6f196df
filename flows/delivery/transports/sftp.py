"""Delivery over SFTP (asyncssh): upload to a hidden temporary name, verify the remote sha256, posix_rename.

``posix_rename`` replaces the target atomically (plain SFTP ``rename`` fails when the target exists). Host
keys and client keys are always passed explicitly so nothing is read from ~/.ssh; without a configured
known_hosts file host-key checking is off. The client runs in a fresh event loop, in a worker thread when the
calling thread already runs one (the console, the bot).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import posixpath
import socket
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import asyncssh

from flows.config import SftpDestination
from flows.delivery.retry import PermanentError, TransientError
from flows.delivery.transports.base import CHUNK, LocalFile, Uploaded, part_name

T = TypeVar("T")


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sftp") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def remote_target(dest: SftpDestination, file_name: str) -> str:
    """The remote path a file lands at (relative to the login directory unless remote_dir is absolute)."""
    folder = dest.remote_dir.strip()
    return file_name if folder in ("", ".") else posixpath.join(folder, file_name)


def upload_sftp(*, name: str, dest: SftpDestination, password: str | None, local: LocalFile) -> Uploaded:
    """Upload one file; one attempt.

    Raises:
        TransientError: the server is unreachable, dropped the connection, failed an SFTP request, or the
            remote checksum did not match.
        PermanentError: the login or the host key was refused, or permission to write was denied.
    """
    where = f"{name} at {dest.host}:{dest.port}"
    try:
        return run_coroutine(lambda: _upload(dest, password, local))
    except TransientError:
        raise
    except asyncssh.PermissionDenied:
        raise PermanentError(f"{where} refused the login for user {dest.username!r}") from None
    except asyncssh.HostKeyNotVerifiable:
        raise PermanentError(
            f"the host key of {where} does not match the known_hosts file {dest.known_hosts}"
        ) from None
    except asyncssh.SFTPPermissionDenied as exc:
        raise PermanentError(f"{where} denied writing {local.name}: {exc.reason}") from None
    except asyncssh.SFTPError as exc:
        raise TransientError(f"{where} failed an SFTP request for {local.name}: {exc.reason}") from None
    except asyncssh.DisconnectError as exc:
        raise TransientError(f"lost the connection to {where}: {exc.reason or type(exc).__name__}") from None
    except asyncssh.Error as exc:
        raise TransientError(f"{where} failed: {exc.reason or type(exc).__name__}") from None
    except ConnectionRefusedError:
        raise TransientError(f"could not reach {where}: connection refused") from None
    except socket.gaierror:
        raise TransientError(f"could not reach {where}: unknown host {dest.host!r}") from None
    except TimeoutError:
        raise TransientError(f"could not reach {where}: timed out after {dest.timeout_s:g}s") from None
    except OSError as exc:
        raise TransientError(f"could not reach {where}: {exc.strerror or type(exc).__name__}") from None


async def _upload(dest: SftpDestination, password: str | None, local: LocalFile) -> Uploaded:
    options: dict[str, Any] = {
        "username": dest.username,
        "password": password,
        "client_keys": [str(dest.key_file)] if dest.key_file else None,
        "known_hosts": str(dest.known_hosts) if dest.known_hosts else None,
        "agent_path": None,
        "config": [],
        "connect_timeout": dest.timeout_s,
        "login_timeout": dest.timeout_s,
    }
    async with asyncssh.connect(dest.host, dest.port, **options) as conn, conn.start_sftp_client() as sftp:
        final = remote_target(dest, local.name)
        folder = posixpath.dirname(final)
        if folder:
            await sftp.makedirs(folder, exist_ok=True)
        if await _holds(sftp, final, local):
            # An earlier attempt uploaded it and died before recording so: sending it again would deliver twice.
            return Uploaded(remote_path=final, sha256=local.sha256, size=local.size, already_there=True)
        temp = posixpath.join(folder, part_name(local.name))
        try:
            await sftp.put(str(local.path), temp)
            # Verify what the server stored before it becomes visible under the final name.
            remote = await _remote_sha256(sftp, temp)
            if remote != local.sha256:
                raise TransientError(
                    f"checksum mismatch after uploading {local.name} to {dest.host}:{dest.port}: "
                    f"remote {remote[:12]}…, expected {local.sha256[:12]}…"
                )
            await sftp.posix_rename(temp, final)
        except BaseException:
            with contextlib.suppress(asyncssh.Error, OSError):
                await sftp.remove(temp)
            raise
        size = (await sftp.stat(final)).size
        if size != local.size:
            raise TransientError(
                f"{final} on {dest.host}:{dest.port} holds {size} bytes, expected {local.size}"
            )
        return Uploaded(remote_path=final, sha256=remote, size=local.size)


async def _holds(sftp: asyncssh.SFTPClient, path: str, local: LocalFile) -> bool:
    """True when ``path`` on the server is ``local``'s exact content (a size check first, then its sha256)."""
    try:
        size = (await sftp.stat(path)).size
    except asyncssh.SFTPNoSuchFile:
        return False
    return size == local.size and await _remote_sha256(sftp, path) == local.sha256


async def _remote_sha256(sftp: asyncssh.SFTPClient, path: str) -> str:
    digest = hashlib.sha256()
    async with sftp.open(path, "rb") as handle:
        while block := await handle.read(CHUNK):
            digest.update(block if isinstance(block, bytes) else block.encode())
    return digest.hexdigest()
