"""Checking a precompiled letter's PDF, as Notify's template-preview does after accepting it.

Notify takes any base64 content at POST time; the PDF is checked afterwards, and a letter that
fails ends in `validation-failed`. The stand-in checks what Coprod's letters must get right:

- the file opens as a PDF ("unable-to-read-the-file");
- every page is A4 portrait, within a point ("letter-not-a4-portrait-oriented");
- no more than 10 pages ("letter-too-long");
- there is text in the address block, 24.6mm to 120mm from the left and 39.5mm to 66.3mm from
  the top of page 1, read with template-preview's 3mm margin around it (its
  ADDRESS_BOUNDING_BOX), so text set on the window's edge counts ("address-is-empty"). That
  text becomes the letter's recipient.

The messages are template-preview's codes. Not checked: content outside the printable area,
fonts being embedded, the postcode being real.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

A4_WIDTH_PT = 595.28
A4_HEIGHT_PT = 841.89
TOLERANCE_PT = 1.0
MAX_PAGES = 10
MM = 72 / 25.4
READ_MARGIN = 3.0 * MM
ADDRESS_LEFT = 24.6 * MM - READ_MARGIN
ADDRESS_RIGHT = 120.0 * MM + READ_MARGIN
ADDRESS_TOP = 39.5 * MM - READ_MARGIN
ADDRESS_BOTTOM = 66.3 * MM + READ_MARGIN


@dataclass
class LetterCheck:
    page_count: int | None
    failure: str | None = None
    invalid_pages: list[int] = field(default_factory=list)
    address: list[str] = field(default_factory=list)

    @property
    def billable_sheets(self) -> int:
        # Printed double-sided: two pages a sheet.
        return math.ceil((self.page_count or 0) / 2)


def check_letter(pdf: bytes) -> LetterCheck:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(pdf))
        pages = list(reader.pages)
        sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in pages]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        return LetterCheck(None, "unable-to-read-the-file")
    if not pages:
        return LetterCheck(0, "unable-to-read-the-file")
    not_a4 = [
        number
        for number, (width, height) in enumerate(sizes, start=1)
        if abs(width - A4_WIDTH_PT) > TOLERANCE_PT or abs(height - A4_HEIGHT_PT) > TOLERANCE_PT
    ]
    if not_a4:
        return LetterCheck(len(pages), "letter-not-a4-portrait-oriented", not_a4)
    if len(pages) > MAX_PAGES:
        return LetterCheck(len(pages), "letter-too-long")
    address = address_block(pages[0])
    if not address:
        return LetterCheck(len(pages), "address-is-empty")
    return LetterCheck(len(pages), address=address)


def address_block(page: Any) -> list[str]:
    """The lines of text whose start lies in Notify's address block, top to bottom."""
    height = float(page.mediabox.height)
    found: dict[float, list[tuple[float, str]]] = {}

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if not text.strip():
            return
        # The text's position on the page: its matrix, then the current transformation.
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        from_top = height - y
        if ADDRESS_LEFT <= x <= ADDRESS_RIGHT and ADDRESS_TOP <= from_top <= ADDRESS_BOTTOM:
            found.setdefault(round(from_top, 1), []).append((x, text.strip()))

    page.extract_text(visitor_text=visit)
    return [" ".join(t for _, t in sorted(found[line])) for line in sorted(found)]
