"""The quality network's patient and carer standards, as data, and the shares of them a team
meets.

The standards come from Appendix A of the Quality Network for Crisis Resolution and Home
Treatment Teams' patient and carer national report (4th edition standards), kept in
`data/qn_crhtt_4.csv`: number, type, section, text and guidance. The report's text speaks of 46
such standards; its appendix lists 44, and those are what is loaded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

EDITION = "qn-crhtt-4"
EDITION_NAME = "QN-CRHTT standards, 4th edition: patients and family/carers"

# What each type means, in the network's words: type 1 must all be met to be accredited, at
# least 80% of type 2 and 60% of type 3.
TYPE_NAMES = {
    1: "Type 1: essential",
    2: "Type 2: expected",
    3: "Type 3: desirable",
}


@dataclass(frozen=True)
class Standard:
    number: int
    type: int
    section: str
    text: str
    guidance: str | None


@dataclass(frozen=True)
class SectionShare:
    section: str
    standards: int
    met: int
    partly_met: int
    not_met: int
    not_marked: int

    @property
    def percent_met(self) -> int:
        """Whole per cent of the section's standards marked met, rounded half up."""
        return (200 * self.met + self.standards) // (2 * self.standards) if self.standards else 0


@cache
def standards(edition: str = EDITION) -> tuple[Standard, ...]:
    if edition != EDITION:
        raise KeyError(edition)
    text = resources.files("coprod.domain").joinpath("data/qn_crhtt_4.csv").read_text("utf-8")
    return tuple(
        Standard(
            number=int(row["number"]),
            type=int(row["type"]),
            section=row["section"],
            text=row["text"],
            guidance=row["guidance"] or None,
        )
        for row in csv.DictReader(io.StringIO(text))
    )


def by_number(edition: str = EDITION) -> dict[int, Standard]:
    return {standard.number: standard for standard in standards(edition)}


def sections(edition: str = EDITION) -> tuple[str, ...]:
    """The sections in the order the network lists them."""
    return tuple(dict.fromkeys(standard.section for standard in standards(edition)))


def section_shares(
    marks: Mapping[int, str], edition: str = EDITION
) -> tuple[list[SectionShare], SectionShare]:
    """How many standards in each section are met, partly met, not met or not yet marked, and
    the same over all sections. `marks` maps a standard's number to its status ("met",
    "partly_met", "not_met"); numbers not in the edition are ignored."""
    per_section = [_share(section, marks, edition) for section in sections(edition)]
    return per_section, _total(per_section)


def _share(section: str, marks: Mapping[int, str], edition: str) -> SectionShare:
    numbers = [s.number for s in standards(edition) if s.section == section]
    statuses = [marks.get(number) for number in numbers]
    return SectionShare(
        section=section,
        standards=len(numbers),
        met=statuses.count("met"),
        partly_met=statuses.count("partly_met"),
        not_met=statuses.count("not_met"),
        not_marked=statuses.count(None),
    )


def _total(shares: Iterable[SectionShare]) -> SectionShare:
    shares = list(shares)
    return SectionShare(
        section="All standards",
        standards=sum(s.standards for s in shares),
        met=sum(s.met for s in shares),
        partly_met=sum(s.partly_met for s in shares),
        not_met=sum(s.not_met for s in shares),
        not_marked=sum(s.not_marked for s in shares),
    )
