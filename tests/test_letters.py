"""Letter PDFs, read back with pypdf (not the library that writes them) and checked against
GOV.UK Notify's precompiled-letter rules, and the easy-read wording for each kind of letter."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from jinja2 import StrictUndefined, meta
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from coprod.domain.notifications import LetterVariant
from coprod.integrations.letters import MAX_PAGES, Letter, address_lines, draw
from coprod.templating import environment

MM = 72 / 25.4
A4 = (210.0, 297.0)
# Notify's figures (mm from the top-left corner), restated from alphagov/notifications-template-
# preview app/precompiled.py rather than imported, so that a wrong constant in letters.py fails.
TAG = (0.0, 0.0, 15.191, 6.149)  # NOTIFY_TAG_BOUNDING_BOX
PRINTABLE = (15.0, 5.0, 195.0, 292.0)  # BORDER_*: every page
FIRST_PAGE_AREAS = {
    "logo": (15.0, 5.0, 125.0, 30.0),
    "sender": (125.0, 5.0, 195.0, 95.0),
    "address": (24.6, 39.5, 120.0, 66.3),
    "body": (15.0, 95.0, 195.0, 292.0),
}
# ADDRESS_BOUNDING_BOX: where Notify reads the address, 3mm around the window.
ADDRESS_READ = (24.6 - 3, 39.5 - 3, 120.0 + 3, 66.3 + 3)

BODY = """Hello Sam Jones,

You are booked onto the Ward 3 redesign workshop on Tuesday 12 May 2026 at 1:00pm.

Where and how to join:
- In person at Trust HQ, 1 Park Row, Leeds LS1 5HD. There is step-free access.
- By phone: call 0113 496 0000 and enter PIN 4321.

Tell us here (you do not need to sign in):
https://coprod.example.nhs.uk/answer/eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2VuLWZvci1zYW0tam9uZXMtd2hvLWlzLWJvb2tlZA/confirm?step=1&from=letter

Supercalifragilisticexpialidocious-and-antidisestablishmentarianism-joined-into-one-very-long-word-without-spaces-at-all-anywhere.

If you have any questions, phone your involvement lead, Priya Shah, on 0113 496 0001."""


def letter(**changes: Any) -> Letter:
    base = Letter(
        address=("Sam Jones", "Flat 2", "10 High Street", "Headingley", "Leeds", "LS1 4AB"),
        sender="Leeds and York Partnership NHS Foundation Trust",
        sender_contact="Involvement team, phone 0113 000 0000",
        date=dt.date(2026, 12, 1),
        heading="You are booked onto Ward 3 redesign",
        body=BODY,
        variant=LetterVariant.STANDARD,
    )
    return dataclasses.replace(base, **changes)


def long_body(paragraphs: int) -> str:
    sentence = "This paragraph is here to make the letter run over onto more pages. "
    return "\n\n".join(f"Paragraph {n}. " + sentence * 6 for n in range(1, paragraphs + 1))


@dataclass(frozen=True)
class Text:
    """A piece of text as drawn, with its box in mm from the page's top-left corner."""

    page: int
    text: str
    font: str
    size: float
    left: float
    right: float
    top: float
    bottom: float

    def inside(self, box: tuple[float, float, float, float]) -> bool:
        left, top, right, bottom = box
        # A hundredth of a millimetre for rounding: points are not whole hundredths of a mm.
        return (
            self.left > left - 0.01
            and self.right < right + 0.01
            and self.top > top - 0.01
            and self.bottom < bottom + 0.01
        )

    def touches(self, box: tuple[float, float, float, float]) -> bool:
        left, top, right, bottom = box
        return not (
            self.right <= left or self.left >= right or self.bottom <= top or self.top >= bottom
        )


@cache
def _codes(to_unicode: bytes) -> dict[str, int]:
    """Character to the code that draws it, from the font's ToUnicode map."""
    found = {}
    for code, uni in re.findall(rb"<([0-9A-Fa-f]{2})>\s*<([0-9A-Fa-f]{4})>", to_unicode):
        if int(uni, 16):
            found[chr(int(uni, 16))] = int(code, 16)
    return found


def _advance(text: str, font: DictionaryObject) -> float:
    """The text's width in text space (1/1000 of the font size), from the PDF's own /Widths."""
    codes = _codes(font["/ToUnicode"].get_object().get_data())
    widths = [float(w) for w in font["/Widths"]]
    first = int(font["/FirstChar"])
    return sum(widths[codes[ch] - first] for ch in text)


def read(pdf: bytes) -> tuple[PdfReader, list[Text]]:
    reader = PdfReader(io.BytesIO(pdf))
    found: list[Text] = []
    for number, page in enumerate(reader.pages, start=1):
        height = float(page.mediabox.height)

        def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
            text = text.strip("\n")
            if not text.strip():
                return
            descriptor = font["/FontDescriptor"].get_object()
            scale = size * (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * cm[0]
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            ascent = float(descriptor["/Ascent"]) / 1000 * scale
            descent = -float(descriptor["/Descent"]) / 1000 * scale
            found.append(
                Text(
                    page=number,
                    text=text,
                    font=str(font["/BaseFont"]),
                    size=round(scale, 2),
                    left=x / MM,
                    right=(x + _advance(text, font) / 1000 * scale) / MM,
                    top=(height - y - ascent) / MM,
                    bottom=(height - y + descent) / MM,
                )
            )

        page.extract_text(visitor_text=visit)
    return reader, found


def squash(text: str) -> str:
    return re.sub(r"\s|•", "", text)


def body_texts(texts: list[Text]) -> list[Text]:
    return [
        t
        for t in texts
        if (t.page > 1 or t.inside(FIRST_PAGE_AREAS["body"])) and not t.text.startswith("Page ")
    ]


@pytest.mark.parametrize("variant", list(LetterVariant))
def test_letter_meets_notify_rules(variant: LetterVariant) -> None:
    given = letter(variant=variant)
    reader, texts = read(draw(given))

    for page in reader.pages:
        width, height = float(page.mediabox.width) / MM, float(page.mediabox.height) / MM
        assert (round(width), round(height)) == A4
        assert page.get("/Rotate", 0) == 0
        # Ink as CMYK only: Notify converts RGB to CMYK for the printer, re-rendering the letter.
        colours = re.findall(rb"\s(rg|RG|k|K|g|G|sc|SC|scn|SCN)\s", page.get_contents().get_data())
        assert set(colours) == {b"k"}
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            # Embedded: Notify would otherwise re-render the letter with fonts of its own.
            assert "/FontFile2" in font["/FontDescriptor"].get_object(), font["/BaseFont"]
            assert "Vera" in font["/BaseFont"]

    address = [t for t in texts if t.page == 1 and t.touches(ADDRESS_READ)]
    assert tuple(t.text for t in sorted(address, key=lambda t: t.top)) == given.address
    assert all(t.inside(FIRST_PAGE_AREAS["address"]) for t in address)
    assert len({round(t.left, 2) for t in address}) == 1

    assert not [t for t in texts if t.touches(TAG)]
    for t in texts:
        if t.page == 1:
            assert any(t.inside(area) for area in FIRST_PAGE_AREAS.values()), t
        else:
            assert t.inside(PRINTABLE), t

    sender = [t.text for t in texts if t.inside(FIRST_PAGE_AREAS["sender"])]
    assert "1 December 2026" in sender
    assert squash(" ".join(sender)).startswith(squash(given.sender + given.sender_contact))

    # Everything in the body, in order, including the URL and the long word, broken over lines.
    body = body_texts(texts)
    expected = squash(given.heading + given.body.replace("\n- ", "\n"))
    assert squash("".join(t.text for t in body)) == expected
    url = next(line for line in BODY.splitlines() if line.startswith("https://"))
    assert url not in [t.text for t in body], "the URL is longer than a line, so it is broken"


@pytest.mark.parametrize(
    ("variant", "body_size", "widest_mm"),
    [
        (LetterVariant.STANDARD, 12, 170),
        (LetterVariant.LARGE_PRINT, 16, 170),
        (LetterVariant.EASY_READ, 14, 120),
    ],
)
def test_each_variant_prints_at_its_size(
    variant: LetterVariant, body_size: float, widest_mm: float
) -> None:
    _, texts = read(draw(letter(variant=variant)))
    body = body_texts(texts)
    heading = [t for t in body if "Bold" in t.font]
    assert squash("".join(t.text for t in heading)) == squash(letter().heading)
    words = [t for t in body if t not in heading and t.text != "•"]
    sizes = Counter(t.size for t in words)
    assert sizes.most_common(1)[0][0] == body_size
    assert set(sizes) == {body_size}
    assert min(t.size for t in heading) > body_size
    assert max(t.right - t.left for t in words) <= widest_mm
    bullets = [t for t in body if t.text == "•"]
    assert len(bullets) == 2 and min(t.size for t in bullets) >= body_size
    # Bullet points hang: their text starts to the right of the mark, lined up.
    marks = {round(t.left, 1) for t in bullets}
    after = [t for t in words if t.text.startswith(("In person", "By phone"))]
    assert len(after) == 2 and all(t.left > max(marks) for t in after)
    # The address keeps to the window's size whatever the variant: at most 10pt.
    address = [t for t in texts if t.page == 1 and t.touches(ADDRESS_READ)]
    assert max(t.size for t in address) <= 10


def test_large_print_and_easy_read_leave_more_room_between_lines() -> None:
    def line_spacing(variant: LetterVariant) -> float:
        """The closest two lines of text come, top to top, as a multiple of the text size."""
        body = [t for t in body_texts(read(draw(letter(variant=variant)))[1]) if t.text != "•"]
        tops = sorted({round(t.top, 5) for t in body if t.page == 1})
        closest = min(b - a for a, b in itertools.pairwise(tops))
        return closest * MM / Counter(t.size for t in body).most_common(1)[0][0]

    assert line_spacing(LetterVariant.STANDARD) >= 1.3
    assert line_spacing(LetterVariant.LARGE_PRINT) >= 1.499
    assert line_spacing(LetterVariant.EASY_READ) >= 1.499


def test_a_long_letter_runs_onto_numbered_pages_within_the_margins() -> None:
    given = letter(body=long_body(30), variant=LetterVariant.LARGE_PRINT)
    reader, texts = read(draw(given))
    pages = len(reader.pages)
    assert 2 <= pages <= MAX_PAGES
    numbers = [t for t in texts if t.text.startswith("Page ")]
    assert [(t.page, t.text) for t in numbers] == [
        (n, f"Page {n} of {pages}") for n in range(1, pages + 1)
    ]
    assert all(t.inside(PRINTABLE) and not t.touches(TAG) for t in texts)
    body = body_texts(texts)
    assert squash("".join(t.text for t in body)) == squash(given.heading + given.body)
    # No paragraph leaves its first line alone at the foot of a page.
    for n in range(1, pages):
        last = max((t for t in body if t.page == n), key=lambda t: t.top)
        assert not last.text.startswith("Paragraph"), last
    # Page numbers stand clear of the text above them.
    for n in range(1, pages + 1):
        lowest = max(t.bottom for t in body if t.page == n)
        number = next(t for t in numbers if t.page == n)
        assert number.top - lowest >= 3


def test_a_one_page_letter_has_no_page_number() -> None:
    reader, texts = read(draw(letter()))
    assert len(reader.pages) == 1
    assert not [t for t in texts if t.text.startswith("Page ")]


@pytest.mark.parametrize("variant", list(LetterVariant))
def test_a_letter_longer_than_notify_prints_is_refused(variant: LetterVariant) -> None:
    with pytest.raises(ValueError, match=r"more than 10 pages"):
        draw(letter(body=long_body(200), variant=variant))


def test_a_letter_of_exactly_the_most_pages_is_drawn() -> None:
    def pages(paragraphs: int) -> int | None:
        try:
            return len(PdfReader(io.BytesIO(draw(letter(body=long_body(paragraphs))))).pages)
        except ValueError:
            return None

    low, high = 1, 200  # draws, refused
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if pages(middle) else (low, middle)
    assert pages(low) == MAX_PAGES == 10


def test_seven_address_lines_fit_the_window() -> None:
    address = (
        "Alexandra Montgomery-Fitzwilliam",
        "Flat 12, Riverside Court",
        "Building 4",
        "145 Kirkstall Road",
        "Burley",
        "Leeds",
        "LS4 2AZ",
    )
    _, texts = read(draw(letter(address=address, variant=LetterVariant.LARGE_PRINT)))
    found = [t for t in texts if t.page == 1 and t.touches(ADDRESS_READ)]
    assert tuple(t.text for t in sorted(found, key=lambda t: t.top)) == address
    assert all(t.inside(FIRST_PAGE_AREAS["address"]) for t in found)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"address": ("Sam Jones", "LS1 4AB")}, "3 to 7 lines"),
        ({"address": ("Sam Jones", "1 A" + "very long street name " * 6, "LS1 4AB")}, "too long"),
        ({"sender": "An organisation with a long name " * 16}, "too long for the top"),
        ({"body": "Hello 你好"}, "cannot be printed"),
    ],
)
def test_a_letter_that_cannot_be_printed_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        draw(letter(**changes))


def test_accented_letters_print() -> None:
    _, texts = read(draw(letter(body="Hello Zoë Łukasiewicz, café déjà vu \u2013 “quoted”")))
    assert "Hello Zoë Łukasiewicz, café déjà vu \u2013 “quoted”" in [t.text for t in texts]
    # A letter the font lacks prints as its plain letter, not as an empty box.
    _, texts = read(draw(letter(body="Hello Śląsk")))
    assert "Hello Slask" in [t.text for t in texts]


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("10 High Street\nLeeds\nLS1 4AB", ("10 High Street", "Leeds", "LS1 4AB")),
        ("10 High Street, Leeds, ls14ab", ("10 High Street", "Leeds", "LS1 4AB")),
        ("10 High Street, Leeds LS1 4AB, United Kingdom", ("10 High Street", "Leeds", "LS1 4AB")),
        (
            "  Flat 2 ,\n\n10   High Street,\nLeeds\nSW1A 1AA\nUK\n",
            ("Flat 2", "10 High Street", "Leeds", "SW1A 1AA"),
        ),
        (
            # Commas would make 8 lines: the stored lines are used as they are.
            "Flat 2, Riverside Court\nBuilding 4, 145 Kirkstall Road\nBurley, Leeds\n"
            "West Yorkshire\nLS4 2AZ",
            (
                "Flat 2, Riverside Court",
                "Building 4, 145 Kirkstall Road",
                "Burley, Leeds",
                "West Yorkshire",
                "LS4 2AZ",
            ),
        ),
    ],
)
def test_address_lines_from_a_stored_address(stored: str, expected: tuple[str, ...]) -> None:
    assert address_lines(" Sam  Jones ", stored) == ("Sam Jones", *expected)


@pytest.mark.parametrize(
    ("name", "stored", "message"),
    [
        ("Sam Jones", "", "no postal address"),
        ("Sam Jones", "LS1 4AB", "at least a street"),
        ("Sam Jones", "10 High Street, Leeds", "must end with a UK postcode"),
        ("Sam Jones", "10 High Street, Leeds, LS1 4CB", "must end with a UK postcode"),
        ("Sam Jones", "10 High Street, Paris 75001, France", "must end with a UK postcode"),
        ("Sam Jones", "1 A\n2 B\n3 C\n4 D\n5 E\n6 F\nLS1 4AB", "at most 7"),
        ("", "10 High Street, Leeds, LS1 4AB", "person's name"),
        ("Sam Jones", "(care of) 10 High Street, Leeds, LS1 4AB", "starts with “\\(”"),
        ("Sam Jones", "No fixed abode, Leeds, LS1 4AB", "no fixed address"),
    ],
)
def test_address_lines_refuses_what_is_not_a_postal_address(
    name: str, stored: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        address_lines(name, stored)


# --- Easy-read wording, one per kind of letter, with the context its email is given.

KINDS = [
    "invitation",
    "booking_confirmed",
    "booking_updated",
    "booking_cancelled",
    "booking_reminder",
    "contract_expiry_representative",
    "remittance",
    "payment_held",
    "payment_payout_failed",
    "payment_reversed",
    "activity_feedback_request",
    "interest_received",
    "welcome_session",
    "interest_closed",
]
SAMPLE = {
    "name": "Sam Jones",
    "title": "Ward 3 redesign",
    "description": "We are changing how visiting works on Ward 3.",
    "options": ["Tuesday 12 May 2026 at 1:00pm", "Thursday 14 May 2026 at 10:00am"],
    "ways": ["In person at Trust HQ, 1 Park Row, Leeds LS1 5HD.", "By phone: call 0113 496 0000."],
    "paid": "£75.00 for a half day, and your travel and other expenses are paid back.",
    "url": "https://coprod.example.nhs.uk/answer/abc123",
    "deadline": "8 May 2026 at 5:00pm",
    "contact": (
        "If you have any questions, phone your involvement lead, Priya Shah, on 0113 496 0001."
    ),
    "when": "Tuesday 12 May 2026 at 1:00pm",
    "how": "In person at Trust HQ, 1 Park Row, Leeds LS1 5HD.",
    "mode": "phone",
    "dial_in": "0113 496 0000",
    "pin": "4321",
    "tech_test_url": "https://coprod.example.nhs.uk/tech-test/abc",
    "role_title": "Expert by experience",
    "organisation": "Leeds and York Partnership NHS Foundation Trust",
    "ends_on": "31 December 2026",
    "claim_id": 42,
    "total": "£82.40",
    "fees": "£75.00",
    "expenses": "£7.40",
}


def variables(path: str) -> set[str]:
    env = environment()
    source = env.loader.get_source(env, path)[0]  # type: ignore[union-attr]
    return meta.find_undeclared_variables(env.parse(source)) - set(env.globals)


@pytest.mark.parametrize("kind", KINDS)
def test_easy_read_wording_uses_its_emails_context(kind: str) -> None:
    used = variables(f"letters/easy_read/{kind}.txt")
    email = variables(f"emails/{kind}.txt")
    assert used <= email, used - email
    assert "name" in used
    strict = environment().overlay(undefined=StrictUndefined)
    template = strict.get_template(f"letters/easy_read/{kind}.txt")
    contexts = [{k: v for k, v in SAMPLE.items() if k in email}]
    if kind == "invitation":
        contexts.append({**contexts[0], "description": "", "deadline": None, "paid": None})
    if kind == "booking_reminder":
        contexts += [{**contexts[0], "mode": "video"}, {**contexts[0], "mode": "in_person"}]
    for context in contexts:
        text = template.render(**context)
        assert text.startswith("Hello Sam Jones,\n")
        assert "None" not in text and "{" not in text
        lines = [line for line in text.splitlines() if line.strip()]
        if "contact" in email:
            assert lines[-1] == SAMPLE["contact"]
        # Short sentences: no written line has more than 2 sentences or 25 words.
        for line in lines:
            if line not in SAMPLE.values() and not line.startswith("- "):
                assert len(re.findall(r"[.?!](\s|$)", line)) <= 2, line
                assert len(line.split()) <= 25, line
        # And it prints as an easy-read letter.
        pdf = draw(letter(body=text, heading=SAMPLE["title"], variant=LetterVariant.EASY_READ))
        body = body_texts(read(pdf)[1])
        assert squash("".join(t.text for t in body)) == squash(
            SAMPLE["title"] + text.replace("\n- ", "\n")
        )


def test_a_line_introducing_the_next_goes_over_the_page_with_it() -> None:
    lines = [f"Idea number {n}." for n in range(1, 40)]
    pages = set()
    for at in range(8, 20):
        # Wherever the page ends, "What we pay you:" is on the page its whole answer is on.
        body = "\n".join([*lines[:at], "What we pay you:", SAMPLE["paid"], *lines[at:]])
        _, texts = read(draw(letter(body=body, variant=LetterVariant.EASY_READ)))
        intro = next(t for t in texts if t.text == "What we pay you:")
        answer = [t for t in texts if t.text.startswith(("£75.00", "expenses are paid"))]
        assert len(answer) == 2 and {t.page for t in answer} == {intro.page}
        pages.add(intro.page)
    assert pages == {1, 2}, "the page ends somewhere in the range tried"


def test_easy_read_reminder_says_how_to_phone_in() -> None:
    strict = environment().overlay(undefined=StrictUndefined)
    template = strict.get_template("letters/easy_read/booking_reminder.txt")
    context = {k: SAMPLE[k] for k in variables("emails/booking_reminder.txt")}
    phone = template.render(**context)
    assert "Phone this number: 0113 496 0000\nThen type this PIN: 4321" in phone
    video = template.render(**{**context, "mode": "video"})
    assert SAMPLE["tech_test_url"] in video and "PIN" not in video
