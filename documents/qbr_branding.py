"""The MSP's branding of the QBR documents: a raster logo (PNG or JPEG), a brand colour (titles, table headers, the
first chart series), an accent colour (the second series) and optionally its own PowerPoint template as the deck's
base presentation. From the seller profile (models/billing.py SellerProfile); without one the hub's defaults."""

import re
from dataclasses import dataclass

DEFAULT_BRAND = "#1F4E79"
DEFAULT_ACCENT = "#F28E2B"
_HEX = re.compile(r"#[0-9A-Fa-f]{6}")


def is_colour(value: str) -> bool:
    return bool(_HEX.fullmatch(value))


def image_kind(data: bytes) -> str | None:
    """"png" or "jpeg" by the file's signature; None for anything else (python-pptx and reportlab read these)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


@dataclass(frozen=True)
class Branding:
    logo: bytes | None = None
    brand_colour: str = DEFAULT_BRAND
    accent_colour: str = DEFAULT_ACCENT
    template: bytes | None = None  # a .pptx whose masters, layouts and theme the deck uses

    @property
    def brand_rgb(self) -> str:
        """"1F4E79": the form python-pptx's RGBColor.from_string and the PPTX XML use."""
        return self.brand_colour.lstrip("#").upper()

    @property
    def accent_rgb(self) -> str:
        return self.accent_colour.lstrip("#").upper()


DEFAULT_BRANDING = Branding()
