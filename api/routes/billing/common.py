"""What the billing routes share: a model-level ValueError ("field: message") as a 422 naming the field, and PATCH
of a whole-profile body (the stored profile merged with the change, then checked like a PUT)."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError, create_model

from api.problems import Problem, validation_problem
from api.schemas.common import Body, field_error

M = TypeVar("M", bound=BaseModel)


def value_problem(err: ValueError) -> Problem:
    field, sep, message = str(err).partition(": ")
    return field_error(field, message) if sep and " " not in field else field_error("body", str(err))


def partial(model: type[BaseModel], name: str) -> type[Body]:
    """A PATCH body with every field of ``model`` optional; its constraints are checked on the merged profile."""
    fields: dict[str, Any] = {field: (info.annotation | None, None) for field, info in model.model_fields.items()}
    return create_model(name, __base__=Body, __doc__=f"Fields of {model.__name__} to change.", **fields)


def merged(model: type[M], stored: dict[str, Any], change: BaseModel) -> M:
    """``stored`` with the fields ``change`` sets, validated as ``model``; a refusal names the changed field."""
    data = stored | change.model_dump(mode="json", exclude_unset=True)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        errors = [e | {"loc": ("body", *e["loc"])} for e in err.errors()]
        raise validation_problem(errors, data) from None
