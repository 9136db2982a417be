"""Tortoise's migrations, applied in order by `python -m coprod migrate`."""

import importlib


def rollup_statements(dialect: str) -> list[str]:
    """Set-based SQL that builds the involvement roll-ups of today's schema from the raw rows,
    with the migrations' own data steps: for a test that rebuilds them, and bench/report.py."""
    found = [
        # 0033 replaced the monthly people roll-up with a yearly one, built below.
        sql
        for sql in _fills("0011_rollups", dialect)
        if "rollup_person_month" not in sql
    ]
    for name in ("0031_every_mode_rows", "0033_people_by_year", "0034_training_rollups"):
        found += _fills(name, dialect)
    return found


def _fills(name: str, dialect: str) -> list[str]:
    statements: list[str] = importlib.import_module(f"{__name__}.{name}").fill_statements(dialect)
    return statements
