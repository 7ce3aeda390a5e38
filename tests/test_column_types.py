"""Column types: a time without a UTC equivalent the database can hold is refused with a message, on both dialects."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from models.types import UtcDateTime


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgres"])
@pytest.mark.parametrize(
    "value",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))),
    ],
)
def test_a_time_without_utc_equivalent_is_a_value_error_with_a_message(dialect, value):
    with pytest.raises(ValueError, match="has no UTC time within the years 1 to 9999"):
        UtcDateTime().process_bind_param(value, dialect)
