"""What citizens type for phones, ticket numbers and yes/no, and how it is read."""

import pytest

from actions.yes_no import yes_no
from bot.personal_data import mask_phone, parse_phone, same_phone
from bot.ticket_contract import parse_ticket_number


@pytest.mark.parametrize(
    "text, expected",
    [
        ("13812345678", "13812345678"),
        ("我的电话是138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("+86 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("022-23456789", "02223456789"),
        ("座机 0311 8765432", "03118765432"),
    ],
)
def test_valid_phone_numbers_are_normalised(text, expected):
    assert parse_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "12345",
        "110",
        "1234567890123",
        "23812345678",
        "1381234567",
        "电话没有",
        "",
        None,
        "13812345678 或 13912345678",
        "23456789",
    ],
)
def test_malformed_phone_numbers_are_refused(text):
    assert parse_phone(text) is None


def test_same_phone_ignores_formatting():
    assert same_phone("138 1234 5678", "13812345678")
    assert not same_phone("13812345678", "13812345679")
    assert not same_phone(None, "13812345678")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("BM261122K7M4Q9XZ", "BM261122K7M4Q9XZ"),
        ("我的工单号是 bm261122k7m4q9xz", "BM261122K7M4Q9XZ"),
        ("BM 261122 K7M4 Q9XZ", "BM261122K7M4Q9XZ"),
        ("BM261122K7M4Q9X", None),  # one character short
        ("BM261122K7M4Q9XU", None),  # U is not in Crockford base32
        ("工单", None),
    ],
)
def test_ticket_numbers(text, expected):
    assert parse_ticket_number(text) == expected


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("", "affirm", True),
        ("", "deny", False),
        ("需要保密", None, True),
        ("不需要", None, False),
        ("匿名吧", None, True),
        ("可以公开", None, False),
        ("随便说点啥", None, None),
    ],
)
def test_yes_no(text, intent, expected):
    assert yes_no(text, intent) is expected


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
