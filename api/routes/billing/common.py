"""What the billing routes share: a model-level ValueError ("field: message") as a 422 naming the field."""

from api.problems import Problem
from api.schemas.common import field_error


def value_problem(err: ValueError) -> Problem:
    field, sep, message = str(err).partition(": ")
    return field_error(field, message) if sep and " " not in field else field_error("body", str(err))
