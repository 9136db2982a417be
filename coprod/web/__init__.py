"""The web layer: HTML pages and the JSON API."""

from __future__ import annotations

from starlette.convertors import IntegerConvertor, register_url_convertor

# Ids are 32-bit integers in every database we run on (MAX_ID). The path only matches ids that
# fit, so an id out of range is "no such page" (404) rather than a database error.
ID_PATTERN = (
    "0*(?:[0-9]{1,9}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
    "|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
    "|21474836[0-3][0-9]|214748364[0-7])"
)


class IdConvertor(IntegerConvertor):
    regex = ID_PATTERN


# Registered under "int" before any route is built, so every `{id:int}` is bounded.
register_url_convertor("int", IdConvertor())
