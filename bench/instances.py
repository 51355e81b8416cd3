"""What declaring N agents once with `for_each`, or through uses of a module, costs against
writing them out: the time to load and validate the stack, and the plan after adding one key.

Each layout declares the same N agents (each with a text knowledge base and 2 actions, one
shared workflow):

  plain      N entries under agents:
  for_each   one entry with for_each over a map var of N keys
  modules    N/10 uses of a module that declares 10 agents

It prints the median load time of each (in-process `load_stack`, 5 runs), then, for the
for_each layout applied to the embedded emulator, the plan after one key is added: its
summary must be one agent, its knowledge base, its actions created and nothing else.

    python bench/instances.py               # N = 100, 500
    python bench/instances.py --sizes 1000
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bimpe_iac.manifest import load_stack
from bimpe_iac.resources import REGISTRY

AGENT = """    workflow: {workflow}
    name: {name}
    description: Regional desk.
    timezone: Africa/Lagos
    knowledge_bases:
      faq: {{type: text, name: "FAQ {name}", content: Opening hours are 9 to 5.}}
    actions: [escalate_to_human, send_email]
"""
WORKFLOW = """workflows:
  desk:
    name: Desk
    system_prompt: Be brief.
"""


def _plain(root: Path, n: int) -> Path:
    root.mkdir()
    (root / "stack.yaml").write_text("name: plain\nenvironments:\n  prod: {}\n")
    agents = "".join(
        f"  a{i}:\n" + AGENT.format(workflow="desk", name=f"Desk {i}") for i in range(n)
    )
    (root / "agents.yaml").write_text(WORKFLOW + "agents:\n" + agents)
    return root


def _for_each(root: Path, n: int, extra: int = 0) -> Path:
    root.mkdir(exist_ok=True)
    regions = "".join(f"    r{i}: {{city: City {i}}}\n" for i in range(n + extra))
    (root / "stack.yaml").write_text(
        f"name: each\nvars:\n  regions:\n{regions}environments:\n  prod: {{}}\n"
    )
    body = AGENT.format(workflow="desk", name="Desk ${each.value.city}")
    (root / "agents.yaml").write_text(
        WORKFLOW + "agents:\n  regional:\n    for_each: ${var.regions}\n" + body
    )
    return root


def _modules(root: Path, n: int) -> Path:
    module = root / "desk"
    module.mkdir(parents=True)
    (module / "module.yaml").write_text("inputs:\n  brand: {type: string}\n")
    agents = "".join(
        f"  a{i}:\n" + AGENT.format(workflow="desk", name=f"${{var.brand}} {i}") for i in range(10)
    )
    (module / "desk.yaml").write_text(
        WORKFLOW.replace("Desk", "Desk ${var.brand}") + "agents:\n" + agents
    )
    stack = root / "stack"
    stack.mkdir()
    uses = "".join(
        f"  b{i}: {{source: ../desk, inputs: {{brand: Brand{i}}}}}\n" for i in range(n // 10)
    )
    (stack / "stack.yaml").write_text(f"name: mods\nenvironments:\n  prod: {{}}\nmodules:\n{uses}")
    return stack


def _load_ms(stack: Path) -> float:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        loaded = load_stack(stack, "prod", sections=REGISTRY.sections)
        times.append((time.perf_counter() - started) * 1000)
    assert loaded.count("agents") > 0
    return statistics.median(times)


def _cli(*args: str | Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bimpe_iac", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )
    if done.returncode not in (0, 2):
        raise SystemExit(done.stdout + done.stderr)
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500])
    args = parser.parse_args()
    print(f"{'N':>6} {'plain ms':>10} {'for_each ms':>12} {'modules ms':>11}  for_each/plain")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            plain = _load_ms(_plain(root / "plain", n))
            each = _load_ms(_for_each(root / "each", n))
            mods = _load_ms(_modules(root / "mods", n))
            print(f"{n:>6} {plain:>10.1f} {each:>12.1f} {mods:>11.1f}  {each / plain:>13.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        stack = _for_each(Path(tmp) / "each", 20)
        _cli("apply", stack, "--auto-approve", "--emulator")
        _for_each(stack, 20, extra=1)
        summary = [
            line for line in _cli("plan", stack, "--emulator").splitlines() if "Plan:" in line
        ]
        print(f"N = 20, one key added: {summary[0] if summary else 'no plan summary'}")


if __name__ == "__main__":
    main()
