"""Fixtures for end-to-end runs of the CLI against a private emulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bimpeai import BimpeAI
from cli_runner import Outcome, invoke
from example_copy import copy_example

from bimpe_iac.emulator.server import RunningEmulator


@dataclass
class Bimpe:
    """The CLI, run in-process with the emulator's key and URL in its environment."""

    running: RunningEmulator
    sdk: BimpeAI

    @property
    def environ(self) -> dict[str, str | None]:
        key = self.running.emulator.api_key
        return {
            "BIMPE_API_KEY": key,
            "BIMPE_STAGING_API_KEY": key,
            "BIMPE_PROD_API_KEY": key,
            "BIMPE_BASE_URL": self.running.url,
            "NO_COLOR": "1",
        }

    def __call__(self, *args: str | Path, input: str | None = None) -> Outcome:
        return invoke(*args, env=self.environ, input=input)


@pytest.fixture
def bimpe(start_emulator: Callable[..., RunningEmulator]) -> Iterator[Bimpe]:
    running = start_emulator()
    with BimpeAI(api_key=running.emulator.api_key, base_url=running.url) as sdk:
        yield Bimpe(running, sdk)


@pytest.fixture
def example(tmp_path: Path) -> Callable[[str], Path]:
    """A copy of an example stack in a temporary directory (its state lands there too),
    without the `.bimpe/` an earlier run may have left in the example."""

    def copy(name: str) -> Path:
        return copy_example(name, tmp_path / name)

    return copy


FULL_STACK = {
    "stack.yaml": """
name: full
environments:
  test: {}
""",
    "prompts/main.md": "You are a careful assistant.\r\nAnswer briefly.   \n\n",
    "kb/faq.md": "Q: Opening hours?\nA: 8 to 8.\n",
    "resources.yaml": """
workflows:
  main:
    name: Main workflow
    system_prompt: {file: prompts/main.md}
    description: Everything a workflow can say
    category: support
    tags: [b-tag, a-tag]
    integrations: [stripe]
    channels: [webchat, whatsapp]
    actions: [escalate_to_human]
    setup_time: 15
    video_url: https://video.example/intro
    guide: {steps: [Read the prompt, Add knowledge], youtube_url: https://youtube.example/x}
    setup_steps: [{title: Connect WhatsApp}]
    rules:
      - id: r1
        name: Refunds
        trigger: refund
        response: We refund within five days.
        enabled: true
      - id: r2
        name: Angry
        trigger: angry
        response: Sorry about that.
        enabled: false
        condition: repeated complaint
        action: escalate_to_human
    flows:
      - name: Order status
        description: Where is my order
        category: orders
        priority: 2
        is_active: true
        trigger_keywords: [{keyword: order, weight: high}, {keyword: parcel}]
        conversation_steps:
          - {type: message, content: "Your order number?"}
          - {type: action, action: lookup_order, followup: Tell the status}
      - name: Hours
    faq:
      - {question: "When are you open?", answer: 8am to 8pm.}
agents:
  bot:
    workflow: main
    name: Full bot
    description: Uses every agent field
    language: en
    persona: concise
    timezone: Africa/Lagos
    logo: https://cdn.example/logo.png
    business_name: Example Ltd
    business_address: 1 Main Street
    business_email: hello@example.com
    business_description: We sell things.
    escalation_email: team@example.com
    live_status: paused
    live_status_reason: Waiting for launch
    actions: [send_email, escalate_to_human]
    knowledge_bases:
      faq: {type: text, name: FAQ, description: Common questions, content: {file: kb/faq.md}}
      site: {type: url, name: Site, description: Our site, url: https://example.com/help}
  catalog-bot:
    workflow: {public: Customer Support Triage}
    name: Catalog bot
    description: Runs a public workflow
phone_numbers:
  "+15550100001": {agent: bot, label: Main line}
""",
}


def write_stack(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return root


@pytest.fixture
def full_stack(tmp_path: Path) -> Path:
    """A stack that sets every field of every resource kind."""
    return write_stack(tmp_path / "full", FULL_STACK)


@pytest.fixture
def make_stack(tmp_path: Path) -> Callable[[str, dict[str, str]], Path]:
    """Write a stack from {relative path: text} into a temporary directory."""
    return lambda name, files: write_stack(tmp_path / name, files)
