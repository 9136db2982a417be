"""Stores each contract's next catch-up date (Contract.next_catch_up_on), so the dashboard
counts who is due with one indexed query. Existing contracts are filled in from their
catch-ups, by the same rule the services use (coprod.domain.contracts)."""

import datetime as dt

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from coprod.config import get_settings
from coprod.domain.contracts import Term, next_catch_up
from coprod.domain.scheduling import london_date


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _instant(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def fill(apps, schema_editor) -> None:
    client = schema_editor.client
    interval = get_settings().catch_up_interval_months
    postgres = client.capabilities.dialect == "postgres"
    recorded = {
        int(row["contract_id"]): int(row["n"])
        for row in await client.execute_query_dict(
            'SELECT "contract_id", COUNT(*) AS n FROM "catch_up" GROUP BY "contract_id"'
        )
    }
    attended: dict[int, list[dt.date]] = {}
    for row in await client.execute_query_dict(
        'SELECT b."representative_id", b."starts_at" FROM "booking" b '
        'JOIN "activity" a ON a."id" = b."activity_id" '
        "WHERE b.\"status\" = 'attended' AND a.\"kind\" = 'catch_up'"
    ):
        day = london_date(_instant(row["starts_at"]))
        attended.setdefault(int(row["representative_id"]), []).append(day)
    for row in await client.execute_query_dict(
        'SELECT "id", "representative_id", "starts_on", "ends_on", "ended_on" FROM "contract"'
    ):
        ended = row["ended_on"]
        term = Term(_date(row["starts_on"]), _date(row["ends_on"]), ended and _date(ended))
        held = recorded.get(int(row["id"]), 0) + sum(
            1
            for day in attended.get(int(row["representative_id"]), ())
            if term.starts_on <= day <= term.last_day
        )
        due, _ = next_catch_up(term, held, term.starts_on, interval)
        if due is not None:
            # asyncpg takes a date and numbered parameters; sqlite3 takes ISO text and "?".
            if postgres:
                sql, values = 'UPDATE "contract" SET "next_catch_up_on" = $1 WHERE "id" = $2', [due]
            else:
                sql, values = (
                    'UPDATE "contract" SET "next_catch_up_on" = ? WHERE "id" = ?',
                    [due.isoformat()],
                )
            await client.execute_query(sql, [*values, int(row["id"])])


class Migration(migrations.Migration):
    dependencies = [("models", "0013_network_member_unique")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Contract",
            name="next_catch_up_on",
            field=fields.DateField(null=True),
        ),
        ops.AddIndex(
            model_name="Contract",
            index=Index(fields=["organisation_id", "next_catch_up_on"]),
        ),
        ops.RunPython(fill, ops.RunPython.noop),
    ]
