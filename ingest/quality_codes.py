"""Reading quality as historians export it, turned into a numeric code and a good / uncertain / bad class.

Exports write quality as OPC DA bytes (192), OPC UA status codes in hex or decimal (`0x80000000`,
`2147483648`, sometimes signed: `-2147483648`), OPC UA status names (`BadSensorFailure`) or words
(`Good`, `Questionable`, `Substituted`). OPC UA puts the class in the top two bits of the 32-bit code
(00 good, 01 uncertain, 10 bad); OPC DA in bits 6-7 of the byte (11 good, 01 uncertain, 00 bad).
Words and status names keep the base code of their class (OPC UA), unless the source's map gives one.

The SQL runs on every reading, so numbers (almost every historian) take one cast and some bit arithmetic;
only text that is not a number reaches the word table.
"""

from __future__ import annotations

from config.sources import QualityCode, QualityCodeOptions
from config.sql import sql_literal

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


def _numbers(options: QualityCodeOptions) -> dict[int, tuple[int, str]]:
    """Codes the source's map gives a meaning by number ('128' and '0x80' are the same code): they win over the
    OPC DA and UA rules (a historian's own numbering)."""
    found: dict[int, tuple[int, str]] = {}
    for key, meaning in options.map.items():
        try:
            number = int(key.strip(), 0)
        except ValueError:
            continue
        number = number + 4294967296 if number < 0 else number
        found[number] = (meaning.code, meaning.quality_class) if isinstance(meaning, QualityCode) else (number, meaning)
    return found


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


# How the reader types a quality column it may type: DuckDB reads decimal numbers as DECIMAL exactly as its BIGINT
# cast reads text ('1e2', '192.0', ' 192'), but rejects hex ('0x40') and binary, which BIGINT would take. Hex marks an
# OPC UA code (see `quality_sql`), which the number alone cannot tell: such a file is read with quality as text.
TYPED_QUALITY = "DECIMAL(18,0)"


def quality_number_sql(column_sql: str, typed: bool = False) -> str:
    """The quality as an unsigned number (decimal or 0x-hex; a signed 32-bit code made unsigned); NULL for words.

    `typed`: DuckDB's reader typed the column as `TYPED_QUALITY` (every quality of the file is a decimal number),
    which spares the scan a text copy and two casts per reading."""
    # DuckDB's cast skips blanks around a decimal number itself; only hex with blanks needs the trimmed copy
    number = (
        f"{column_sql}::BIGINT"
        if typed
        else f"COALESCE(TRY_CAST({column_sql} AS BIGINT), TRY_CAST(trim({column_sql}) AS BIGINT))"
    )
    return f"(CASE WHEN {number} < 0 THEN {number} + 4294967296 ELSE {number} END)"


QUALITY_CLASSES = ("good", "uncertain", "bad")


def quality_sql(
    column_sql: str, number_sql: str, options: QualityCodeOptions, enum: str, typed: bool = False
) -> tuple[str, str, str]:
    """SQL (code BIGINT, class as ENUM type `enum` of QUALITY_CLASSES, known) for a text quality column whose number
    is `number_sql` (computed once, by `quality_number_sql`); code and class are NULL when the text is not a known
    code, and `known` is false exactly then (a NULL quality is known: it stays NULL). The class is an ENUM: one byte
    a reading, nearly free, where text costs a third more. `known` tests a number's range only (every number in
    range has a class), so filtering good rows does not compute the class a second time."""
    # a text that reads as a number holds an 'x' only as its hex prefix: a byte search, not a lower-cased copy
    hexadecimal = "false" if typed else f"(strpos({column_sql}, 'x') + strpos({column_sql}, 'X') > 0)"
    ua = {"auto": f"({number_sql} > 255 OR {hexadecimal})", "opc_ua": "true", "opc_da": hexadecimal}[options.numeric]
    in_range = f"{number_sql} BETWEEN 0 AND 4294967295"
    if options.numeric == "opc_da":  # decimal numbers above a byte are no OPC DA quality
        in_range = f"{in_range} AND ({ua} OR {number_sql} <= 255)"
    ua_class = f"(['good', 'uncertain', 'bad', 'bad']::{enum}[])[({number_sql} >> 30) + 1]"
    da_class = f"(['bad', 'uncertain', 'bad', 'good']::{enum}[])[(({number_sql} >> 6) & 3) + 1]"
    text = f"lower(trim(regexp_replace({column_sql}, '\\s+', ' ', 'g')))"
    words = _words(options)
    word_code = " ".join(f"WHEN {sql_literal(w)} THEN {code}" for w, (code, _) in words.items())
    word_class = " ".join(f"WHEN {sql_literal(w)} THEN {sql_literal(cls)}::{enum}" for w, (_, cls) in words.items())
    prefix = " ".join(f"WHEN starts_with({text}, '{c}') THEN '{c}'::{enum}" for c in QUALITY_CLASSES)
    prefix_code = " ".join(f"WHEN starts_with({text}, '{c}') THEN {OPC_UA_BASE[c]}" for c in QUALITY_CLASSES)
    numbers = _numbers(options)
    number_code, number_class = number_sql, f"CASE WHEN {ua} THEN {ua_class} ELSE {da_class} END"
    if numbers:  # the source's own numbering first
        listed = ", ".join(str(n) for n in numbers)
        in_range = f"({number_sql} IN ({listed}) OR {in_range})"
        mapped_code = " ".join(f"WHEN {n} THEN {code}" for n, (code, _) in numbers.items())
        mapped_class = " ".join(f"WHEN {n} THEN {sql_literal(cls)}::{enum}" for n, (_, cls) in numbers.items())
        number_code = f"CASE {number_sql} {mapped_code} ELSE {number_sql} END"
        number_class = f"CASE {number_sql} {mapped_class} ELSE {number_class} END"
    if typed:  # a typed column holds numbers only: no word table
        code = f"CASE WHEN {in_range} THEN {number_code} END"
        class_ = f"CASE WHEN {in_range} THEN {number_class} END"
        return code, class_, f"({column_sql} IS NULL OR COALESCE({in_range}, false))"
    code = (
        f"CASE WHEN {column_sql} IS NULL THEN NULL WHEN {number_sql} IS NOT NULL THEN "
        f"CASE WHEN {in_range} THEN {number_code} END "
        f"ELSE CASE {text} {word_code} ELSE CASE {prefix_code} END END END"
    )
    class_ = (
        f"CASE WHEN {column_sql} IS NULL THEN NULL WHEN {number_sql} IS NOT NULL THEN "
        f"CASE WHEN {in_range} THEN {number_class} END "
        f"ELSE CASE {text} {word_class} ELSE CASE {prefix} END END END"
    )
    known = (
        f"CASE WHEN {column_sql} IS NULL THEN true WHEN {number_sql} IS NOT NULL THEN COALESCE({in_range}, false) "
        f"ELSE (CASE {text} {word_class} ELSE CASE {prefix} END END) IS NOT NULL END"
    )
    return code, class_, known
