"""The bilingual labels of the standards' vocabularies."""

from __future__ import annotations

import doctest
import re

import pytest

from catalog.vocabulary import BusinessDomain, Scenario, SecurityGrade
from catalog.web import i18n
from catalog.web.i18n import ENUMS, KINDS, LANGS, LINEAGE_KINDS, bilingual, choices, is_known, label
from config.people import Role
from quality.dimensions import Dimension

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("kind", sorted(ENUMS))
def test_every_enum_member_has_both_labels(kind: str) -> None:
    for member in ENUMS[kind]:
        assert is_known(kind, member), f"{kind}: {member!r} has no label"
        english, chinese = label(kind, member, "en"), label(kind, member, "zh")
        assert english and english != str(member.value), f"{kind}: {member!r} has no English words"
        assert not CJK.search(english)
        assert CJK.search(chinese), f"{kind}: {member!r} has no Chinese label: {chinese!r}"


@pytest.mark.parametrize("kind", KINDS)
def test_every_known_value_has_both_labels(kind: str) -> None:
    assert choices(kind)
    for value in choices(kind):
        english, chinese = label(kind, value, "en"), label(kind, value, "zh")
        assert english.strip() and chinese.strip()
        if kind != "quality_grade":
            assert CJK.search(chinese), (kind, value)


def test_choices_follow_the_enums_order() -> None:
    assert choices("dimension") == [d.value for d in Dimension]
    assert choices("domain") == [d.value for d in BusinessDomain]
    assert choices("security_grade") == ["1", "2", "3"]
    assert choices("quality_grade") == ["A", "B", "C", "D"]
    roles = choices("role")
    assert roles[: len(Role)] == [r.value for r in Role]
    assert {"employee", "ai_project_member"} <= set(roles)
    assert len(roles) == len(set(roles))
    assert choices("lineage_kind") == list(LINEAGE_KINDS)


def test_labels_of_the_standards() -> None:
    assert label("dimension", Dimension.COMPLETENESS, "zh") == "完整性"
    assert label("dimension", "accessibility", "en") == "Accessibility"
    assert bilingual("dimension", "completeness") == "Completeness 完整性"
    assert label("domain", "operation_maintenance", "en") == "Operation and maintenance"
    assert label("domain", BusinessDomain.RD, "zh") == "研发"
    assert label("data_type", "time_series", "en") == "Time series"
    assert label("data_type", "time_series", "zh") == "时序数据"
    assert label("scenario", Scenario.PRODUCTION_MANUFACTURING, "en") == "Production and manufacturing"
    assert label("scenario", "operation_maintenance", "zh") == "运维管理"
    assert label("modality", "audio", "zh") == "音频"
    assert label("access", "read_on_approval", "en") == "Read on approval"
    assert label("access", "read_on_approval", "zh") == "审批后读取"
    assert label("role", "chief_data_officer", "en") == "Chief data officer"
    assert label("role", "ai_project_member", "zh") == "AI项目成员"
    assert label("role", "employee", "zh") == "员工"
    assert label("gbt_43697", "important", "zh") == "重要"
    assert label("lineage_kind", "gated", "zh") == "已质检"
    assert label("dimension", "overall", "zh") == "综合"
    assert "overall" not in choices("dimension")


@pytest.mark.parametrize("value", [2, "2", SecurityGrade.GRADE_2])
def test_security_grade_accepts_int_str_and_enum(value: int | str | SecurityGrade) -> None:
    assert label("security_grade", value, "en") == "Grade 2 · important"
    assert label("security_grade", value, "zh") == "二级 · 重要"


def test_security_grades_name_the_gbt_43697_level() -> None:
    expected = {
        1: ("Grade 1 · general", "一级 · 一般"),
        2: ("Grade 2 · important", "二级 · 重要"),
        3: ("Grade 3 · core", "三级 · 核心"),
    }
    for grade in SecurityGrade:
        assert (label("security_grade", grade, "en"), label("security_grade", grade, "zh")) == expected[int(grade)]
        assert label("gbt_43697", grade.gbt_43697, "zh") in label("security_grade", grade, "zh")


def test_quality_grades() -> None:
    assert label("quality_grade", "A", "en") == "A"
    assert label("quality_grade", "A", "zh").startswith("A")
    assert bilingual("quality_grade", "D") == "D 差"


def test_unknown_values_fall_back_to_themselves() -> None:
    assert label("domain", "shipyard", "en") == "shipyard"
    assert label("domain", "shipyard", "zh") == "shipyard"
    assert label("security_grade", 4, "zh") == "4"
    assert bilingual("role", "auditor") == "auditor"
    assert not is_known("role", "auditor")


def test_unknown_kind_raises_naming_it() -> None:
    with pytest.raises(KeyError, match="colour_scheme"):
        label("colour_scheme", "red", "en")
    with pytest.raises(KeyError, match="colour_scheme"):
        choices("colour_scheme")
    with pytest.raises(KeyError, match="colour_scheme"):
        bilingual("colour_scheme", "red")


def test_unknown_language_raises() -> None:
    assert LANGS == ("en", "zh")
    with pytest.raises(ValueError, match="fr"):
        label("dimension", "accuracy", "fr")


def test_docstring_examples() -> None:
    result = doctest.testmod(i18n)
    assert result.attempted > 0
    assert result.failed == 0
