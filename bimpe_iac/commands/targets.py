"""The help of the options that choose what a run acts on, shared by plan, apply and destroy
(what a target takes is `engine/planner.targeted`)."""

from __future__ import annotations

TARGET_HELP = (
    "Only this address, its children and what they need (repeatable); "
    "with --destroy, it and whatever depends on it."
)
APPLY_TARGET_HELP = "Only this address, its children and what they need (repeatable)."
DESTROY_TARGET_HELP = (
    "Only this address and whatever depends on it, never what it needs (repeatable)."
)
MAX_DELETIONS_HELP = (
    "Refuse a plan that destroys more than this many resources (its summary's count)."
)
