"""Building blocks shared by the master-data schemas and routes: bounded strings, PATCH helpers, audit rows."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic_core import to_jsonable_python

from api.deps import Principal
from api.problems import Problem
from domain.regions import RegionError
from models import AuditEvent


class Body(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(value: str) -> str:
    """Single-line text only: control characters (NUL in particular, which PostgreSQL refuses) are an error."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def text(max_length: int, min_length: int = 1) -> Any:
    """A stripped, bounded, single-line string type."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(printable),
    ]


# A tenant's business key, e.g. K-10042: what people use in mails, invoices and the Temporal UI.
CustomerNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9-]{1,31}$")
]


_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable_multiline(value: str) -> str:
    """Text with line breaks and tabs allowed, other control characters (NUL above all) refused."""
    if _CONTROL_MULTILINE.search(value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


def multiline(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str, StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(printable_multiline)
    ]


Name = text(200)
ShortText = text(100)
SearchText = text(100)


def not_null(value: Any) -> Any:
    """For PATCH fields whose column is NOT NULL: an explicit null is an error (omit the field instead)."""
    if value is None:
        raise ValueError("may not be null; omit the field to leave it unchanged")
    return value


def field_error(field: str, message: str, status: int = 422) -> Problem:
    return Problem(status, f"{field}: {message}", errors=[{"field": field, "message": message}])


# Time filters are compared in UTC: a day inside Python's year 1 to 9999 keeps every offset convertible.
FILTER_RANGE = (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC))


def filter_time(name: str, value: datetime) -> datetime:
    """A datetime query filter: with a time zone, within FILTER_RANGE; else a 422 naming the parameter."""
    if value.tzinfo is None:
        raise field_error(name, "must include a time zone")
    low, high = FILTER_RANGE
    if not low <= value <= high:
        raise field_error(name, f"must lie between {low.isoformat()} and {high.isoformat()}")
    return value


def region_problem(err: RegionError) -> Problem:
    return field_error(err.field, err.message)


def contains(term: str) -> str:
    """A LIKE pattern matching ``term`` anywhere, with the LIKE wildcards in it escaped (use escape="\\")."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def jsonable(value: Any) -> Any:
    return to_jsonable_python(value)


def apply_changes(obj: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """Set the attributes whose value differs; returns the changed fields (JSON-safe) for the audit trail."""
    changed: dict[str, Any] = {}
    for name, value in changes.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed[name] = jsonable(value)
    return changed


def audit_event(
    principal: Principal, tenant_id: UUID | None, entity: str, entity_id: UUID, action: str, data: dict[str, Any]
) -> AuditEvent:
    return AuditEvent.of(principal.user_id, tenant_id, entity, entity_id, action, data)
