"""Requests per second the emulator serves to the official async SDK on loopback.

Starts `bimpe-iac emulator serve` in its own process on a fresh database, then runs 16 concurrent
clients (tasks sharing one SDK client built as the engine builds it) against `agents.list` and
`agents.create`. Prints one line per job. Targets on a 2-core machine: 800 GETs/s, 300 creates/s.

    python bench/emulator_throughput.py [--requests 4000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from served import serve

from bimpe_iac.connection import Target, open_client
from bimpe_iac.secrets import Secret

TARGETS = {"agents.list": 800.0, "agents.create": 300.0}


def server_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_job(
    name: str,
    total: int,
    concurrency: int,
    call: Callable[[int], Awaitable[object]],
    server_pid: int,
) -> float:
    counter = iter(range(total))

    async def worker() -> None:
        for index in counter:
            await call(index)

    started = time.perf_counter()
    client_cpu, server_cpu = time.process_time(), server_cpu_s(server_pid)
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    client_ms = (time.process_time() - client_cpu) / total * 1000
    server_ms = (server_cpu_s(server_pid) - server_cpu) / total * 1000
    rate = total / elapsed
    verdict = "meets" if rate >= TARGETS[name] else "BELOW"
    print(
        f"{name:<14} {total:>6} requests  {elapsed:6.2f} s  {rate:8.0f} req/s"
        f"  (target {TARGETS[name]:.0f}/s: {verdict})"
        f"  CPU per request: client {client_ms:.2f} ms, server {server_ms:.2f} ms"
    )
    return rate


async def bench(url: str, key: str, total: int, concurrency: int, server_pid: int) -> None:
    target = Target(base_url=url, api_key=Secret(key), parallelism=concurrency)
    async with open_client(target) as client:
        workflow = await client.workflows.create(name="Bench", system_prompt="You help.")
        for i in range(20):
            await client.agents.create(
                workflow_id=workflow.id, name=f"seed {i}", description="seed"
            )

        async def list_agents(_: int) -> object:
            return await client.agents.list(limit=20)

        async def create_agent(i: int) -> object:
            return await client.agents.create(
                workflow_id=workflow.id, name=f"bench {i}", description="bench agent"
            )

        print(f"emulator {url}, {concurrency} concurrent clients, one SDK client")
        await run_job("agents.list", total, concurrency, list_agents, server_pid)
        await run_job("agents.create", total // 2, concurrency, create_agent, server_pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        emulator = serve(Path(tmp) / "bench.db")
        try:
            asyncio.run(
                bench(
                    emulator.url,
                    emulator.key,
                    args.requests,
                    args.concurrency,
                    emulator.process.pid,
                )
            )
        finally:
            emulator.process.terminate()
            emulator.process.wait(timeout=10)


if __name__ == "__main__":
    main()
