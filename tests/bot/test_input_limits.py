"""Issue 15: metadata a channel stores is bounded (a 2 MB metadata must not be kept three times a message)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.input_limits import MAX_METADATA_BYTES, bounded_metadata


def test_small_metadata_passes_unchanged():
    metadata = {"channel": "webchat", "page": "/faq", "lang": "zh"}
    assert bounded_metadata(metadata) is metadata


def test_huge_metadata_is_cut_to_the_limit():
    metadata = {"page": "/faq", "blob": "x" * 2_000_000, "lang": "zh"}
    bounded = bounded_metadata(metadata)
    assert bounded == {"truncated": True, "page": "/faq", "lang": "zh"}


def test_not_an_object_gives_nothing():
    assert bounded_metadata(["a"] * 10) == {} and bounded_metadata("x") == {} and bounded_metadata(None) == {}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=80), inner, max_size=40),
    max_leaves=60,
)


@given(json_values)
@settings(max_examples=80, deadline=None)
def test_whatever_is_sent_the_stored_metadata_fits(value):
    bounded = bounded_metadata(value)
    assert isinstance(bounded, dict)
    assert len(json.dumps(bounded, ensure_ascii=False).encode("utf-8", "surrogatepass")) <= MAX_METADATA_BYTES
