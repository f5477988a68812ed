"""Reading request bodies: JSON that no route takes is a 400 before any schema."""

import json
import time

import pytest

from gateway.requests import MAX_DEPTH, MAX_VALUES, parse_json
from services.auth.schemas import LoginSchema
from services.common.errors import ValidationFailed
from services.common.schemas import load


def refusal(raw: bytes) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_json(raw)
    return caught.value.details["_schema"]


def test_an_object_is_read():
    assert parse_json(b'{"a": [1, 2.5, "x", null, true]}') == {
        "a": [1, 2.5, "x", None, True]
    }


def test_an_empty_body_reads_as_null():
    assert parse_json(b"") is None


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"[" * 100_000, f"at most {MAX_VALUES} values"),
        (b"[" * 40 + b"]" * 40, f"at most {MAX_DEPTH} levels"),
        (b"[" * 2_000 + b"]" * 2_000, f"at most {MAX_DEPTH} levels"),
        (json.dumps({f"k{i}": 1 for i in range(MAX_VALUES)}).encode(), "values"),
        (json.dumps([[]] * MAX_VALUES).encode(), "values"),
        (b'{"kwh": 1e400}', "finite"),
        (b'{"kwh": -1e400}', "finite"),
        (b'{"kwh": NaN}', "NaN is not a JSON number"),
        (b'{"kwh": Infinity}', "Infinity is not a JSON number"),
        (b'{"n": 9223372036854775808}', "64 bits"),
        (b'{"n": -9223372036854775809}', "64 bits"),
        (b'{"n": 1' + b"0" * 5_000 + b"}", "64 bits"),
        (b"{", "invalid JSON"),
        (b'{"a": "\xff"}', "invalid JSON"),
    ],
    ids=[
        "open brackets",
        "deep",
        "deeper than json's recursion",
        "many keys",
        "many values",
        "overflowing float",
        "overflowing negative float",
        "NaN",
        "Infinity",
        "int over 64 bits",
        "int under 64 bits",
        "5000 digits",
        "truncated",
        "not UTF-8",
    ],
)
def test_hostile_json_is_a_400_naming_the_reason(raw, reason):
    assert reason in refusal(raw)[0]


def test_64_bit_integers_are_read():
    assert parse_json(b"[9223372036854775807, -9223372036854775808]") == [
        2**63 - 1,
        -(2**63),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"[" + b"1," * 500_000 + b"1]",
        b"[" + b"[]," * 300_000 + b"[]]",
        json.dumps({f"k{i}": 1 for i in range(80_000)}).encode(),
        json.dumps({f"k{i}": 1 for i in range(MAX_VALUES - 2)}).encode(),
    ],
    ids=["a million bytes of ones", "empty arrays", "keys", "keys within limits"],
)
def test_no_body_under_a_mebibyte_takes_long_to_refuse(raw):
    # A stall check, not a benchmark: the bound is far above the few milliseconds
    # this takes, and only a parse of the whole body would break it.
    started = time.perf_counter()
    with pytest.raises(ValidationFailed):
        load(LoginSchema(), parse_json(raw[: 1 << 20]))
    assert time.perf_counter() - started < 0.1
