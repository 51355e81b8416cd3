"""A small stack with a sensitive variable in a description, a prompt file and a knowledge
file: what the fuzz and hostile-input tests start from."""

from __future__ import annotations


def small_stack(name: str, token: str) -> dict[str, str]:
    """The files of the stack, by path; `token` is the sensitive var's value."""
    return {
        "stack.yaml": f"name: {name}\nvars:\n  token: {{value: {token}, sensitive: true}}\n",
        "prompts/main.md": "Answer briefly.\n",
        "kb/faq.md": "Q: Hours?\nA: 8 to 8.\n",
        "resources.yaml": """
workflows:
  main:
    name: Main workflow
    system_prompt: {file: prompts/main.md}
    description: "Calls the API with ${var.token}"
    tags: [support, b2b]
agents:
  bot:
    workflow: main
    name: Bot
    description: Answers questions
    persona: friendly
    knowledge_bases:
      faq: {type: text, name: FAQ, content: {file: kb/faq.md}}
""",
    }
