"""Plans as text for a terminal, JSON documents, Markdown for pull requests, and apply progress.

Data in, text out: nothing here prints or writes a file (except the schema generator in
`plan_document`); the commands do.
"""

from bimpe_iac.render.json import parse_plan_json, plan_from_json, plan_to_json, render_plan_json
from bimpe_iac.render.markdown import render_plan_markdown
from bimpe_iac.render.markers import sensitive_lookup
from bimpe_iac.render.progress import LiveProgress, format_apply_summary, format_progress
from bimpe_iac.render.text import render_plan_text

__all__ = [
    "LiveProgress",
    "format_apply_summary",
    "format_progress",
    "parse_plan_json",
    "plan_from_json",
    "plan_to_json",
    "render_plan_json",
    "render_plan_markdown",
    "render_plan_text",
    "sensitive_lookup",
]
