"""The audit log's filters on actions and its cursors."""

from datetime import UTC, datetime

import pytest

from services.audit import logic

RECORD_ID = "5d0c2a6e-1b7f-4c1e-9a53-0f2d8c3b4a11"


@pytest.mark.parametrize(
    ("action_filter", "prefix"),
    [
        ("devices.", True),
        ("devices", True),
        ("devices.command_issued", False),
        ("users.role_changed", False),
    ],
)
def test_a_filter_is_an_action_or_a_prefix(action_filter, prefix):
    assert logic.is_prefix(action_filter) is prefix


def test_a_prefix_ends_with_its_dot():
    assert logic.prefix("devices") == logic.prefix("devices.") == "devices."


def test_a_cursor_gives_back_its_record():
    at = datetime(2026, 12, 2, 10, 15, 2, 123456, tzinfo=UTC)
    assert logic.parse_cursor(logic.cursor(at, RECORD_ID)) == (at, RECORD_ID)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64!",
        "bm90IGEgY3Vyc29y",  # "not a cursor"
        logic.cursor(datetime(2026, 12, 2), RECORD_ID),  # no time zone
        logic.cursor(datetime(2026, 12, 2, tzinfo=UTC), "1; DROP TABLE"),
        logic.cursor(datetime(1, 1, 1, tzinfo=UTC), RECORD_ID),
        "MDAwMS0wMS0wMVQwMDowMDowMCsxNDowMHw1ZDBjMmE2ZS0xYjdmLTRjMWUtOWE1My0wZjJkOGMzYjRhMTE",
    ],
)
def test_anything_else_is_no_cursor(value):
    with pytest.raises(ValueError):
        logic.parse_cursor(value)
