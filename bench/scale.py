"""Plan and apply at scale against the emulator, compared with the network bound.

For each N it generates a stack of N agents (2 text knowledge bases and 3 enabled actions
each, one workflow per 10 agents, a phone link on every 10th agent; every 10th agent, offset
by 5, also has a custom API with 2 tools behind bearer auth and a Paystack connector, with the
tools' actions enabled), serves the emulator in its
own process with a per-request latency, and runs three jobs as separate processes:

  apply   a full apply from empty
  noop    a plan with nothing to do
  change  a plan after 1% of the resources changed

For each it prints wall time, requests, the network bound (the fewest requests the job needs,
times the latency, divided by the parallelism; apply adds its dependency depth times the
latency), wall / bound, client CPU per resource and the client's peak memory; then the
requests by route, how the cost grows with N, a sequential run (parallelism 1) for
comparison, and an apply against an emulator limited to 50 requests/s, which the client must
finish without a failed operation within 1.2 x requests / 50 seconds.

Wall time is the whole command, from process start (interpreter and imports included) to exit.

    python bench/scale.py --quick          # N = 10, 100
    python bench/scale.py                  # N = 10, 100, 500, 1000
    python bench/scale.py --sizes 500 --latency-ms 25 --parallelism 16
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from served import Emulator, serve

ACTIONS = ("escalate_to_human", "send_email", "lookup_order")
TOOL_ACTIONS = ("get_parcel", "track_parcel")
PAGE = 100


def integrated(index: int) -> bool:
    """Whether agent `index` has integrations: one in ten."""
    return index % 10 == 5


INTEGRATIONS = """\
    custom_apis:
      parcels:
        name: Parcels {a}
        base_url: https://parcels.example.com/api
        auth_type: bearer
        auth_config: {{token: "${{var.parcels_token}}"}}
        tools:
          get_parcel:
            name: Get parcel
            http_method: GET
            url_template: /parcels/{{parcel_id}}
            url_params: [{{name: parcel_id, type: string, description: The parcel}}]
          track_parcel:
            name: Track parcel
            http_method: GET
            url_template: /parcels/{{parcel_id}}/tracking
            url_params: [{{name: parcel_id, type: string, description: The parcel}}]
    connectors:
      paystack: {{secret_key: "${{var.paystack_key}}", currency: NGN}}"""


def phone(index: int) -> str:
    return f"+1555{index:07d}"


def generate(directory: Path, n: int) -> int:
    """Write the stack; returns the number of resources it declares."""
    directory.mkdir(parents=True)
    (directory / "stack.yaml").write_text(
        "name: scale\n"
        "vars:\n"
        "  parcels_token: {value: bench-parcels-token-0123456789, sensitive: true}\n"
        "  paystack_key: {value: sk_test_bench0123456789, sensitive: true}\n"
        "environments:\n  bench: {}\n"
    )
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
            f"    actions: [{', '.join(ACTIONS + (TOOL_ACTIONS if integrated(a) else ()))}]",
            "    knowledge_bases:",
            f"      faq: {{type: text, name: FAQ {a}, content: Answers for agent {a}.}}",
            f"      policy: {{type: text, name: Policy {a}, content: Rules for agent {a}.}}",
        ]
        if integrated(a):
            lines += INTEGRATIONS.format(a=a).splitlines()
    links = list(range(0, n, 10))
    if links:
        lines.append("phone_numbers:")
        lines += [f'  "{phone(a)}": {{agent: agent-{a}, label: Line {a}}}' for a in links]
    (directory / "resources.yaml").write_text("\n".join(lines) + "\n")
    return workflows + n * 4 + len(links) + 4 * len(_integrated(n))


def _integrated(n: int) -> list[int]:
    return [a for a in range(n) if integrated(a)]


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
    rate_limited: int = 0


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
        int(counters.get("rate_limited", 0)),
    )


def fewest(job: str, n: int) -> tuple[int, int]:
    """The fewest requests a job needs, and its dependency depth (levels of waiting)."""
    workflows = max(1, n // 10)
    links = len(range(0, n, 10))
    apis = len(_integrated(n))
    if job == "apply":
        # From empty, the workflows list (the 3 public ones) and the agents list are a page each;
        # the team's numbers exist before. Then creates: workflows, agents, 2 knowledge bases
        # each; actions: read ids, enable; links.
        # Per integrated agent: configure the API, add 2 tools, configure the connector and
        # read the agent's connectors (configure answers an onboarding URL, not an id).
        lists = 2 + math.ceil((links + 4) / PAGE)
        return lists + workflows + n + 2 * n + 2 * n + links + 5 * apis, 4
    # A plan reads each list whole (the team owns 4 demo numbers besides the linked ones), then
    # each managed agent's knowledge bases and actions; an integrated agent's custom APIs, the
    # tools of its API and its connectors.
    lists = math.ceil((workflows + 3) / PAGE) + math.ceil(n / PAGE) + math.ceil((links + 4) / PAGE)
    return lists + 2 * n + 3 * apis, 0


def seed_numbers(emulator: Emulator, n: int) -> None:
    for index in range(0, n, 10):
        emulator.admin("POST", "/teams/team_default/phone-numbers", {"e164": phone(index)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N up to 100")
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--baseline", type=int, default=100, help="N of the sequential run")
    parser.add_argument(
        "--rate-limited", type=int, default=100, help="N of the run limited to 50 requests/s"
    )
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
    print("-" * len(header), flush=True)
    results: dict[tuple[int, str], tuple[int, Run]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            emulator = serve(Path(tmp) / f"emulator-{n}.db", args.latency_ms)
            try:
                seed_numbers(emulator, n)
                stack = Path(tmp) / f"stack-{n}"
                resources = generate(stack, n)
                jobs = [
                    ("apply", ["apply", str(stack), "--auto-approve"]),
                    ("noop", ["plan", str(stack), "--detailed-exitcode"]),
                ]
                for job, cli in jobs:
                    run = run_cli(emulator, cli, args.parallelism)
                    results[(n, job)] = (resources, run)
                    report(n, job, resources, run, args, latency)
                change_one_percent(stack, n)
                run = run_cli(emulator, ["plan", str(stack)], args.parallelism)
                results[(n, "change")] = (resources, run)
                report(n, "change", resources, run, args, latency)
            finally:
                emulator.process.terminate()
                emulator.process.wait()
        print_routes(results)
        print_growth(results, sizes)
        if args.baseline:
            baseline(Path(tmp), args)
        if args.rate_limited:
            rate_limited(Path(tmp), args)


def print_routes(results: dict[tuple[int, str], tuple[int, Run]]) -> None:
    print("\nrequests by route")
    for (n, job), (_, run) in results.items():
        routes = ", ".join(f"{route} {count}" for route, count in sorted(run.requests.items()))
        print(f"{n:>5} {job:<7} {routes}")


def print_growth(results: dict[tuple[int, str], tuple[int, Run]], sizes: list[int]) -> None:
    """Wall and CPU per resource at each N, and the marginal cost of the resources added
    since the N before: flat figures mean cost grows linearly."""
    ordered = sorted(sizes)
    print("\ncost per resource (marginal: for the resources added since the N before)")
    header = f"{'job':<7} {'N':>5} {'resources':>9} {'wall ms/res':>11} {'marginal':>9}"
    header += f" {'CPU ms/res':>10} {'marginal':>9}"
    print(header)
    print("-" * len(header))
    for job in ("apply", "noop", "change"):
        before: tuple[int, Run] | None = None
        for n in ordered:
            resources, run = results[(n, job)]
            wall, cpu = run.wall_s / resources * 1000, run.cpu_s / resources * 1000
            if before is None:
                marginal_wall = marginal_cpu = "-"
            else:
                added = resources - before[0]
                marginal_wall = f"{(run.wall_s - before[1].wall_s) / added * 1000:.2f}"
                marginal_cpu = f"{(run.cpu_s - before[1].cpu_s) / added * 1000:.2f}"
            print(
                f"{job:<7} {n:>5} {resources:>9} {wall:>11.2f} {marginal_wall:>9}"
                f" {cpu:>10.2f} {marginal_cpu:>9}"
            )
            before = (resources, run)


def baseline(tmp: Path, args: argparse.Namespace) -> None:
    emulator = serve(tmp / "baseline.db", args.latency_ms)
    try:
        seed_numbers(emulator, args.baseline)
        stack = tmp / "stack-baseline"
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


def rate_limited(tmp: Path, args: argparse.Namespace, limit: int = 50) -> None:
    """An apply against an emulator that allows `limit` requests per second: the client paces
    itself from the X-RateLimit headers, so it meets (almost) no 429 and fails nothing."""
    n = args.rate_limited
    emulator = serve(tmp / "rate-limited.db", args.latency_ms, rate_limit=limit)
    try:
        seed_numbers(emulator, n)
        stack = tmp / "stack-rate-limited"
        resources = generate(stack, n)
        run = run_cli(emulator, ["apply", str(stack), "--auto-approve"], args.parallelism)
    finally:
        emulator.process.terminate()
        emulator.process.wait()
    total = sum(run.requests.values())
    allowed = 1.2 * total / limit
    verdict = "within" if run.wall_s <= allowed and run.exit_code == 0 else "NOT within"
    print(
        f"\nrate limited to {limit} requests/s, N={n} apply ({resources} resources):"
        f" {run.wall_s:.2f} s for {total} requests (exit {run.exit_code});"
        f" {run.rate_limited} answered 429; limit 1.2 x {total}/{limit} = {allowed:.2f} s:"
        f" {verdict}"
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
        f" {run.peak_mb:>8.0f}{flag}",
        flush=True,
    )


if __name__ == "__main__":
    main()
