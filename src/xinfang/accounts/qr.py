"""QR codes for enrolment, drawn on the server as inline SVG: no image service, no internet."""

from __future__ import annotations

import qrcode
from qrcode.image.svg import SvgPathImage


def qr_svg(data: str) -> str:
    """An ``<svg>`` element encoding ``data`` (an ``otpauth://`` URL), to put in a page."""
    image = qrcode.make(data, image_factory=SvgPathImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")
