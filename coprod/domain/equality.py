"""The equality monitoring questions (Equality Act 2010 protected characteristics, and carers).

Every question can be answered "prefer not to say". Ethnicity uses the ONS 2021 census groups.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFER_NOT_TO_SAY = "prefer_not_to_say"


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    options: tuple[tuple[str, str], ...]

    @property
    def values(self) -> set[str]:
        return {value for value, _ in self.options}


def _q(key: str, text: str, *options: tuple[str, str]) -> Question:
    return Question(key, text, (*options, (PREFER_NOT_TO_SAY, "Prefer not to say")))


YES_NO = (("yes", "Yes"), ("no", "No"))

QUESTIONS: tuple[Question, ...] = (
    _q(
        "age_band",
        "How old are you?",
        ("16_24", "16 to 24"),
        ("25_34", "25 to 34"),
        ("35_44", "35 to 44"),
        ("45_54", "45 to 54"),
        ("55_64", "55 to 64"),
        ("65_74", "65 to 74"),
        ("75_plus", "75 or over"),
    ),
    _q(
        "disability",
        "Do you consider yourself to have a disability or long-term condition?",
        *YES_NO,
    ),
    _q(
        "gender_reassignment",
        "Is the gender you identify with the same as your sex registered at birth?",
        *YES_NO,
    ),
    _q(
        "marriage_civil_partnership",
        "Are you married or in a civil partnership?",
        *YES_NO,
    ),
    _q(
        "pregnancy_maternity",
        "Are you pregnant, or have you had a baby in the last 26 weeks?",
        *YES_NO,
    ),
    _q(
        "ethnicity",
        "What is your ethnic group?",
        ("asian", "Asian or Asian British"),
        ("black", "Black, Black British, Caribbean or African"),
        ("mixed", "Mixed or multiple ethnic groups"),
        ("white", "White"),
        ("other", "Another ethnic group"),
    ),
    _q(
        "religion",
        "What is your religion or belief?",
        ("none", "No religion"),
        ("buddhist", "Buddhist"),
        ("christian", "Christian"),
        ("hindu", "Hindu"),
        ("jewish", "Jewish"),
        ("muslim", "Muslim"),
        ("sikh", "Sikh"),
        ("other", "Another religion or belief"),
    ),
    _q("sex", "What is your sex?", ("female", "Female"), ("male", "Male")),
    _q(
        "sexual_orientation",
        "What is your sexual orientation?",
        ("heterosexual", "Straight or heterosexual"),
        ("gay_lesbian", "Gay or lesbian"),
        ("bisexual", "Bisexual"),
        ("other", "Another sexual orientation"),
    ),
    _q(
        "carer_status",
        "Do you look after, or give help or support to, anyone because of their health or age?",
        *YES_NO,
    ),
)
