"""System checks that guard against a misconfigured database."""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import DatabaseError, connection


@register(Tags.database)
def check_database_ctype(app_configs, **kwargs) -> list[Error]:
    """Refuse a database whose LC_CTYPE is C/POSIX: pg_trgm then makes no trigrams for
    non-Latin letters, and k-pop, j-pop or Cyrillic titles become unsearchable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datctype FROM pg_database WHERE datname = current_database()")
            (ctype,) = cursor.fetchone()
    except DatabaseError:
        return []  # the database checks of Django itself report an unreachable server
    return ctype_errors(ctype)


def ctype_errors(ctype: str) -> list[Error]:
    if ctype.upper() in {"C", "POSIX"}:
        return [
            Error(
                f"The database's LC_CTYPE is {ctype!r}: pg_trgm would ignore non-Latin text.",
                hint="Create the database (or initdb the cluster) with a UTF-8 locale such as "
                "C.UTF-8 or en_US.UTF-8.",
                id="musicrec.E001",
            )
        ]
    return []
