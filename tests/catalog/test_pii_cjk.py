"""Chinese names in Han script, which the English NER model cannot read, are found by surname and given-name
characters, and Chinese equipment words (some starting with a surname character) are left alone."""

from __future__ import annotations

import re

import pytest

from catalog.pii.cjk import _NAME, NOT_NAMES
from catalog.pii.keys import PseudonymKey
from catalog.pii.scanner import PiiScanner, ScannerSettings

KEY = PseudonymKey(b"test key for chinese names, 32 bytes at the least")


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return PiiScanner(ScannerSettings((), KEY, ner=False))


@pytest.mark.parametrize(
    "text, name",
    [
        ("王伟更换了P-101的机械密封。", "王伟"),
        ("值班人员：李娜，电话见排班表。", "李娜"),
        ("请张敏明天复查轴承温度。", "张敏"),
        ("备件已由仓库孙丽华发放。", "孙丽华"),
        ("欧阳娜娜确认后复位。", "欧阳娜娜"),
        ("Seal replaced; 刘洋 will check again.", "刘洋"),
    ],
)
def test_han_names_are_found(scanner: PiiScanner, text: str, name: str) -> None:
    masked, found, _ = scanner.mask(text)
    assert found == {"PERSON": 1} and name not in masked


@pytest.mark.parametrize(
    "text",
    [
        "泵",
        "轴承温度",
        "离心泵",
        "电机",
        "报警",
        "高",
        "离心泵P-101轴承温度高，报警。",
        "高压泵出口压力低，马达过热停机，黄油加注完成。",
        "张力调整后周检完成，白班巡检正常，万用表校准合格，许可证已办理。",
        "石英砂过滤器反洗，高强度螺栓更换，温度恢复正常，凌晨三点复位。",
    ],
)
def test_chinese_equipment_words_are_not_taken_for_people(scanner: PiiScanner, text: str) -> None:
    assert scanner.mask(text).found == {}


def test_every_listed_word_is_one_the_name_pattern_would_take() -> None:
    """The list holds only words that need it: each reads as surname + given name."""
    pattern = re.compile(_NAME)
    assert [w for w in sorted(NOT_NAMES) if not pattern.fullmatch(w)] == []


def test_han_names_are_looked_for_only_where_people_may_be_named(scanner: PiiScanner) -> None:
    """In code columns (equipment names in Chinese) only the roster counts."""
    assert scanner.mask_many(["王伟"], names=False)["王伟"].found == {}
