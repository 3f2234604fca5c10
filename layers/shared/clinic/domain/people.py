"""Pure rules about people records: age, and the search keys derived from a family name."""

from __future__ import annotations

from datetime import date


def age_on(birth_date: date, today: date) -> int:
    """Whole years completed on ``today`` (a 29 February birthday counts on 1 March in common years)."""
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return max(years, 0)


def name_key(family_name: str) -> str:
    """The case-insensitive form a family-name prefix search compares."""
    return family_name.casefold()


def name_shard(family_name: str) -> str:
    """The index partition of a family name: its first case-folded character."""
    return name_key(family_name)[:1]
