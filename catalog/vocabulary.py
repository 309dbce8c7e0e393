"""The fixed classification axes and security grades (MIIT 2020 guide, GB/T 43697-2024), in one place."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class BusinessDomain(StrEnum):
    """MIIT 2020 industrial data classification: business domains of an industrial enterprise."""

    RD = "rd"  # 研发
    PRODUCTION = "production"  # 生产
    OPERATION_MAINTENANCE = "operation_maintenance"  # 运维
    MANAGEMENT = "management"  # 管理
    EXTERNAL = "external"  # 外部


class DataType(StrEnum):
    TIME_SERIES = "time_series"
    EVENT = "event"
    TRANSACTION_RECORD = "transaction_record"
    FREE_TEXT = "free_text"
    IMAGE = "image"
    MASTER_DATA = "master_data"


class Scenario(StrEnum):
    """The five application scenarios of the AI + manufacturing programme."""

    RD_DESIGN = "rd_design"
    PILOT_VERIFICATION = "pilot_verification"
    PRODUCTION_MANUFACTURING = "production_manufacturing"
    MARKETING_SERVICE = "marketing_service"
    OPERATION_MAINTENANCE = "operation_maintenance"


class Modality(StrEnum):
    TIME_SERIES = "time_series"
    TABULAR = "tabular"
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"


class SecurityGrade(IntEnum):
    """MIIT 2020 grades by the impact of leakage or tampering; see `gbt_43697` for the national level."""

    GRADE_1 = 1
    GRADE_2 = 2
    GRADE_3 = 3

    @property
    def gbt_43697(self) -> str:
        """Documented mapping: grade 1 -> general 一般, grade 2 -> important 重要, grade 3 -> core 核心."""
        return {1: "general", 2: "important", 3: "core"}[int(self)]


AXES: dict[str, type[StrEnum]] = {
    "domain": BusinessDomain,
    "data_type": DataType,
    "scenario": Scenario,
    "modality": Modality,
}
