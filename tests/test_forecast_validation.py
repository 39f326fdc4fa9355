"""Bad forecast input gets one clear line per problem: FILE:ROW:COLUMN: message."""
import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.forecast.validation import validate_long


def _raw(rows):
    return pd.DataFrame(rows, columns=["unique_id", "ds", "y"]).astype(str)


def test_missing_column_is_named():
    with pytest.raises(InputError) as e:
        validate_long(pd.DataFrame({"unique_id": ["a"], "ds": ["2024-01-01"]}), "D", source="in.csv")
    assert "in.csv:1:y: required column is missing" in e.value.problems[0]


def test_non_numeric_y_bad_date_and_duplicate_name_the_line():
    raw = _raw([["a", "2024-01-01", "1"], ["a", "2024-01-02", "abc"], ["a", "2024-13-01", "2"],
                ["a", "2024-01-01", "3"], ["a", "2024-01-03", "-1"], ["a", "2024-01-04", "4"]])
    with pytest.raises(InputError) as e:
        validate_long(raw, "D", source="in.csv")
    text = "\n".join(e.value.problems)
    assert 'in.csv:3:y: expected a number >= 0, got "abc"'.replace('"', "'") in text
    assert "in.csv:4:ds: expected a date YYYY-MM-DD, got '2024-13-01'" in text
    assert "in.csv:5:unique_id,ds: duplicate of line 2" in text
    assert "in.csv:6:y: expected a number >= 0, got -1.0" in text


def test_too_short_series_and_weekday_mismatch():
    raw = _raw([["a", "2024-01-05", "1"], ["a", "2024-01-12", "1"], ["b", "2024-01-05", "1"],
                ["b", "2024-01-12", "1"], ["b", "2024-01-20", "1"]])
    with pytest.raises(InputError) as e:
        validate_long(raw, "W", source="w.csv")
    text = "\n".join(e.value.problems)
    assert "w.csv:2:unique_id: series 'a' has 2 row(s); at least 3 are needed" in text
    assert "w.csv:6:ds: weekly data must fall on one weekday (Friday), got Saturday" in text


def test_empty_y_allowed_only_when_out_of_stock():
    raw = pd.DataFrame({"unique_id": ["a"] * 4, "ds": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
                        "y": ["1", "", "2", ""], "in_stock": ["true", "false", "true", "true"]})
    with pytest.raises(InputError) as e:
        validate_long(raw, "D", source="x.csv")
    assert e.value.problems == ["x.csv:5:y: expected a number >= 0, got an empty cell (allowed only when in_stock is false)"]
