"""The sliding window of a per-user rate quota."""

from datetime import UTC, datetime, timedelta

from services.common.quotas import retry_after

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def test_under_the_limit_one_more_fits_now():
    assert retry_after([], 3, MINUTE, NOW) is None
    assert retry_after([ago(30), ago(10)], 3, MINUTE, NOW) is None


def test_at_the_limit_wait_until_the_oldest_counted_leaves_the_window():
    assert retry_after([ago(50), ago(30), ago(10)], 3, MINUTE, NOW) == 11
    # Past the limit (a quota lowered meanwhile), the last ``limit`` decide.
    assert retry_after([ago(55), ago(50), ago(30), ago(10)], 2, MINUTE, NOW) == 31


def test_actions_outside_the_window_do_not_count():
    assert retry_after([ago(90), ago(60), ago(10)], 3, MINUTE, NOW) is None


def test_the_wait_is_at_least_a_second():
    assert retry_after([ago(59.9)], 1, MINUTE, NOW) == 1


def test_a_limit_of_zero_refuses_everything_for_a_whole_window():
    assert retry_after([], 0, MINUTE, NOW) == 60
