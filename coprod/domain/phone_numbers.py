"""Mobile numbers in one form, so a text's sender can be matched to the person: no I/O."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")


def normalise_mobile(raw: str | None) -> str | None:
    """A mobile number as GOV.UK Notify gives a text's sender: digits only, with the country
    code and no plus (447700900123). UK mobiles may be written 07700 900123, +44 7700 900123
    or 0044 7700 900123. Other international numbers need their + and country code. None
    when it cannot be a mobile number."""
    if not raw:
        return None
    number = _SEPARATORS.sub("", raw.strip())
    if number.startswith("+"):
        number = number[1:]
    elif number.startswith("00"):
        number = number[2:]
    elif number.startswith("07"):
        number = "44" + number[1:]
    elif number.startswith("0"):
        return None  # a UK number that is not a mobile: a landline, 0800 and the like
    if not number.isascii() or not number.isdigit():
        return None
    if number.startswith("44"):
        # A UK mobile: 07 then nine digits, so 447 then nine.
        return number if re.fullmatch(r"447\d{9}", number) else None
    return number if 8 <= len(number) <= 15 else None
