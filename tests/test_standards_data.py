"""The quality network's standards load from the source document's appendix, and a team's shares
per section are counted as the network's report counts them."""

from __future__ import annotations

from coprod.domain import standards


def test_the_appendix_loads_whole_and_in_order() -> None:
    loaded = standards.standards()
    assert len(loaded) == 44
    assert standards.sections() == (
        "Service Provision and Structure",
        "Staffing and Training",
        "Assessment, Care Planning and Treatment",
        "Patient and Family/Carer Experience",
    )
    numbers = [s.number for s in loaded]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    panel = standards.by_number()[54]
    assert panel.type == 2 and panel.section == "Staffing and Training"
    assert panel.text.startswith("Appropriately experienced patient or family/carer")
    assert standards.by_number()[171].type == 3
    assert standards.by_number()[47].guidance is not None
    assert "Guidance" not in standards.by_number()[47].text
    assert all("<" not in s.text and "•" not in s.text for s in loaded)


def test_shares_per_section_and_overall() -> None:
    marks = {54: "met", 90: "partly_met", 63: "not_met", 1: "met", 999: "met"}
    per_section, overall = standards.section_shares(marks)
    staffing = next(s for s in per_section if s.section == "Staffing and Training")
    assert (staffing.standards, staffing.met, staffing.partly_met, staffing.not_met) == (4, 1, 1, 1)
    assert staffing.not_marked == 1 and staffing.percent_met == 25
    assert overall.standards == 44 and overall.met == 2 and overall.not_marked == 40
    assert overall.percent_met == 5  # 2 of 44 is 4.5%, rounded half up
