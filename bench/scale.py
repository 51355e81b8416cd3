"""Plan and apply at scale against the emulator, compared with the network bound.

For each N it generates a stack of N agents (2 text knowledge bases and 3 enabled actions
each, one workflow per 10 agents, a phone link on every 10th agent), serves the emulator in its
own process with a per-request latency, and runs three jobs as separate processes:

  apply   a full apply from empty
  noop    a plan with nothing to do
  change  a plan after 1% of the resources changed

For each it prints wall time, requests, the network bound (the fewest requests the job needs,
times the latency, divided by the parallelism; apply adds its dependency depth times the
latency), wall / bound, client CPU per resource and the client's peak memory.

    python bench/scale.py --quick          # N = 10, 100
    python bench/scale.py                  # N = 10, 100, 500, 1000
    python bench/scale.py --sizes 500 --latency-ms 25 --parallelism 16
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ADMIN_TOKEN = "adm_bench"
ACTIONS = ("escalate_to_human", "send_email", "lookup_order")
PAGE = 100


@dataclass(frozen=True)
class Emulator:
    process: subprocess.Popen[str]
    url: str
    key: str

    def admin(self, method: str, path: str, json: object = None) -> object:
        response = httpx.request(
            method,
            f"{self.url}/_emulator{path}",
            json=json,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()["data"]


def serve(db: Path, latency_ms: float) -> Emulator:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bimpe_iac",
            "emulator",
            "serve",
            "--port",
            "0",
            "--db",
            str(db),
            "--latency-ms",
            str(latency_ms),
            "--admin-token",
            ADMIN_TOKEN,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = key = ""
    while not (url and key):
        line = process.stdout.readline()
        if not line:
            raise SystemExit("the emulator did not start")
        if found := re.search(r"BIMPE_BASE_URL=(\S+)", line):
            url = found.group(1)
        if found := re.search(r"BIMPE_API_KEY=(\S+)", line):
            key = found.group(1)
    return Emulator(process, url, key)


def phone(index: int) -> str:
    return f"+1555{index:07d}"


def generate(directory: Path, n: int) -> int:
    """Write the stack; returns the number of resources it declares."""
    directory.mkdir(parents=True)
    (directory / "stack.yaml").write_text("name: scale\nenvironments:\n  bench: {}\n")
    lines = ["workflows:"]
    workflows = max(1, n // 10)
    for w in range(workflows):
        lines += [f"  wf-{w}:", f"    name: Workflow {w}", f"    system_prompt: You help team {w}."]
    lines.append("agents:")
    for a in range(n):
        lines += [
            f"  agent-{a}:",
            f"    workflow: wf-{a % workflows}",
            f"    name: Agent {a}",
            "    description: Generated for the scale benchmark",
            f"    actions: [{', '.join(ACTIONS)}]",
            "    knowledge_bases:",
            f"      faq: {{type: text, name: FAQ {a}, content: Answers for agent {a}.}}",
            f"      policy: {{type: text, name: Policy {a}, content: Rules for agent {a}.}}",
        ]
    links = list(range(0, n, 10))
    if links:
        lines.append("phone_numbers:")
        lines += [f'  "{phone(a)}": {{agent: agent-{a}, label: Line {a}}}' for a in links]
    (directory / "resources.yaml").write_text("\n".join(lines) + "\n")
    return workflows + n * 4 + len(links)


def change_one_percent(directory: Path, n: int) -> None:
    path = directory / "resources.yaml"
    text = path.read_text()
    for a in range(0, n, 100):
        text = text.replace(
            f"    name: Agent {a}\n    description: Generated for the scale benchmark",
            f"    name: Agent {a}\n    description: Changed",
        )
    path.write_text(text)


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    peak_mb: float
    requests: dict[str, int]
    exit_code: int


def run_cli(emulator: Emulator, args: list[str], parallelism: int) -> Run:
    emulator.admin("DELETE", "/counters")
    env = {**os.environ, "BIMPE_API_KEY": emulator.key, "BIMPE_BASE_URL": emulator.url}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bimpe_iac", *args, "--parallelism", str(parallelism)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    counters = emulator.admin("GET", "/counters")
    assert isinstance(counters, dict)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        assert process.stderr is not None
        print(process.stderr.read()[-2000:], file=sys.stderr)
    return Run(
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        counters["requests"],
        code,
    )


def fewest(job: str, n: int) -> tuple[int, int]:
    """The fewest requests a job needs, and its dependency depth (levels of waiting)."""
    workflows = max(1, n // 10)
    links = len(range(0, n, 10))
    lists = (
        math.ceil((workflows + 3) / PAGE)
        + math.ceil(n / PAGE)
        + math.ceil(max(1, links + 4) / PAGE)
    )
    if job == "apply":
        # Creates: workflows, agents, 2 knowledge bases each; actions: read ids, enable; links.
        return lists + workflows + n + 2 * n + 2 * n + links, 3
    # A plan (with or without changes) only reads: the lists, then each agent's two lists.
    return lists + 2 * n, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N up to 100")
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--baseline", type=int, default=100, help="N of the sequential run")
    args = parser.parse_args()
    sizes = args.sizes or ([10, 100] if args.quick else [10, 100, 500, 1000])
    latency = args.latency_ms / 1000
    print(
        f"latency {args.latency_ms:.0f} ms, parallelism {args.parallelism};"
        " bound = fewest requests x latency / parallelism (+ depth x latency for apply)"
    )
    header = (
        f"{'N':>5} {'job':<7} {'resources':>9} {'wall s':>8} {'requests':>8} {'fewest':>7}"
        f" {'bound s':>8} {'wall/bound':>10} {'CPU ms/res':>10} {'peak MB':>8}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            emulator = serve(Path(tmp) / f"emulator-{n}.db", args.latency_ms)
            try:
                for index in range(0, n, 10):
                    emulator.admin(
                        "POST", "/teams/team_default/phone-numbers", {"e164": phone(index)}
                    )
                stack = Path(tmp) / f"stack-{n}"
                resources = generate(stack, n)
                jobs = [
                    ("apply", ["apply", str(stack), "--auto-approve"]),
                    ("noop", ["plan", str(stack), "--detailed-exitcode"]),
                ]
                for job, cli in jobs:
                    report(
                        n, job, resources, run_cli(emulator, cli, args.parallelism), args, latency
                    )
                change_one_percent(stack, n)
                report(
                    n,
                    "change",
                    resources,
                    run_cli(emulator, ["plan", str(stack)], args.parallelism),
                    args,
                    latency,
                )
            finally:
                emulator.process.terminate()
                emulator.process.wait()
        if args.baseline:
            emulator = serve(Path(tmp) / "baseline.db", args.latency_ms)
            try:
                for index in range(0, args.baseline, 10):
                    emulator.admin(
                        "POST", "/teams/team_default/phone-numbers", {"e164": phone(index)}
                    )
                stack = Path(tmp) / "stack-baseline"
                generate(stack, args.baseline)
                serial = run_cli(emulator, ["apply", str(stack), "--auto-approve"], 1)
                noop_serial = run_cli(emulator, ["plan", str(stack)], 1)
                noop_parallel = run_cli(emulator, ["plan", str(stack)], args.parallelism)
            finally:
                emulator.process.terminate()
                emulator.process.wait()
            print(
                f"\nsequential baseline, N={args.baseline}: apply {serial.wall_s:.2f} s;"
                f" no-op plan {noop_serial.wall_s:.2f} s at parallelism 1 vs"
                f" {noop_parallel.wall_s:.2f} s at {args.parallelism}"
                f" ({noop_serial.wall_s / noop_parallel.wall_s:.1f}x faster)"
            )


def report(
    n: int, job: str, resources: int, run: Run, args: argparse.Namespace, latency: float
) -> None:
    total = sum(run.requests.values())
    least, depth = fewest(job, n)
    bound = least * latency / args.parallelism + depth * latency
    flag = "" if run.exit_code in (0, 2) else f"  (exit {run.exit_code})"
    print(
        f"{n:>5} {job:<7} {resources:>9} {run.wall_s:>8.2f} {total:>8} {least:>7}"
        f" {bound:>8.2f} {run.wall_s / bound:>10.2f} {run.cpu_s / resources * 1000:>10.2f}"
        f" {run.peak_mb:>8.0f}{flag}"
    )


if __name__ == "__main__":
    main()
