"""The help of the options that choose what a run acts on, shared by plan, apply and destroy
(what a target takes is `engine/planner.targeted`)."""

from __future__ import annotations

_USE = " module.NAME stands for every resource of that use of a module."
TARGET_HELP = (
    "Only this address, its children and what they need (repeatable); "
    "with --destroy, it and whatever depends on it." + _USE
)
APPLY_TARGET_HELP = "Only this address, its children and what they need (repeatable)." + _USE
DESTROY_TARGET_HELP = (
    "Only this address and whatever depends on it, never what it needs (repeatable)." + _USE
)
MAX_DELETIONS_HELP = (
    "Refuse a plan that destroys more than this many resources (its summary's count)."
)
