"""Hostile input files for the fault tests (issue 26)."""

from __future__ import annotations


def laughs(levels: int) -> str:
    """A "billion laughs" YAML document: ``9 ** levels`` strings reached through
    ``9 * (levels - 1)`` aliases (each line's list holds nine of the line before)."""
    text = "a: &a [" + ", ".join(['"lol"'] * 9) + "]\n"
    previous = "a"
    for name in "bcdefghijk"[: levels - 1]:
        text += f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text
