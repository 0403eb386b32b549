"""Database constraints generated from model choices, so the database and the code never list
the allowed values twice (a new choice is one line in the TextChoices class and a migration)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def choices_constraint(
    *, field: str, choices: type[models.TextChoices], name: str, blank: bool = False
) -> models.CheckConstraint:
    """``field`` holds one of ``choices`` (or ``""`` when ``blank``)."""
    condition = Q(**{f"{field}__in": choices.values})
    if blank:
        condition = Q(**{field: ""}) | condition
    return models.CheckConstraint(condition=condition, name=name)
