"""Letters as A4 PDFs that GOV.UK Notify accepts as precompiled letters, in standard, large-print
and easy-read variants, drawn with reportlab.

Notify checks a precompiled letter before printing it (alphagov/notifications-template-preview,
app/precompiled.py): A4 portrait, no more than LETTER_MAX_PAGE_COUNT pages, nothing outside its
printable areas (on the first page: a logo area, the sender's area on the right, the address
window and the body below it), nothing in the top-left corner where it adds its "NOTIFY" tag,
and the address in the window as 3 to 7 lines ending with a UK postcode. It embeds fonts that
are not embedded, re-rendering the letter, so we embed our own (Bitstream Vera, shipped with
reportlab) and the letter prints as drawn. The same PDF serves a lead printing it to hand over.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import reportlab
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from coprod.domain.notifications import LetterVariant

# --- Notify's rules. Figures in mm from the page's top-left corner, as Notify writes them, from
# alphagov/notifications-template-preview app/precompiled.py (the validator Notify runs on every
# precompiled letter) and notifications-utils (page limit, address lines).

PAGE_WIDTH_MM = (
    210.0  # A4 portrait; Notify refuses anything else ("letter-not-a4-portrait-oriented")
)
PAGE_HEIGHT_MM = 297.0
# notifications_utils LETTER_MAX_PAGE_COUNT: is_letter_too_long() refuses more ("letter-too-long").
MAX_PAGES = 10
# NOTIFY_TAG_BOUNDING_BOX: Notify writes "NOTIFY" here on page 1 for DVLA's print run, and refuses
# a letter with that word here on any later page. We leave the whole box blank on every page.
NOTIFY_TAG_RIGHT_MM = 15.191
NOTIFY_TAG_BOTTOM_MM = 6.149
# BORDER_*: the printable area of every page; ink outside it fails
# "content-outside-printable-area".
BORDER_LEFT_MM = 15.0
BORDER_RIGHT_MM = PAGE_WIDTH_MM - 15.0
BORDER_TOP_MM = 5.0
BORDER_BOTTOM_MM = PAGE_HEIGHT_MM - 5.0
# BODY_TOP_FROM_TOP_OF_PAGE: on page 1 the body starts below the address window.
FIRST_PAGE_BODY_TOP_MM = 95.0
# SERVICE_ADDRESS_*: the sender's area on page 1, top right, down to the body.
SENDER_LEFT_MM = 125.0
SENDER_RIGHT_MM = BORDER_RIGHT_MM
SENDER_TOP_MM = BORDER_TOP_MM
SENDER_BOTTOM_MM = FIRST_PAGE_BODY_TOP_MM
# ADDRESS_*: the address window (95.4mm by 26.8mm, as Notify's letter specification gives it).
# Notify reads the address from here (and 3mm around it), checks it, then blanks the box and
# writes the address again itself in 8pt Arial: the size we draw it at only matters on a letter
# a lead prints and hands over, and 7 lines of it must fit the window.
ADDRESS_LEFT_MM = 24.6
ADDRESS_RIGHT_MM = 120.0
ADDRESS_TOP_MM = 39.5
ADDRESS_BOTTOM_MM = 66.3
ADDRESS_MARGIN_MM = 3.0  # Notify's ADDRESS_BOUNDING_BOX reads this far around the window
NOTIFY_ADDRESS_FONT_SIZE = 8.0  # ADDRESS_FONT_SIZE: the size Notify rewrites the address at
# notifications_utils PostalAddress: MIN_LINES, MAX_LINES, and
# INVALID_CHARACTERS_AT_START_OF_ADDRESS_LINE.
ADDRESS_MIN_LINES = 3
ADDRESS_MAX_LINES = 7
ADDRESS_BAD_FIRST_CHARACTERS = '@()=[]"\\/,<>~'

# --- Our layout, inside Notify's areas.

TEXT_LEFT_MM = ADDRESS_LEFT_MM  # the body lines up with the address
TEXT_RIGHT_MM = BORDER_RIGHT_MM - 5.0  # a little inside the border: printers drift
SENDER_TEXT_TOP_MM = 12.0
LATER_PAGE_TOP_MM = 15.0
BODY_GAP_BELOW_HEADER_MM = 3.0
FOOTER_BASELINE_MM = PAGE_HEIGHT_MM - 12.0  # "Page 1 of 2"
BODY_BOTTOM_MM = PAGE_HEIGHT_MM - 25.0  # keeps the body clear of the page number
ADDRESS_FONT_SIZE = 9.0
ADDRESS_LEADING = 10.5  # 7 lines of 9pt in the 26.8mm window, with room for accents and tails
# Bitstream Vera's tallest accented capitals and deepest tails, as a share of the font size: a line
# is placed so that these stay inside its box.
GLYPH_TOP = 0.93
GLYPH_BOTTOM = 0.24

FONT_DIR = Path(reportlab.__file__).parent / "fonts"
REGULAR = "CoprodVera"
BOLD = "CoprodVera-Bold"


@dataclass(frozen=True)
class Letter:
    address: tuple[str, ...]  # name, then address lines, postcode last: see address_lines()
    sender: str  # organisation name, top right
    sender_contact: str  # e.g. "Involvement team, phone 0113 000 0000" (may be "")
    date: dt.date
    heading: str
    # Plain text: paragraphs separated by blank lines; "- " starts a bullet; other line breaks
    # are kept (a URL on a line of its own stays on its own line).
    body: str
    variant: LetterVariant


@dataclass(frozen=True)
class Style:
    body_size: float
    leading: float  # line to line, as a multiple of the size
    heading_size: float
    paragraph_gap: float  # extra space between paragraphs, as a multiple of the body size
    measure_mm: float  # the longest a body line may be
    bullet_scale: float  # the bullet mark's size, as a multiple of the body size
    bullet_indent: float  # where the text after a bullet starts, as a multiple of the body size
    sender_size: float
    line_gap: float  # extra space between the lines of a paragraph, as a multiple of the body size


FULL_MEASURE_MM = TEXT_RIGHT_MM - TEXT_LEFT_MM

STYLES = {
    LetterVariant.STANDARD: Style(
        body_size=12,
        leading=1.35,
        heading_size=15,
        paragraph_gap=0.75,
        measure_mm=FULL_MEASURE_MM,
        bullet_scale=1.0,
        bullet_indent=1.3,
        sender_size=11,
        line_gap=0,
    ),
    # RNIB's clear and large print guidance: 16pt or more, bold headings, left-aligned text,
    # generous spacing between lines.
    LetterVariant.LARGE_PRINT: Style(
        body_size=16,
        leading=1.5,
        heading_size=20,
        paragraph_gap=1.0,
        measure_mm=FULL_MEASURE_MM,
        bullet_scale=1.2,
        bullet_indent=1.4,
        sender_size=16,
        line_gap=0,
    ),
    # Easy read (Mencap, NHS England's accessible information guidance): 14pt or more, short
    # lines, one idea to a line with space around it (more space between groups of ideas), clear
    # bullets, larger headings.
    LetterVariant.EASY_READ: Style(
        body_size=14,
        leading=1.5,
        heading_size=20,
        paragraph_gap=1.4,
        measure_mm=120.0,
        bullet_scale=1.6,
        bullet_indent=1.8,
        sender_size=14,
        line_gap=0.5,
    ),
}

BULLET = "\u2022"
NO_BREAK_SPACE = "\u00a0"
DIGIT_GROUPS = re.compile(r"(?<=\d) (?=\d)")
# Where a word too long for a line (a URL, mostly) may break, after one of these.
BREAK_AFTER = "/-?&=._#~+:"
UK_NAMES = {
    "uk",
    "u.k.",
    "united kingdom",
    "great britain",
    "gb",
    "england",
    "scotland",
    "wales",
    "northern ireland",
}
# The shape of a UK postcode: outward code (area, district), then inward code (sector, unit,
# whose last two letters never include C, I, K, M, O or V).
POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][0-9A-Z]?)([0-9][ABD-HJLNP-UW-Z]{2})")
POSTCODE_AT_END = re.compile(r"(?:^|\s)([A-Za-z]{1,2}[0-9][0-9A-Za-z]?\s*[0-9][A-Za-z]{2})$")


@cache
def register_fonts() -> None:
    """TrueType fonts registered this way are embedded (subset, as /FontFile2) in each PDF."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "VeraBd.ttf")))


def _y(mm_from_top: float) -> float:
    """reportlab measures up from the bottom of the page, in points; Notify down from the top."""
    return (PAGE_HEIGHT_MM - mm_from_top) * mm


def _width(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font, size)


@dataclass(frozen=True)
class Run:
    """One piece of text drawn at a baseline."""

    x: float
    y: float
    text: str
    font: str
    size: float


def _printable(text: str, what: str) -> str:
    """The text with characters the font lacks replaced by their unaccented letters; ValueError
    for a character with no such stand-in (a letter showing empty boxes helps no one)."""
    register_fonts()
    glyphs = pdfmetrics.getFont(BOLD).face.charToGlyph
    normal = pdfmetrics.getFont(REGULAR).face.charToGlyph
    out = []
    for ch in text.replace("\t", " "):
        if ch == "\n" or (ord(ch) in normal and ord(ch) in glyphs):
            out.append(ch)
            continue
        if unicodedata.category(ch).startswith(("C", "Z")):
            out.append(" " if unicodedata.category(ch).startswith("Z") else "")
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
        )
        if plain and all(ord(c) in normal and ord(c) in glyphs for c in plain):
            out.append(plain)
            continue
        raise ValueError(
            f"The letter's {what} has a character that cannot be printed: {ch!r}. "
            "Replace it, or send this another way"
        )
    return "".join(out)


def _split_word(word: str, font: str, size: float, width: float) -> tuple[str, str]:
    """The longest start of a word that fits, broken after a URL's punctuation if there is one
    in its second half, and the rest."""
    fits = 1
    while fits < len(word) and _width(word[: fits + 1], font, size) <= width:
        fits += 1
    head = word[:fits]
    at = max(head.rfind(c) for c in BREAK_AFTER)
    if at >= fits // 2 and at + 1 < len(word):
        fits = at + 1
    return word[:fits], word[fits:]


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points; words longer than a line are broken, and a phone number
    is never split over two lines."""
    lines: list[str] = []
    current = ""
    for word in DIGIT_GROUPS.sub(NO_BREAK_SPACE, text).split(" "):
        if not word:
            continue
        candidate = f"{current} {word}" if current else word
        if _width(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while _width(word, font, size) > width:
            head, word = _split_word(word, font, size, width)
            lines.append(head)
        current = word
    if current:
        lines.append(current)
    return lines


class TooLong(ValueError):
    """More pages than Notify prints."""


class Flow:
    """Lays lines down the body area, page after page."""

    def __init__(self, first_page_top: float) -> None:
        self.pages: list[list[Run]] = [[]]
        self.top = first_page_top  # the top of the next line's box, in points from the bottom
        self.at_page_top = True

    def gap(self, points: float) -> None:
        if not self.at_page_top:
            self.top -= points

    def new_page(self) -> None:
        self.pages.append([])
        if len(self.pages) > MAX_PAGES:
            raise TooLong
        self.top = _y(LATER_PAGE_TOP_MM)
        self.at_page_top = True

    def fits(self, lines: int, size: float, leading: float) -> bool:
        lowest = self.top - (lines - 1) * leading - size * (GLYPH_TOP + GLYPH_BOTTOM)
        return lowest >= _y(BODY_BOTTOM_MM)

    def keep(self, lines: int, size: float, leading: float) -> None:
        """Start a new page unless this many lines fit on this one."""
        if not self.at_page_top and not self.fits(lines, size, leading):
            self.new_page()

    def line(self, runs: list[tuple[float, str, str, float]], size: float, leading: float) -> None:
        """Runs of (x, text, font, size) on one baseline, each `size` tall at most."""
        if not self.fits(1, size, leading):
            self.new_page()
        baseline = self.top - size * GLYPH_TOP
        self.pages[-1].extend(Run(x, baseline, t, f, s) for x, t, f, s in runs)
        self.top -= leading
        self.at_page_top = False


def _paragraphs(body: str) -> Iterator[list[str]]:
    current: list[str] = []
    for raw in body.splitlines():
        line = " ".join(raw.split())
        if line:
            current.append(line)
        elif current:
            yield current
            current = []
    if current:
        yield current


def _lay_out_body(letter: Letter, style: Style) -> list[list[Run]]:
    size = style.body_size
    leading = size * style.leading
    left = TEXT_LEFT_MM * mm
    width = style.measure_mm * mm
    flow = Flow(_y(FIRST_PAGE_BODY_TOP_MM + BODY_GAP_BELOW_HEADER_MM))
    heading = _printable(letter.heading, "heading")
    for text in wrap(heading, BOLD, style.heading_size, width):
        flow.line(
            [(left, text, BOLD, style.heading_size)], style.heading_size, style.heading_size * 1.3
        )
    indent = size * style.bullet_indent
    mark = size * style.bullet_scale
    # A larger bullet sits lower, so that its middle stays level with the text's.
    drop = 0.33 * (mark - size)
    for paragraph in _paragraphs(_printable(letter.body, "text")):
        flow.gap(size * style.paragraph_gap)
        wrapped = [
            wrap(line[2:], REGULAR, size, width - indent)
            if line.startswith("- ")
            else wrap(line, REGULAR, size, width)
            for line in paragraph
        ]
        # A line of up to 3 lines stays together, and a longer one leaves at least 2 behind...
        together = [len(pieces) if len(pieces) <= 3 else 2 for pieces in wrapped]
        # ...and a line introducing the next ("Where to go:") goes over with it.
        for n in reversed(range(len(paragraph) - 1)):
            if paragraph[n].endswith(":"):
                together[n] = len(wrapped[n]) + together[n + 1]
        for n, (line, pieces) in enumerate(zip(paragraph, wrapped, strict=True)):
            if n:
                flow.gap(size * style.line_gap)
            flow.keep(together[n], size, leading + size * style.line_gap)
            bullet = line.startswith("- ")
            for i, text in enumerate(pieces):
                flow.line([(left + indent * bullet, text, REGULAR, size)], size, leading)
                if bullet and i == 0:
                    run = flow.pages[-1][-1]
                    flow.pages[-1].append(Run(left, run.y - drop, BULLET, REGULAR, mark))
    return flow.pages


def _address_runs(address: tuple[str, ...]) -> list[Run]:
    if not ADDRESS_MIN_LINES <= len(address) <= ADDRESS_MAX_LINES:
        raise ValueError(
            f"A letter's address needs {ADDRESS_MIN_LINES} to {ADDRESS_MAX_LINES} lines "
            f"including the name; this one has {len(address)}"
        )
    lines = [_printable(line, "address") for line in address]
    window = (ADDRESS_RIGHT_MM - ADDRESS_LEFT_MM) * mm
    size, leading = ADDRESS_FONT_SIZE, ADDRESS_LEADING
    widest = max(lines, key=lambda line: _width(line, REGULAR, ADDRESS_FONT_SIZE))
    if _width(widest, REGULAR, size) > window:
        size = NOTIFY_ADDRESS_FONT_SIZE
        leading = size * ADDRESS_LEADING / ADDRESS_FONT_SIZE
    if _width(widest, REGULAR, size) > window:
        raise ValueError(
            f"The address line “{widest}” is too long for the envelope window. "
            "Shorten it, or split it into two lines"
        )
    first = _y(ADDRESS_TOP_MM) - 0.5 * mm - size * GLYPH_TOP
    return [
        Run(ADDRESS_LEFT_MM * mm, first - i * leading, line, REGULAR, size)
        for i, line in enumerate(lines)
    ]


def _sender_runs(letter: Letter, style: Style) -> list[Run]:
    size = style.sender_size
    left, width = SENDER_LEFT_MM * mm, (TEXT_RIGHT_MM - SENDER_LEFT_MM) * mm
    lines = [(text, BOLD) for text in wrap(_printable(letter.sender, "sender"), BOLD, size, width)]
    contact = _printable(letter.sender_contact, "contact details")
    lines += [(text, REGULAR) for text in wrap(contact, REGULAR, size, width)]
    lines += [("", REGULAR), (letter.date.strftime("%-d %B %Y"), REGULAR)]
    first = _y(SENDER_TEXT_TOP_MM) - size * GLYPH_TOP
    runs = [
        Run(left, first - i * size * 1.3, text, font, size)
        for i, (text, font) in enumerate(lines)
        if text
    ]
    if runs[-1].y - size * GLYPH_BOTTOM < _y(SENDER_BOTTOM_MM - 2):
        raise ValueError(
            "The organisation's name and contact details are too long for the top of the letter"
        )
    return runs


def draw(letter: Letter) -> bytes:
    """The letter as a PDF that Notify accepts; ValueError (in plain English) if it cannot be one:
    too many pages, an address that does not fit the window, or text the font cannot print."""
    register_fonts()
    style = STYLES[letter.variant]
    first_page = _address_runs(letter.address) + _sender_runs(letter, style)
    try:
        pages = _lay_out_body(letter, style)
    except TooLong:
        raise TooLong(
            f"This letter would take more than {MAX_PAGES} pages, the most GOV.UK Notify prints. "
            "Shorten it, or send it another way"
        ) from None
    pages[0][:0] = first_page
    if len(pages) > 1:
        for number, page in enumerate(pages, start=1):
            text = f"Page {number} of {len(pages)}"
            page.append(
                Run(TEXT_LEFT_MM * mm, _y(FOOTER_BASELINE_MM), text, REGULAR, style.body_size)
            )
    out = io.BytesIO()
    # The initial font is ours: reportlab would otherwise name Helvetica, which is not embedded.
    canvas = Canvas(out, pagesize=A4, initialFontName=REGULAR, invariant=True, pageCompression=1)
    canvas.setTitle(letter.heading)
    canvas.setAuthor(letter.sender)
    canvas.setCreator("Coprod")
    for page in pages:
        # Black as CMYK: the printer's colour space, so Notify has nothing to convert.
        canvas.setFillColorCMYK(0, 0, 0, 1)
        for run in page:
            canvas.setFont(run.font, run.size)
            canvas.drawString(run.x, run.y, run.text)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _postcode(text: str) -> str | None:
    """The postcode written the way Royal Mail sorts it ("LS1 4AB"), or None."""
    match = POSTCODE.fullmatch("".join(text.split()).upper())
    return None if match is None else f"{match.group(1)} {match.group(2)}"


def _candidate_lines(postal_address: str) -> Iterator[list[str]]:
    """Each line and comma its own line; then, if that makes too many, the stored lines alone."""
    yield re.split(r"[\n,]", postal_address)
    yield postal_address.splitlines()


def address_lines(full_name: str, postal_address: str) -> tuple[str, ...]:
    """A stored name and address as Notify's address lines: the name, the address, the postcode
    last. ValueError, in plain English, if it cannot be a UK postal address."""
    name = " ".join(full_name.split())
    if not name:
        raise ValueError("The letter needs the person's name")
    found: list[str] = []
    for candidate in _candidate_lines(postal_address):
        parts = [" ".join(part.split()).strip(" ,") for part in candidate]
        found = [part for part in parts if part]
        while found and found[-1].casefold() in UK_NAMES:
            found.pop()
        if len(found) + 1 <= ADDRESS_MAX_LINES:
            break
    if not found:
        raise ValueError(f"There is no postal address for {name}")
    postcode = _postcode(found[-1])
    if postcode is not None:
        found[-1] = postcode
    elif (match := POSTCODE_AT_END.search(found[-1])) and (code := _postcode(match.group(1))):
        town = found[-1][: match.start()].strip(" ,")
        found[-1:] = [town, code] if town else [code]
    else:
        raise ValueError(
            f"The address must end with a UK postcode, such as LS1 4AB; it ends “{found[-1]}”"
        )
    lines = (name, *found)
    if len(lines) < ADDRESS_MIN_LINES:
        raise ValueError(
            "The address needs at least a street or house and a postcode; it has only "
            f"“{', '.join(found)}”"
        )
    if len(lines) > ADDRESS_MAX_LINES:
        raise ValueError(
            f"The address has {len(lines)} lines with the name, and a letter can have at most "
            f"{ADDRESS_MAX_LINES}. Join some of its lines"
        )
    for line in lines:
        if line[0] in ADDRESS_BAD_FIRST_CHARACTERS:
            raise ValueError(
                f"The address line “{line}” starts with “{line[0]}”, which GOV.UK Notify "
                "does not accept at the start of a line"
            )
    if re.search(r"\bno fixed (abode|address)\b|^nfa$", "\n".join(found), re.I | re.M):
        raise ValueError(
            "A letter cannot go to no fixed address: arrange another way to reach them"
        )
    return lines
