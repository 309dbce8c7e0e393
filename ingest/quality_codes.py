"""Reading quality as historians export it, turned into a numeric code and a good / uncertain / bad class.

Exports write quality as OPC DA bytes (192), OPC UA status codes in hex or decimal (`0x80000000`,
`2147483648`, sometimes signed: `-2147483648`), OPC UA status names (`BadSensorFailure`) or words
(`Good`, `Questionable`, `Substituted`). OPC UA puts the class in the top two bits of the 32-bit code
(00 good, 01 uncertain, 10 bad); OPC DA in bits 6-7 of the byte (11 good, 01 uncertain, 00 bad).
Words and status names keep the base code of their class (OPC UA), unless the source's map gives one.
"""

from __future__ import annotations

from config.sources import QualityCode, QualityCodeOptions

OPC_UA_BASE = {"good": 0, "uncertain": 0x40000000, "bad": 0x80000000}
HISTORIAN_WORDS: dict[str, str] = {
    "good": "good",
    "ok": "good",
    "valid": "good",
    "normal": "good",
    "uncertain": "uncertain",
    "questionable": "uncertain",
    "suspect": "uncertain",
    "doubtful": "uncertain",
    "substituted": "uncertain",
    "substitute": "uncertain",
    "manual": "uncertain",
    "estimated": "uncertain",
    "interpolated": "uncertain",
    "bad": "bad",
    "invalid": "bad",
    "error": "bad",
    "commfail": "bad",
    "comm fail": "bad",
    "communication failure": "bad",
    "notconnected": "bad",
    "not connected": "bad",
    "no data": "bad",
    "nodata": "bad",
    "i/o timeout": "bad",
    "offline": "bad",
    "out of service": "bad",
    "shutdown": "bad",
}
_HEX = r"^0X[0-9A-F]{1,8}$"


def _words(options: QualityCodeOptions) -> dict[str, tuple[int, str]]:
    words = {word: (OPC_UA_BASE[cls], cls) for word, cls in HISTORIAN_WORDS.items()}
    for word, meaning in options.map.items():
        if isinstance(meaning, QualityCode):
            words[_normal(word)] = (meaning.code, meaning.quality_class)
        else:
            words[_normal(word)] = (OPC_UA_BASE[meaning], meaning)
    return words


def _normal(word: str) -> str:
    return " ".join(word.strip().lower().split())


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quality_sql(column_sql: str, options: QualityCodeOptions) -> tuple[str, str]:
    """SQL (code BIGINT, class VARCHAR) for a text quality column; both NULL when the text is not a known code.

    A NULL quality stays NULL (no quality column, or an empty cell): only unknown text is a problem.
    """
    text = f"lower(trim(regexp_replace({column_sql}, '\\s+', ' ', 'g')))"
    words = _words(options)
    word_codes = "MAP {" + ", ".join(f"{_literal(w)}: {code}" for w, (code, _) in words.items()) + "}"
    word_classes = "MAP {" + ", ".join(f"{_literal(w)}: {_literal(c)}" for w, (_, c) in words.items()) + "}"
    number = f"TRY_CAST(trim({column_sql}) AS BIGINT)"
    unsigned = f"(CASE WHEN {number} < 0 AND {number} >= -2147483648 THEN {number} + 4294967296 ELSE {number} END)"
    is_hex = f"regexp_matches(upper(trim({column_sql})), '{_HEX}')"
    ua_numeric = {"auto": f"({is_hex} OR {unsigned} > 255)", "opc_ua": "true", "opc_da": f"{is_hex}"}[options.numeric]
    ua_class = f"CASE ({unsigned} >> 30) WHEN 0 THEN 'good' WHEN 1 THEN 'uncertain' ELSE 'bad' END"
    da_class = f"CASE ({unsigned} >> 6) & 3 WHEN 3 THEN 'good' WHEN 1 THEN 'uncertain' ELSE 'bad' END"
    name_class = (
        f"CASE WHEN starts_with({text}, 'good') THEN 'good' WHEN starts_with({text}, 'uncertain') THEN 'uncertain' "
        f"WHEN starts_with({text}, 'bad') THEN 'bad' END"
    )
    in_range = f"{unsigned} BETWEEN 0 AND 4294967295 AND ({ua_numeric} OR {unsigned} <= 255)"
    code = (
        f"CASE WHEN {column_sql} IS NULL THEN NULL "
        f"WHEN {in_range} THEN {unsigned} "
        f"WHEN {word_codes}[{text}] IS NOT NULL THEN {word_codes}[{text}] "
        f"WHEN {name_class} IS NOT NULL THEN "
        f"CASE {name_class} WHEN 'good' THEN 0 WHEN 'uncertain' THEN {OPC_UA_BASE['uncertain']} "
        f"ELSE {OPC_UA_BASE['bad']} END END"
    )
    class_ = (
        f"CASE WHEN {column_sql} IS NULL THEN NULL "
        f"WHEN {in_range} THEN CASE WHEN {ua_numeric} THEN {ua_class} ELSE {da_class} END "
        f"WHEN {word_classes}[{text}] IS NOT NULL THEN {word_classes}[{text}] "
        f"ELSE {name_class} END"
    )
    return code, class_
