"""Helpers the vendor normalizers share: reading JSON by dotted path and cleaning vendor values.

The normalizers themselves live one module per vendor: ``sentinelone``, ``rocketcyber``, ``barracuda`` and
``generic``. Conventions for all of them:

* A payload is the decoded JSON of *one* alert (not a list envelope); the original stays in ``raw``.
* Required fields missing or unreadable raise ``AlertFormatError(field, message)`` with the vendor's dotted
  path as ``field``; optional values that are present but malformed (an IP that is no IP, a hash of the wrong
  length) are dropped to ``None`` rather than failing the whole alert: ``raw`` still has them.
* Ids and the values incidents are keyed by (host, agent, user, vendor tenant) with a control character are
  refused; free text loses its control characters (``NormalizedAlert``, built through ``build_alert``).
* Times must carry a time zone (ISO-8601 with ``Z`` or an offset) or be Unix epoch numbers (seconds, or
  milliseconds above 2*10^10, as pydantic reads them); naive times are rejected: guessing the zone shifts SLAs.
"""

import ipaddress
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from domain.soc.alerts import MITRE_TECHNIQUE, AlertFormatError, NormalizedAlert

_MISSING = object()
_AWARE = TypeAdapter(AwareDatetime)
_ATTACK_URL = re.compile(r"attack\.mitre\.org/techniques/(T\d{4})(?:/(\d{3}))?", re.IGNORECASE)
_MAX_DEPTH = 8


def format_error(exc: ValidationError) -> AlertFormatError:
    """The first error of a pydantic validation as an AlertFormatError naming its field by dotted path."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "$"
    return AlertFormatError(field, error["msg"].removeprefix("Value error, "))


def build_alert(**fields: Any) -> NormalizedAlert:
    """The NormalizedAlert of a normalizer's fields; a value the model refuses (an id too long or with a control
    character) raises AlertFormatError naming the field, as a missing one does."""
    try:
        return NormalizedAlert(**fields)
    except ValidationError as exc:
        raise format_error(exc) from exc


def get_path(payload: Any, path: str) -> Any:
    """The value at a dotted path (`"alarm.asset.hostname"`, list items by index: `"hosts.0.name"`), or None."""
    value: Any = payload
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is _MISSING:
            return None
    return value


def require_mapping(value: Any, field: str, what: str) -> Mapping[str, Any]:
    """`value` if it is a JSON object; AlertFormatError(field) otherwise ("$" names the whole payload)."""
    if not isinstance(value, Mapping):
        raise AlertFormatError(field, f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def text(value: Any) -> str | None:
    """A non-empty, stripped string for strings and numbers; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def required_text(payload: Any, *paths: str) -> str:
    """The first non-empty text at `paths`; AlertFormatError naming the first path if none has one."""
    for path in paths:
        value = text(get_path(payload, path))
        if value is not None:
            return value
    raise AlertFormatError(paths[0], "missing or empty")


def timestamp(value: Any, field: str) -> datetime:
    """An aware datetime from ISO-8601 text or Unix epoch seconds/milliseconds."""
    if isinstance(value, bool) or value is None or value == "":
        raise AlertFormatError(field, "missing timestamp")
    try:
        return _AWARE.validate_python(value)
    except ValidationError as exc:
        raise AlertFormatError(field, f"not a timestamp with a time zone: {value!r}") from exc


def required_timestamp(payload: Any, *paths: str) -> datetime:
    for path in paths:
        value = get_path(payload, path)
        if value not in (None, ""):
            return timestamp(value, path)
    raise AlertFormatError(paths[0], "missing timestamp")


def optional_timestamp(payload: Any, *paths: str) -> datetime | None:
    """The first readable aware timestamp at `paths`, or None: an optional time never fails the alert."""
    for path in paths:
        value = get_path(payload, path)
        if value not in (None, ""):
            try:
                return timestamp(value, path)
            except AlertFormatError:
                continue
    return None


def file_hash(value: Any, hex_length: int) -> str | None:
    """A lower-case hex digest of the given length, or None (vendors send "", null or placeholders)."""
    value = text(value)
    if value is None or not re.fullmatch(rf"[0-9a-fA-F]{{{hex_length}}}", value):
        return None
    return value.lower()


def ip_address(value: Any) -> str | None:
    """The first valid IP in a value that may list several ("10.0.0.5, 192.168.1.3"), or None."""
    for candidate in re.split(r"[,;\s]+", text(value) or ""):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def basename(path: str | None) -> str | None:
    """The file name of a Windows or POSIX path."""
    if not path:
        return None
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1] or None


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def mitre_techniques(*values: Any) -> list[str]:
    """ATT&CK technique ids (T1055, T1059.001) found anywhere in the values, in first-seen order.

    Tolerant on purpose: vendors nest techniques differently (names, ids, attack.mitre.org links).
    """
    found: dict[str, None] = {}
    for value in values:
        for string in _strings(value):
            candidate = string.strip().upper()
            if MITRE_TECHNIQUE.match(candidate):
                found[candidate] = None
            for match in _ATTACK_URL.finditer(string):
                technique = match.group(1).upper() + (f".{match.group(2)}" if match.group(2) else "")
                found[technique] = None
    return list(found)
