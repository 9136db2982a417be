"""What the public "You said, we did" board refuses as personal data: a table of cases."""

from __future__ import annotations

import pytest

from coprod.domain.personal_data import (
    EMAIL,
    NAME,
    NHS_NUMBER,
    PHONE,
    personal_data_in,
    refusal,
)

NAMES = ["Ada Lovelace", "Mary  Seacole", "Sam"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("The waiting room was cold", []),
        ("Appointments ran 45 minutes late in 2026", []),
        ("Open 9 to 5, 7 days a week, from 1 March", []),
        ("Write to ada@example.com", [EMAIL]),
        ("Ring 07700 900982 to talk", [PHONE]),
        ("Ring 07700900982", [PHONE]),
        ("Ring +44 7700 900 982", [PHONE]),
        ("Call 01632 960001 any time", [PHONE]),
        ("Call 01632-960-001", [PHONE]),
        ("NHS number 943 476 5919 was on the letter", [NHS_NUMBER]),
        ("9434765919", [NHS_NUMBER]),
        ("943-476-5919", [NHS_NUMBER]),
        ("Ada Lovelace said the food was cold", [NAME]),
        ("ada   LOVELACE said so", [NAME]),
        ("Mary Seacole, a carer, asked", [NAME]),
        ("Ada said so", []),  # a first name alone is too common to refuse
        ("Sam from the team helped", []),  # a one-word name is never refused
        ("Lovelace-Adams ward", []),
        ("Email ada@example.com or ring 07700 900982", [EMAIL, PHONE]),
    ],
)
def test_what_looks_like_personal_data(text, found):
    assert personal_data_in(text, NAMES) == found


def test_the_refusal_names_what_to_take_out():
    assert refusal([EMAIL]).startswith("Take out an email address. This is shown in public")
    assert refusal([EMAIL, PHONE, NAME]).startswith(
        "Take out an email address, a phone number and a representative's name."
    )
