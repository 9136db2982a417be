"""QR codes for printed pages (survey posters, opportunity prints), drawn here so that no
outside service sees the link."""

from __future__ import annotations

import io

import segno
from starlette.responses import Response


def _code(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, *, leads_to: str, scale: int = 4) -> str:
    """The QR code for `url` as inline SVG. Its title is its text alternative, and says where
    it leads ("the survey"). It has a viewBox rather than a fixed size, so that a print's CSS
    can size it without cutting it off."""
    return str(
        _code(url).svg_inline(
            scale=scale,
            omitsize=True,
            title=f"QR code. Scan it with your phone's camera to open {leads_to} at {url}",
            dark="#000000",
            light="#ffffff",
        )
    )


def qr_file(url: str, *, title: str) -> Response:
    """The QR code for `url` as an SVG file, large enough to print or put in a document."""
    out = io.BytesIO()
    _code(url).save(out, kind="svg", scale=8, title=title, xmldecl=True)
    return Response(out.getvalue(), media_type="image/svg+xml")
