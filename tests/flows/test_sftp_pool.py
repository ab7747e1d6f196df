"""SFTP connection reuse: counted at a real SFTP server on loopback."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.config import SftpDestination
from flows.delivery.retry import TransientError
from flows.delivery.transports import sftp, sftp_pool
from flows.delivery.transports.base import LocalFile
from flows.delivery.transports.sftp import upload_sftp
from flows.delivery.transports.sftp_pool import Session, SftpPool
from tests.utils.servers.sftp import SftpServer

PASSWORD = "pool-Pa55-for-tests"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SftpServer]:
    with SftpServer(root=tmp_path / "root", keys_dir=tmp_path / "keys", password=PASSWORD) as running:
        yield running


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[SftpPool]:
    """A pool of this test's own (a short idle timeout), as the process's shared one."""
    fresh = SftpPool(idle_s=0.5)
    monkeypatch.setattr(sftp_pool, "_pool", fresh)
    monkeypatch.setattr(sftp_pool, "_pool_pid", sftp_pool.os.getpid())
    yield fresh
    fresh.close()


def dest(server: SftpServer) -> SftpDestination:
    return SftpDestination(
        host=server.host,
        port=server.port,
        username=server.username,
        remote_dir="incoming",
        known_hosts=server.known_hosts_path,
        timeout_s=5.0,
    )


def local_file(folder: Path, name: str) -> LocalFile:
    body = f"id,name\n1,{name}\n".encode()
    path = folder / name
    path.write_bytes(body)
    return LocalFile(
        path=path, name=name, format="csv", sha256=hashlib.sha256(body).hexdigest(), size=len(body)
    )


def send(server: SftpServer, tmp_path: Path, name: str) -> None:
    local = local_file(tmp_path, name)
    uploaded = upload_sftp(name="partner", dest=dest(server), password=PASSWORD, local=local)
    assert (uploaded.remote_path, uploaded.sha256, uploaded.already_there) == (
        f"incoming/{name}",
        local.sha256,
        False,
    )


@pytest.mark.integration
def test_two_uploads_share_one_connection(server: SftpServer, pool: SftpPool, tmp_path: Path) -> None:
    send(server, tmp_path, "a.csv")
    send(server, tmp_path, "b.csv")
    assert server.accepted == 1
    assert [Path(p).name for p in server.landed] == ["a.csv", "b.csv"]
    assert pool.idle_count() == 1


@pytest.mark.integration
@pytest.mark.parametrize("noticed", [True, False], ids=["noticed-while-idle", "found-dead-in-use"])
def test_a_connection_the_server_dropped_is_replaced(
    server: SftpServer, pool: SftpPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, noticed: bool
) -> None:
    send(server, tmp_path, "a.csv")
    if not noticed:
        # As when a firewall forgot the idle connection: the client learns it is dead only from its first request,
        # and the upload is retried once on a fresh connection.
        monkeypatch.setattr(Session, "closed", property(lambda _self: False))
    server.drop_connections()
    send(server, tmp_path, "b.csv")
    assert server.accepted == 2
    assert [Path(p).name for p in server.landed] == ["a.csv", "b.csv"]


@pytest.mark.integration
def test_a_fresh_connection_that_fails_is_not_retried(
    server: SftpServer, pool: SftpPool, tmp_path: Path
) -> None:
    server.fail_next("open")
    with pytest.raises(
        TransientError, match=r"^partner at 127\.0\.0\.1:\d+ failed an SFTP request for a\.csv: "
    ):
        send(server, tmp_path, "a.csv")
    assert server.accepted == 1
    assert server.landed == []
    assert pool.idle_count() == 1  # the server answered: the connection itself is fine


@pytest.mark.integration
def test_an_idle_connection_is_closed_after_the_timeout(
    server: SftpServer, pool: SftpPool, tmp_path: Path
) -> None:
    send(server, tmp_path, "a.csv")
    assert server.open_connections == 1
    deadline = time.monotonic() + 5.0
    while server.open_connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (server.open_connections, pool.idle_count()) == (0, 0)
    send(server, tmp_path, "b.csv")
    assert server.accepted == 2


@pytest.mark.integration
def test_a_connection_lost_while_writing_is_not_retried_here(
    server: SftpServer, pool: SftpPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once bytes went out, whether the file arrived is the delivery's retry to find out (its _holds check).
    send(server, tmp_path, "a.csv")
    write = sftp._write

    async def dropped_midway(*args: Any) -> None:
        server.drop_connections()
        await write(*args)

    monkeypatch.setattr(sftp, "_write", dropped_midway)
    # Broken pipe or a lost connection, depending on which side notices first: either way one attempt.
    with pytest.raises(TransientError, match=r"partner at 127\.0\.0\.1:\d+"):
        send(server, tmp_path, "b.csv")
    assert server.accepted == 1
    assert [Path(p).name for p in server.landed] == ["a.csv"]
