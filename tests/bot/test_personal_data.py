"""Issue 15: phone numbers and ID-card numbers as citizens type them (full-width, spaced, landlines), read
and masked; hypothesis checks that no way of writing a number slips through the masking."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.personal_data import mask_address, mask_deep, mask_text, parse_phone, phone_from

ID_CARD = "110105199001011234"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我的电话是13700001111，身份证号110105199001011234", "13700001111"),
        ("身份证号110105199001011234，我的电话是13700001111", "13700001111"),
        ("身份证 11010519491231002X 电话 138-1234-5678", "13812345678"),
        ("１３７ ０００１ １１１１", "13700011111"),
        ("电话：010－1234 5678", "01012345678"),
        ("座机 0311 8765432", "03118765432"),
        ("住在幸福路3号楼，电话13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
    ],
)
def test_phones_as_citizens_type_them(text, expected):
    assert parse_phone(text) == expected


@pytest.mark.parametrize("text", ["110105199001011234", "身份证号110105199001011234", "13812345678 或 13912345678"])
def test_an_id_number_alone_or_two_phones_give_no_phone(text):
    assert parse_phone(text) is None


def test_a_piece_of_an_id_number_extracted_as_an_entity_is_not_the_phone():
    text = "我的电话是13700001111，身份证号110105199001011234"
    assert phone_from(text, "010519900101") == "13700001111"
    assert phone_from("身份证号110105199001011234", "010519900101") is None
    assert phone_from("就是这个", "13812345678") == "13812345678"


@pytest.mark.parametrize(
    "text, hidden",
    [
        ("电话１３８１２３４５６７８", "１３８１２３４５６７８"),
        ("电话 138 1234 5678", "1234"),
        ("座机 010-8765 4321", "8765"),
        ("座机（0311）8765432", "8765432"),
        ("身份证 110105 19900101 1234", "19900101"),
        ("身份证１１０１０５１９９００１０１１２３４", "１９９００１０１"),
        ("13700001111 110105199001011234", "19900101"),
    ],
)
def test_masking_understands_full_width_spacing_and_landlines(text, hidden):
    masked = mask_text(text)
    assert hidden not in masked, masked


def test_addresses_lose_house_and_room_numbers():
    assert mask_address("南开区幸福路12号3单元501室") == "南开区幸福路**号*单元***室"
    assert mask_address("和平区五大道二十三号楼") == "和平区五大道***号楼"
    masked = mask_deep({"slots": {"address": "幸福路12号", "district": "南开区"}})
    assert masked == {"slots": {"address": "幸福路**号", "district": "南开区"}}


digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
separators = st.sampled_from(["", "", " ", "-", "－", "\u3000"])


@st.composite
def typed_numbers(draw):
    """A mobile, landline or ID number, written with random full-width digits and separators."""
    kind = draw(st.sampled_from(["mobile", "landline", "id"]))
    if kind == "mobile":
        number = "1" + draw(st.sampled_from("3456789")) + "".join(draw(digits) for _ in range(9))
    elif kind == "landline":
        number = "0" + "".join(draw(digits) for _ in range(draw(st.sampled_from([9, 10]))))
    else:
        number = (
            "110105"
            + draw(st.sampled_from(["19900101", "20011231", "19491001"]))
            + "".join(draw(digits) for _ in range(4))
        )
    typed = ""
    for index, char in enumerate(number):
        if draw(st.booleans()):
            char = char.translate(FULL_WIDTH)
        typed += char
        if index in (2, 3, 6, 7, 10, 13) and index < len(number) - 1:
            typed += draw(separators)
    return kind, number, typed


@given(
    typed_numbers(),
    st.sampled_from(["电话", "我的号码是", "身份证", "", "好的 "]),
    st.sampled_from(["", "，谢谢", " 好"]),
)
@settings(max_examples=400, deadline=None)
def test_no_typed_number_survives_masking(number, before, after):
    kind, plain, typed = number
    masked = mask_text(before + typed + after)
    compact = "".join(
        ch for ch in masked.translate(str.maketrans("０１２３４５６７８９", "0123456789")) if ch.isdigit()
    )
    shown = 10 if kind == "id" else 7  # 110105********1234, 138****5678
    assert len(compact) <= shown and "****" in masked, (typed, masked)
    if kind == "mobile":
        assert parse_phone(before + typed + after) == plain


@given(st.text(max_size=300))
@settings(max_examples=400, deadline=None)
def test_any_text_is_read_and_masked_without_error(text):
    phone = parse_phone(text)
    assert phone is None or phone.isdigit()
    assert isinstance(mask_text(text), str)
    assert isinstance(mask_address(text), str)


def test_a_huge_message_is_read_in_bounded_time():
    import time

    start = time.perf_counter()
    parse_phone("1 " * 100_000 + "13812345678")
    mask_text("1 " * 100_000)
    assert time.perf_counter() - start < 2
