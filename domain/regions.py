"""Countries, subdivisions, time zones and VAT ids of DACH customers: pure validation helpers.

Every helper returns the canonical form of its input or raises ``RegionError`` (a ``ValueError``, so the helpers
can be used directly inside pydantic validators) whose ``field`` says which input is wrong. No I/O beyond the
zoneinfo and ``holidays`` data lookups, so SLA and calendar code can reuse them anywhere.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from stdnum.at import uid as at_uid
from stdnum.ch import vat as ch_vat
from stdnum.de import vat as de_vat

__all__ = [
    "COUNTRIES",
    "DEFAULT_TIME_ZONES",
    "Country",
    "RegionError",
    "default_time_zone",
    "holidays_subdivision",
    "normalise_country",
    "normalise_postal_code",
    "normalise_subdivision",
    "normalise_time_zone",
    "normalise_vat_id",
    "subdivisions",
    "validate_region",
]

Country = Literal["DE", "AT", "CH"]
COUNTRIES: tuple[str, ...] = ("DE", "AT", "CH")
DEFAULT_TIME_ZONES: dict[str, str] = {"DE": "Europe/Berlin", "AT": "Europe/Vienna", "CH": "Europe/Zurich"}

# The holidays package also knows non-ISO "subdivisions" (DE "Augsburg", CH "Stadt Zurich"); ISO codes are short.
_ISO_PART = re.compile(r"^[A-Z0-9]{1,3}$")
_VAT_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "DE": (re.compile(r"^DE([0-9]{9})$"), "DE followed by 9 digits, e.g. DE123456789"),
    "AT": (re.compile(r"^ATU([0-9]{8})$"), "ATU followed by 8 digits, e.g. ATU12345678"),
    "CH": (
        re.compile(r"^CHE-?([0-9]{3})\.?([0-9]{3})\.?([0-9]{3})(MWST|TVA|IVA)?$"),
        "CHE-123.456.789, optionally followed by MWST, TVA or IVA",
    ),
}
_POSTAL_CODES: dict[str, tuple[re.Pattern[str], str]] = {
    "DE": (re.compile(r"^[0-9]{5}$"), "5 digits"),
    "AT": (re.compile(r"^[0-9]{4}$"), "4 digits"),
    "CH": (re.compile(r"^[0-9]{4}$"), "4 digits"),
}


class RegionError(ValueError):
    """An invalid country, subdivision, time zone, VAT id or postal code; ``field`` names the input."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def normalise_country(country: str) -> str:
    code = country.strip().upper()
    if code not in COUNTRIES:
        raise RegionError("country", f"unsupported country {country!r}; supported: {', '.join(COUNTRIES)}")
    return code


@cache
def subdivisions(country: str) -> tuple[str, ...]:
    """ISO 3166-2 codes ("DE-BY", "AT-9", "CH-ZH") of the country's subdivisions that have holiday data."""
    code = normalise_country(country)
    known = holidays.list_supported_countries()[code]
    return tuple(f"{code}-{s}" for s in known if _ISO_PART.match(s))


def normalise_subdivision(country: str, subdivision: str) -> str:
    """Canonical ISO 3166-2 code of a subdivision of ``country`` (case-insensitive input, e.g. "de-by")."""
    code = normalise_country(country)
    value = subdivision.strip().upper()
    if value in subdivisions(code):
        return value
    prefix = value.partition("-")[0]
    if prefix in COUNTRIES and prefix != code:
        raise RegionError("subdivision", f"subdivision {subdivision!r} does not belong to country {code}")
    raise RegionError(
        "subdivision",
        f"unknown subdivision {subdivision!r} for {code}; use an ISO 3166-2 code: {', '.join(subdivisions(code))}",
    )


def holidays_subdivision(subdivision: str) -> tuple[str, str]:
    """Map an ISO code such as "DE-BY" to the (country, subdiv) pair the holidays package expects: ("DE", "BY")."""
    country, sep, _ = subdivision.strip().upper().partition("-")
    if not sep:
        raise RegionError("subdivision", f"{subdivision!r} is not an ISO 3166-2 code like DE-BY")
    canonical = normalise_subdivision(normalise_country(country), subdivision)
    return canonical[:2], canonical[3:]


def normalise_time_zone(time_zone: str) -> str:
    value = time_zone.strip()
    try:
        if not value or "\x00" in value:
            raise ValueError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise RegionError("time_zone", f"unknown IANA time zone {time_zone!r}, e.g. Europe/Berlin") from None
    return value


def default_time_zone(country: str) -> str:
    return DEFAULT_TIME_ZONES[normalise_country(country)]


# python-stdnum's check-digit tests of the three VAT ids (the format is checked by _VAT_PATTERNS first)
_CHECK_DIGIT = {"DE": de_vat.is_valid, "AT": at_uid.is_valid, "CH": ch_vat.is_valid}


def normalise_vat_id(country: str, vat_id: str) -> str:
    """Check a VAT id against the country's format; spaces are dropped, CH ids get the canonical punctuation."""
    code = normalise_country(country)
    compact = "".join(vat_id.split()).upper()
    pattern, example = _VAT_PATTERNS[code]
    match = pattern.match(compact)
    if match is None:
        raise RegionError("vat_id", f"{vat_id!r} is not a valid {code} VAT id; expected {example}")
    if not _CHECK_DIGIT[code](compact):
        raise RegionError("vat_id", f"{vat_id!r} is not a valid {code} VAT id: its check digit is wrong")
    if code == "CH":
        a, b, c, suffix = match.groups()
        return f"CHE-{a}.{b}.{c}" + (f" {suffix}" if suffix else "")
    return compact


def normalise_postal_code(country: str, postal_code: str) -> str:
    code = normalise_country(country)
    value = postal_code.strip()
    pattern, expected = _POSTAL_CODES[code]
    if not pattern.match(value):
        raise RegionError("postal_code", f"{postal_code!r} is not a valid {code} postal code; expected {expected}")
    return value


def validate_region(
    country: str, subdivision: str | None = None, vat_id: str | None = None
) -> tuple[str, str | None, str | None]:
    """Check country, subdivision and VAT id together; returns their canonical forms."""
    code = normalise_country(country)
    return (
        code,
        normalise_subdivision(code, subdivision) if subdivision is not None else None,
        normalise_vat_id(code, vat_id) if vat_id is not None else None,
    )
