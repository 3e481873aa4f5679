"""Every field a form accepts is bounded, derived from the spec (dsgen/_fields.py)."""

import pytest

from dsgen._fields import INT32, max_length, model_annotation, number_range
from dsgen._model import Field, FieldType
from dsgen._names import Name


def field(kind: FieldType, **extra) -> Field:
    return Field(name=Name("f"), type=kind, **extra)


@pytest.mark.parametrize(("kind", "limit"), [
    (FieldType.STRING, 1_000), (FieldType.TEXT, 10_000), (FieldType.EMAIL, 320),
    (FieldType.URL, 2_048),
])
def test_every_string_like_field_gets_a_max_length(kind: FieldType, limit: int) -> None:
    assert max_length(field(kind)) == limit
    assert f"max_length={limit}" in model_annotation(field(kind))[1]
    assert "max_length=12" in model_annotation(field(kind, max=12))[1]


def test_text_keeps_line_breaks_and_one_line_values_refuse_control_characters() -> None:
    assert "AfterValidator(plain_text)" in model_annotation(field(FieldType.TEXT))[0]
    for kind in (FieldType.STRING, FieldType.EMAIL, FieldType.URL):
        assert "AfterValidator(single_line)" in model_annotation(field(kind))[0]


def test_ints_stay_inside_the_integer_column() -> None:
    assert number_range(field(FieldType.INT)) == INT32
    assert number_range(field(FieldType.INT, min=0, max=100)) == (0, 100)
    assert number_range(field(FieldType.INT, min=-10**12, max=10**12)) == INT32
    constraints = model_annotation(field(FieldType.INT))[1]
    assert f"ge={INT32[0]}" in constraints and f"le={INT32[1]}" in constraints


def test_decimals_and_floats_are_bounded_by_digits_and_finiteness() -> None:
    assert "max_digits=18" in model_annotation(field(FieldType.DECIMAL))[1]
    assert "allow_inf_nan=False" in model_annotation(field(FieldType.FLOAT))[1]


@pytest.mark.parametrize("kind", [FieldType.DATE, FieldType.DATETIME])
def test_dates_stay_inside_the_range_the_app_handles(kind: FieldType) -> None:
    assert "AfterValidator(in_date_range)" in model_annotation(field(kind))[0]
