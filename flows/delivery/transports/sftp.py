"""Delivery over SFTP (asyncssh): upload to a hidden temporary name, verify the remote sha256, posix_rename.

``posix_rename`` replaces the target atomically (plain SFTP ``rename`` fails when the target exists). Host
keys and client keys are always passed explicitly so nothing is read from ~/.ssh; without a configured
known_hosts file host-key checking is off. Connections come from the process's pool (``sftp_pool``) and run on
its event loop thread, so the SSH handshake is paid once per destination and process, not once per upload.

The stored file is verified by reading it back and hashing it before it is renamed into place: the SFTP protocol
as asyncssh and OpenSSH serve it offers no server-side hash (no ``check-file``), and a size alone would not catch
corrupted bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import posixpath
import socket
from dataclasses import dataclass
from typing import Any

import asyncssh
from asyncssh.encryption import get_default_encryption_algs

from flows.config import SftpDestination
from flows.delivery.retry import PermanentError, TransientError
from flows.delivery.transports.base import CHUNK, LocalFile, Uploaded, part_name
from flows.delivery.transports.sftp_pool import pool_key, shared_pool

# asyncssh's own list, AES-GCM first: one AEAD call per packet (AES-NI in OpenSSL), where chacha20-poly1305 makes
# two contexts per packet; each SFTP request then costs both sides less. Any server's choice still works.
_CIPHERS = sorted(
    (alg.decode() for alg in get_default_encryption_algs()), key=lambda alg: not alg.startswith("aes128-gcm")
)
# A request on a pooled connection that died while idle fails with one of these before reaching the server.
_STALE = (asyncssh.SFTPNoConnection, asyncssh.SFTPConnectionLost, asyncssh.ConnectionLost, ConnectionError)


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
        return shared_pool().run(lambda: _upload(dest, password, local))
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
    pool = shared_pool()
    key = pool_key(
        host=dest.host,
        port=dest.port,
        username=dest.username,
        password=password,
        key_file=str(dest.key_file or ""),
        known_hosts=str(dest.known_hosts or ""),
    )
    session = await pool.acquire(key, lambda: _connect(dest, password))
    progress = _Progress()
    try:
        uploaded = await _send(session.sftp, dest, local, progress)
    except _STALE:
        if not session.reused or progress.writing:
            pool.release(key, session, reusable=False)
            raise
        # The pooled connection died while idle and nothing was written through it: one more go on a fresh one.
        pool.release(key, session, reusable=False)
        session = await pool.connect(lambda: _connect(dest, password))
        try:
            uploaded = await _send(session.sftp, dest, local, _Progress())
        except BaseException as exc:
            pool.release(key, session, reusable=_reusable(exc))
            raise
    except BaseException as exc:
        pool.release(key, session, reusable=_reusable(exc))
        raise
    pool.release(key, session, reusable=True)
    return uploaded


def _reusable(exc: BaseException) -> bool:
    """A session stays pooled after an error the server answered (the connection is fine), not after others."""
    return isinstance(exc, asyncssh.SFTPError | TransientError) and not isinstance(exc, _STALE)


@dataclass
class _Progress:
    writing: bool = False  # set before the first byte of the file goes out: from then on, never retried here


async def _connect(dest: SftpDestination, password: str | None) -> asyncssh.SSHClientConnection:
    options: dict[str, Any] = {
        "username": dest.username,
        "password": password,
        "client_keys": [str(dest.key_file)] if dest.key_file else None,
        "known_hosts": str(dest.known_hosts) if dest.known_hosts else None,
        "agent_path": None,
        "config": [],
        "connect_timeout": dest.timeout_s,
        "login_timeout": dest.timeout_s,
        # A pooled connection whose peer vanished without closing it is found dead, not waited on for ever.
        "keepalive_interval": dest.timeout_s,
        "keepalive_count_max": 3,
        "encryption_algs": _CIPHERS,
    }
    return await asyncssh.connect(dest.host, dest.port, **options)


async def _send(
    sftp: asyncssh.SFTPClient, dest: SftpDestination, local: LocalFile, progress: _Progress
) -> Uploaded:
    final = remote_target(dest, local.name)
    folder = posixpath.dirname(final)
    if folder:
        await sftp.makedirs(folder, exist_ok=True)
    if await _holds(sftp, final, local):
        # An earlier attempt uploaded it and died before recording so: sending it again would deliver twice.
        return Uploaded(remote_path=final, sha256=local.sha256, size=local.size, already_there=True)
    temp = posixpath.join(folder, part_name(local.name))
    progress.writing = True
    try:
        await _write(sftp, temp, local)
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
        raise TransientError(f"{final} on {dest.host}:{dest.port} holds {size} bytes, expected {local.size}")
    return Uploaded(remote_path=final, sha256=remote, size=local.size)


async def _holds(sftp: asyncssh.SFTPClient, path: str, local: LocalFile) -> bool:
    """True when ``path`` on the server is ``local``'s exact content (a size check first, then its sha256)."""
    try:
        size = (await sftp.stat(path)).size
    except asyncssh.SFTPNoSuchFile:
        return False
    return size == local.size and await _remote_sha256(sftp, path) == local.sha256


async def _write(sftp: asyncssh.SFTPClient, path: str, local: LocalFile) -> None:
    """Write the file in bounded chunks (``put`` would first stat both sides and copy through an executor)."""
    async with sftp.open(path, "wb") as handle:
        offset = 0
        for block in local.chunks():
            await handle.write(block, offset)
            offset += len(block)


async def _remote_sha256(sftp: asyncssh.SFTPClient, path: str) -> str:
    digest = hashlib.sha256()
    async with sftp.open(path, "rb") as handle:
        while block := await handle.read(CHUNK):
            digest.update(block if isinstance(block, bytes) else block.encode())
    return digest.hexdigest()
