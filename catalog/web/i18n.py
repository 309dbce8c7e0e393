"""English and Chinese labels of the standards' vocabularies, for the web catalog's pages and charts.

The tables are keyed by the values of the enums that define each vocabulary (`catalog.vocabulary`,
`quality.dimensions`, `config.people`), so a test can check that every member has both labels. Data may hold a
value newer than this table: `label` then shows the value itself rather than failing.

>>> label("dimension", "completeness", "zh")
'完整性'
>>> label("security_grade", 2, "en")
'Grade 2 · important'
>>> bilingual("dimension", "completeness")
'Completeness 完整性'
>>> label("domain", "shipyard", "zh")
'shipyard'
"""

from __future__ import annotations

from enum import Enum
from typing import Final, Literal

from catalog.vocabulary import AXES, BusinessDomain, DataType, Modality, Scenario, SecurityGrade
from config.people import Role
from quality.dimensions import GRADE_THRESHOLDS, Dimension

Lang = Literal["en", "zh"]
LANGS: Final[tuple[Lang, ...]] = ("en", "zh")

ACCESS: Final[tuple[str, ...]] = ("read", "read_on_approval", "manage", "approve")
"""The access levels `catalog/rules.yaml` grants (no enum defines them yet)."""

LINEAGE_KINDS: Final[tuple[str, ...]] = (
    "source_file",
    "standardised",
    "gated",
    "release",
    "dataset_version",
    "annotation_project",
)
"""The node kinds of the catalog's `lineage_edges` (written by catalog/publish.py and catalog/labels.py)."""

_Labels = dict[str, tuple[str, str]]

_DIMENSION_EN: Final[dict[Dimension, str]] = {
    Dimension.CONFORMITY: "Conformity",
    Dimension.COMPLETENESS: "Completeness",
    Dimension.ACCURACY: "Accuracy",
    Dimension.CONSISTENCY: "Consistency",
    Dimension.TIMELINESS: "Timeliness",
    Dimension.ACCESSIBILITY: "Accessibility",
}

_GBT_43697: Final[_Labels] = {
    "general": ("General", "一般"),
    "important": ("Important", "重要"),
    "core": ("Core", "核心"),
}

_CHINESE_NUMERALS: Final[dict[int, str]] = {1: "一", 2: "二", 3: "三"}

_DOMAIN: Final[_Labels] = {
    BusinessDomain.RD: ("R&D", "研发"),
    BusinessDomain.PRODUCTION: ("Production", "生产"),
    BusinessDomain.OPERATION_MAINTENANCE: ("Operation and maintenance", "运维"),
    BusinessDomain.MANAGEMENT: ("Management", "管理"),
    BusinessDomain.EXTERNAL: ("External", "外部"),
}

_DATA_TYPE: Final[_Labels] = {
    DataType.TIME_SERIES: ("Time series", "时序数据"),
    DataType.EVENT: ("Event", "事件"),
    DataType.TRANSACTION_RECORD: ("Transaction record", "业务记录"),
    DataType.FREE_TEXT: ("Free text", "文本"),
    DataType.IMAGE: ("Image", "图像"),
    DataType.MASTER_DATA: ("Master data", "主数据"),
}

_SCENARIO: Final[_Labels] = {
    Scenario.RD_DESIGN: ("R&D and design", "研发设计"),
    Scenario.PILOT_VERIFICATION: ("Pilot verification", "中试验证"),
    Scenario.PRODUCTION_MANUFACTURING: ("Production and manufacturing", "生产制造"),
    Scenario.MARKETING_SERVICE: ("Marketing service", "营销服务"),
    Scenario.OPERATION_MAINTENANCE: ("Operation and maintenance management", "运维管理"),
}

_MODALITY: Final[_Labels] = {
    Modality.TIME_SERIES: ("Time series", "时序"),
    Modality.TABULAR: ("Tabular", "表格"),
    Modality.TEXT: ("Text", "文本"),
    Modality.IMAGE: ("Image", "图像"),
    Modality.AUDIO: ("Audio", "音频"),
}

_ACCESS: Final[_Labels] = {
    "read": ("Read", "读取"),
    "read_on_approval": ("Read on approval", "审批后读取"),
    "manage": ("Manage", "管理"),
    "approve": ("Approve", "审批"),
}

# Keyed by plain strings: `employee` and `ai_project_member` are labelled before config.people.Role has them.
_ROLE: Final[_Labels] = {
    "employee": ("Employee", "员工"),
    "annotator": ("Annotator", "标注员"),
    "reviewer": ("Reviewer", "审核员"),
    "steward": ("Data steward", "数据管理员"),
    "data_engineer": ("Data engineer", "数据工程师"),
    "ai_project_member": ("AI project member", "AI项目成员"),
    "chief_data_officer": ("Chief data officer", "首席数据官"),
}

_QUALITY_GRADE_ZH: Final[dict[str, str]] = {"A": "A 优", "B": "B 良", "C": "C 中", "D": "D 差"}

_LINEAGE_KIND: Final[_Labels] = {
    "source_file": ("Source file", "源文件"),
    "standardised": ("Standardised", "标准化"),
    "gated": ("Gated", "已质检"),
    "release": ("Release", "发布"),
    "dataset_version": ("Dataset version", "数据集版本"),
    "annotation_project": ("Annotation project", "标注项目"),
}

_KIND: Final[_Labels] = {
    "dimension": ("Quality dimension", "质量维度"),
    "security_grade": ("Security grade", "安全级别"),
    "gbt_43697": ("GB/T 43697 level", "GB/T 43697 级别"),
    "domain": ("Business domain", "业务域"),
    "data_type": ("Data type", "数据类型"),
    "scenario": ("Application scenario", "应用场景"),
    "modality": ("Modality", "模态"),
    "access": ("Access", "访问权限"),
    "role": ("Role", "角色"),
    "quality_grade": ("Quality grade", "质量等级"),
    "lineage_kind": ("Lineage node kind", "血缘节点类型"),
    "kind": ("Vocabulary", "词表"),
}

ENUMS: Final[dict[str, type[Enum]]] = {
    "dimension": Dimension,
    "security_grade": SecurityGrade,
    **AXES,
    "role": Role,
}
"""The enum behind each kind that has one: every member must have a label in both languages."""


def _security_grades() -> _Labels:
    labels: _Labels = {}
    for grade in SecurityGrade:
        if int(grade) not in _CHINESE_NUMERALS:
            continue
        en, zh = _GBT_43697[grade.gbt_43697]
        labels[str(int(grade))] = (f"Grade {int(grade)} · {en.lower()}", f"{_CHINESE_NUMERALS[int(grade)]}级 · {zh}")
    return labels


def _dimensions() -> _Labels:
    labels: _Labels = {d.value: (_DIMENSION_EN[d], d.chinese) for d in Dimension if d in _DIMENSION_EN}
    # Not a GB/T 36344 dimension (so not among the choices), but quality tables and charts show it beside them.
    labels["overall"] = ("Overall", "综合")
    return labels


def _by_value(table: _Labels) -> _Labels:
    return {str(key): value for key, value in table.items()}


_TABLES: Final[dict[str, _Labels]] = {
    "dimension": _dimensions(),
    "security_grade": _security_grades(),
    "gbt_43697": _GBT_43697,
    "domain": _by_value(_DOMAIN),
    "data_type": _by_value(_DATA_TYPE),
    "scenario": _by_value(_SCENARIO),
    "modality": _by_value(_MODALITY),
    "access": _ACCESS,
    "role": _ROLE,
    "quality_grade": {letter: (letter, _QUALITY_GRADE_ZH.get(letter, letter)) for letter, _ in GRADE_THRESHOLDS},
    "lineage_kind": _LINEAGE_KIND,
    "kind": _KIND,
}


KINDS: Final[tuple[str, ...]] = tuple(_TABLES)
"""The vocabularies `label` knows."""

_EXTRA_CHOICES: Final[dict[str, tuple[str, ...]]] = {"role": ("employee", "ai_project_member")}
"""Labelled values an enum may not have yet; they follow the enum's own members among the choices."""

_LANG_INDEX: Final[dict[str, int]] = {lang: index for index, lang in enumerate(LANGS)}


def _key(value: object) -> str:
    if isinstance(value, Enum):
        value = value.value
    return str(value)


def _table(kind: str) -> _Labels:
    try:
        return _TABLES[kind]
    except KeyError:
        raise KeyError(f"unknown vocabulary kind {kind!r}; known kinds: {', '.join(_TABLES)}") from None


def _index(lang: str) -> int:
    try:
        return _LANG_INDEX[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}") from None


def label(kind: str, value: str | int | Enum, lang: str) -> str:
    """The display label of `value` of vocabulary `kind` in `lang` ("en" or "zh").

    Args:
        kind: one of the vocabularies, e.g. "dimension", "security_grade", "domain", "role".
        value: the stored value (an enum member, its value, or a grade as int or str).
        lang: "en" or "zh".

    Returns:
        The label; the value itself as a string when the table does not know it.

    Raises:
        KeyError: `kind` is not a known vocabulary.
        ValueError: `lang` is not one of `LANGS`.
    """
    table = _table(kind)
    index = _index(lang)
    key = _key(value)
    found = table.get(key)
    return key if found is None else found[index]


def bilingual(kind: str, value: str | int | Enum) -> str:
    """ "English 中文" for places that show both, e.g. "Completeness 完整性"; one label when both read the same."""
    table = _table(kind)
    key = _key(value)
    found = table.get(key)
    if found is None:
        return key
    en, zh = found
    if en == zh or zh.startswith(f"{en} "):
        return zh
    return f"{en} {zh}"


def choices(kind: str) -> list[str]:
    """The known values of `kind`, in the order of the enum that defines it (table order otherwise)."""
    table = _table(kind)
    if kind not in ENUMS:
        return list(table)
    members = [_key(member) for member in ENUMS[kind]]
    return members + [value for value in _EXTRA_CHOICES.get(kind, ()) if value not in members]


def is_known(kind: str, value: str | int | Enum) -> bool:
    """Whether `value` has labels of its own (rather than falling back to itself)."""
    return _key(value) in _table(kind)
