"""The Chinese names of gongkai's codes and the Chinese values a clerk types (flows/labels.py)."""

from __future__ import annotations

import pytest

from gongkai.flows import labels, lifecycle


def test_every_state_has_a_chinese_name() -> None:
    assert set(labels.STATE_LABELS) == set(lifecycle.STATES)
    assert labels.parse_state("待发布") == "to_publish"
    assert labels.parse_state("published") == "published"


def test_attributes_are_typed_in_chinese_or_as_codes() -> None:
    assert labels.parse_disclosure("主动公开") == "active"
    assert labels.parse_disclosure("依申请公开") == "on_request"
    assert labels.parse_disclosure("withheld") == "withheld"
    with pytest.raises(ValueError, match="主动公开（active）"):
        labels.parse_disclosure("随便")
