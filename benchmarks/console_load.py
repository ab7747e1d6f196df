"""Console load benchmark: a read-tool chat turn over HTTP, serially and at concurrency 16, beside /health.

The app runs as ``switchboard serve`` would (uvicorn, one worker, the embedded backend, SQLite, demo data) in
a child process, so the load generator (httpx.AsyncClient in this process) does not share its interpreter
lock. Each turn is a real ``POST /api/threads/{id}/messages`` with a Bearer token: authentication, rate-limit
bookkeeping, the chat graph with its SQLite checkpoint, the policy gate, the read tool, the audit records and
the thread history. A bare ``GET /health`` is measured in the same run for the ratio.

Targets (issue 6): read turn p95 <= 60 ms; >= 150 turns/s at concurrency 16.

Run: ``python -m benchmarks.console_load [turns]``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

READ_TEXT = "list the failed runs of the last 7 days"
TARGET_P95_MS = 60.0
TARGET_TURNS_PER_S = 150.0
REFERENCE_DATE = date(2026, 11, 22)


@dataclass(frozen=True)
class _Setup:
    database_url: str
    var_dir: str
    port: int


def _settings(setup: _Setup) -> Any:
    from flows.config import load_settings

    # The benchmark measures the service, not the per-user limiter: one user sends thousands of turns a
    # minute.
    return load_settings(
        database_url=setup.database_url,
        var_dir=Path(setup.var_dir),
        reference_date=REFERENCE_DATE.isoformat(),
        rate_limit_per_minute=0,
    )


def _serve(setup: _Setup) -> None:
    import uvicorn

    from console.app import create_app

    uvicorn.run(
        create_app(_settings(setup), background=False),
        host="127.0.0.1",
        port=setup.port,
        log_level="warning",
        access_log=False,
    )


def _prepare(setup: _Setup) -> str:
    from flows.demo import load_demo
    from flows.store.db import init_db, make_engine
    from flows.store.users import create_user, issue_token

    settings = _settings(setup)
    engine = make_engine(settings.database_url)
    init_db(engine)
    load_demo(engine=engine, settings=settings, today=REFERENCE_DATE)
    create_user(engine=engine, name="bench", role="operator", password=None, actor="benchmark")
    token = issue_token(engine=engine, name="bench", actor="benchmark")
    engine.dispose()
    return token


def _server_means(text: str) -> tuple[float, float]:
    """Mean time inside Switchboard.chat and inside the app for the chat route, from the app's own metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[str, float] = {}
    route = "/api/threads/{thread_id}/messages"
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("switchboard_chat_turn_seconds_"):
                found[sample.name.rsplit("_", 1)[-1]] = sample.value
            elif (
                sample.name.startswith("switchboard_http_request_duration_seconds_")
                and sample.labels.get("route") == route
                and sample.labels.get("method") == "POST"
            ):
                found["http_" + sample.name.rsplit("_", 1)[-1]] = sample.value
    turn = 1000 * found.get("sum", 0.0) / max(found.get("count", 1.0), 1.0)
    request = 1000 * found.get("http_sum", 0.0) / max(found.get("http_count", 1.0), 1.0)
    return turn, request


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _timed(
    client: httpx.AsyncClient, method: str, path: str, **kwargs: Any
) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.request(method, path, **kwargs)
    return (time.perf_counter() - started) * 1000, response


async def _serial(client: httpx.AsyncClient, n: int, method: str, path: str, **kwargs: Any) -> list[float]:
    times = []
    for _ in range(n):
        ms, response = await _timed(client, method, path, **kwargs)
        response.raise_for_status()
        times.append(ms)
    return times


async def _concurrent(
    total: int, concurrency: int, max_seconds: float, request: Any
) -> tuple[int, float, list[float]]:
    done, times = 0, []
    deadline = time.perf_counter() + max_seconds
    started = time.perf_counter()

    async def worker(index: int) -> None:
        nonlocal done
        while done < total and time.perf_counter() < deadline:
            done += 1
            ms, response = await request(index)
            response.raise_for_status()
            times.append(ms)

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return len(times), time.perf_counter() - started, times


async def _measure(url: str, token: str, turns: int, concurrency: int, max_seconds: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30, limits=limits) as client:
        body = {"text": READ_TEXT}
        first = (await client.post("/api/threads/bench-warm/messages", json=body)).json()
        decision = first["decision"]
        await _serial(client, 20, "POST", "/api/threads/bench-warm/messages", json=body)
        await _serial(client, 50, "GET", "/health")
        serial = await _serial(
            client, max(20, turns // 4), "POST", "/api/threads/bench-serial/messages", json=body
        )
        health = await _serial(client, max(50, turns // 2), "GET", "/health")

        async def turn(index: int) -> tuple[float, httpx.Response]:
            return await _timed(client, "POST", f"/api/threads/bench-c{index}/messages", json=body)

        async def probe(_index: int) -> tuple[float, httpx.Response]:
            return await _timed(client, "GET", "/health")

        before = _server_means((await client.get("/metrics")).text)
        n_turns, turn_s, loaded = await _concurrent(turns, concurrency, max_seconds, turn)
        n_health, health_s, _ = await _concurrent(turns * 2, concurrency, max_seconds, probe)
    serial_means = before
    return {
        "server_turn_mean_ms": serial_means[0],
        "server_request_mean_ms": serial_means[1],
        "tool": decision["tool"],
        "action": decision["action"],
        "confidence": decision["confidence"],
        "turn_p50_ms": statistics.median(serial),
        "turn_p95_ms": _pct(serial, 0.95),
        "health_p50_ms": statistics.median(health),
        "health_p95_ms": _pct(health, 0.95),
        "turn_p50_ms_loaded": statistics.median(loaded),
        "turn_p95_ms_loaded": _pct(loaded, 0.95),
        "turns_per_s": n_turns / turn_s,
        "health_per_s": n_health / health_s,
        "turns": n_turns,
        "concurrency": concurrency,
    }


def bench_console(*, turns: int = 600, concurrency: int = 16, max_seconds: float = 60.0) -> dict[str, Any]:
    """Start the console in a child process and measure chat turns and /health over loopback HTTP.

    Args:
        turns: Chat turns in the concurrent phase (a quarter of that, at least 20, run serially first).
        concurrency: Simultaneous clients in the concurrent phase.
        max_seconds: Upper bound on each concurrent phase.

    Returns:
        Latencies (ms), throughputs (per second), the ratios to /health, and whether the targets were met.
    """
    from tests.utils.servers.ports import free_port  # a tiny helper: binds port 0 and returns the number

    with tempfile.TemporaryDirectory(prefix="sb-console-bench-") as folder:
        var = Path(folder) / "var"
        (var / "inbox").mkdir(parents=True)
        setup = _Setup(f"sqlite:///{var / 'switchboard.db'}", str(var), free_port("127.0.0.1"))
        token = _prepare(setup)
        process = multiprocessing.get_context("spawn").Process(target=_serve, args=(setup,), daemon=True)
        process.start()
        url = f"http://127.0.0.1:{setup.port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or not process.is_alive():
                    raise RuntimeError("the console did not start")
                time.sleep(0.2)
            result = asyncio.run(_measure(url, token, turns, concurrency, max_seconds))
        finally:
            process.terminate()
            process.join(10)
    result["turn_to_health_p50"] = result["turn_p50_ms"] / result["health_p50_ms"]
    result["health_to_turn_throughput"] = result["health_per_s"] / result["turns_per_s"]
    result["p95_target_met"] = result["turn_p95_ms"] <= TARGET_P95_MS
    result["throughput_target_met"] = result["turns_per_s"] >= TARGET_TURNS_PER_S
    return result


def main() -> None:
    """Print the benchmark table."""
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    r = bench_console(turns=turns)
    print(f"Read turn: {READ_TEXT!r} -> {r['tool']} ({r['action']}, confidence {r['confidence']:.2f})")
    print(f"{'measure':<34}{'chat turn':>12}{'/health':>12}{'ratio':>9}{'target':>12}")
    rows = [
        ("serial p50 (ms)", r["turn_p50_ms"], r["health_p50_ms"], "", ""),
        ("serial p95 (ms)", r["turn_p95_ms"], r["health_p95_ms"], "", f"<= {TARGET_P95_MS:.0f}"),
        (f"p50 at concurrency {r['concurrency']} (ms)", r["turn_p50_ms_loaded"], None, "", ""),
        (f"p95 at concurrency {r['concurrency']} (ms)", r["turn_p95_ms_loaded"], None, "", ""),
        (
            f"throughput at concurrency {r['concurrency']} (/s)",
            r["turns_per_s"],
            r["health_per_s"],
            "",
            f">= {TARGET_TURNS_PER_S:.0f}",
        ),
    ]
    for label, turn, health, _, target in rows:
        ratio = f"{turn / health:.1f}x" if health else ""
        shown = f"{health:12.1f}" if health is not None else f"{'':>12}"
        print(f"{label:<34}{turn:12.1f}{shown}{ratio:>9}{target:>12}")
    met = "met" if r["p95_target_met"] else "NOT met"
    met_tp = "met" if r["throughput_target_met"] else "NOT met"
    print(f"p95 target {met}; throughput target {met_tp} ({r['turns']} turns).")
    print(
        f"Server side (app metrics, warm-up and serial turns): {r['server_turn_mean_ms']:.1f} ms mean in "
        f"Switchboard.chat, {r['server_request_mean_ms']:.1f} ms mean in the app for the chat route."
    )


if __name__ == "__main__":
    main()
