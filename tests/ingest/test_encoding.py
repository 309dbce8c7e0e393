from __future__ import annotations

import random
from array import array
from dataclasses import dataclass

import pytest

from ingest import encoding
from ingest.encoding import DetectedEncoding, detect_encoding

GERMAN = (
    ["P-101.Lagertemperatur", "M-12.Drehzahl", "K-3.Kühlwasser"],
    ["Lagertemperatur zu hoch (> 80 °C)", "Pumpe läuft", "Störung Kühlkreislauf – Ventil geöffnet", "Öldruck niedrig"],
)
GERMAN_CP1252 = (GERMAN[0], [*GERMAN[1], "Energiekosten 12 € je Stunde", "Motor überhitzt – Abschaltung"])
GERMAN_LATIN1 = (GERMAN[0], ["Lagertemperatur zu hoch (> 80 °C)", "Pumpe läuft", "Spaltmaß 5 µm", "Motor überhitzt"])
CHINESE = (
    ["泵P101.轴承温度", "离心泵P2.出口压力", "电机M3.转速"],
    ["轴承温度 高 报警", "离心泵 电机 运行", "正常", "电机 过载 报警"],
)
JAPANESE = (
    ["ポンプP101.軸受温度", "モーターM3.回転数"],
    ["軸受温度 高 警報", "ポンプ 運転中", "正常", "モーター 過負荷 警報"],
)
KOREAN = (
    ["펌프P101.베어링온도", "모터M3.회전수"],
    ["베어링 온도 높음 경보", "펌프 운전 중", "정상", "모터 과부하 경보"],
)
ASCII = (["P-101.BearingTemp", "M-12.Speed"], ["Bearing temperature high", "Pump running", "Motor overload"])


def _rows(n: int, words: tuple[list[str], list[str]], seed: int = 1, start: int = 0) -> str:
    """`n` rows of a `timestamp;tag;value;message` historian export, with a header when `start` is 0."""
    rng, (tags, messages) = random.Random(seed), words
    lines = ["timestamp;tag;value;message"] if start == 0 else []
    for i in range(start, start + n):
        stamp = f"2024-03-{1 + i // 86400 % 28:02d} {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
        lines.append(f"{stamp};{rng.choice(tags)};{rng.uniform(10, 90):.2f};{rng.choice(messages)}")
    return "\r\n".join(lines) + "\r\n"


def _detect(data: bytes) -> DetectedEncoding:
    return detect_encoding(lambda offset, length: data[offset : offset + length], len(data))


@pytest.mark.parametrize(
    ("words", "codec", "expected", "how"),
    [
        (GERMAN, "utf-8", "utf-8", "utf-8"),
        (GERMAN, "utf-8-sig", "utf-8-sig", "bom"),
        (GERMAN_CP1252, "cp1252", "cp1252", "detected"),
        (GERMAN_LATIN1, "latin-1", "cp1252", "detected"),
        (CHINESE, "gb18030", "gb18030", "detected"),
        (CHINESE, "gbk", "gb18030", "detected"),
        (JAPANESE, "shift_jis", "cp932", "detected"),
        (KOREAN, "cp949", "cp949", "detected"),
        (GERMAN, "utf-16", "utf-16", "bom"),
        (GERMAN, "utf-16-le", "utf-16-le", "detected"),
        (CHINESE, "utf-16-be", "utf-16-be", "detected"),
        (ASCII, "ascii", "utf-8", "ascii"),
    ],
)
@pytest.mark.parametrize("rows", [5, 12, 30])
def test_short_exports_decode_to_their_text(
    words: tuple[list[str], list[str]], codec: str, expected: str, how: str, rows: int
) -> None:
    text = _rows(rows, words)
    data = text.encode(codec)
    detected = _detect(data)
    assert data.decode(detected.encoding) == text
    assert (detected.encoding, detected.how) == (expected, how)
    assert 0.0 < detected.confidence <= 1.0


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(7).randbytes(20_000),
        bytes(64 << 10),
        array("H", random.Random(7).choices(range(256), k=20_000)).tobytes(),  # 16-bit counts: NULs like UTF-16
    ],
    ids=["png", "nul-filled", "uint16"],
)
def test_binary_falls_back_to_utf8(data: bytes) -> None:
    assert _detect(data) == DetectedEncoding("utf-8", "fallback", 0.0)


@dataclass
class _Match:
    encoding: str
    chaos: float = 0.0

    @property
    def could_be_from_charset(self) -> list[str]:
        return [self.encoding]


class _Matches(list[_Match]):
    """The part of charset-normalizer's `CharsetMatches` that `detect_encoding` uses."""

    def best(self) -> _Match | None:
        return self[0] if self else None


def test_an_answer_that_does_not_decode_the_sample_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding, "from_bytes", lambda sample: _Matches([_Match("ascii")]))
    assert _detect(_rows(5, GERMAN_CP1252).encode("cp1252")) == DetectedEncoding("utf-8", "fallback", 0.0)


@pytest.mark.parametrize(
    ("reported", "text", "codec", "expected"),
    [
        ("gbk", _rows(5, CHINESE), "gbk", "gb18030"),
        ("gb2312", _rows(5, CHINESE), "gb2312", "gb18030"),
        ("shift_jis", _rows(5, JAPANESE), "shift_jis", "cp932"),
        ("latin_1", _rows(5, GERMAN_LATIN1), "latin-1", "cp1252"),
        ("latin_1", "timestamp;tag;value;message\r\n2024-03-01;P-101;1.0;Ger\x81t\r\n", "latin-1", "iso8859-1"),
    ],
)
def test_subset_answers_are_widened_to_the_superset_when_it_decodes(
    monkeypatch: pytest.MonkeyPatch, reported: str, text: str, codec: str, expected: str
) -> None:
    """charset-normalizer rarely answers with a subset today; the widening must hold if it ever does."""
    monkeypatch.setattr(encoding, "from_bytes", lambda sample: _Matches([_Match(reported)]))
    data = text.encode(codec)
    detected = _detect(data)
    assert detected.encoding == expected and data.decode(detected.encoding) == text


def _big(special: str, where: float, size: int = 5 << 20) -> str:
    """At least `size` bytes of ASCII rows with the `special` rows inserted at fraction `where` of the file."""
    rows = _rows(size // 60, ASCII)
    cut = rows.index("\r\n", int(len(rows) * where)) + 2
    return rows[:cut] + special + rows[cut:]


@pytest.mark.parametrize(
    ("special", "codec", "expected"),
    [
        ("2024-03-28 23:00:00;K-3.Kühlwasser;12.50;Störung Kühlkreislauf\r\n", "cp1252", "cp1252"),
        (_rows(2, CHINESE, start=50_000), "gb18030", "gb18030"),
        (_rows(2, JAPANESE, start=50_000), "shift_jis", "cp932"),
    ],
    ids=["one-umlaut", "two-chinese-rows", "two-japanese-rows"],
)
def test_rare_non_ascii_rows_near_the_end_are_found_by_the_tail_sample(special: str, codec: str, expected: str) -> None:
    """Only the non-ASCII lines go to charset-normalizer: among 2 MiB of ASCII it misreads these rows."""
    text = _big(special, where=0.99)
    data = text.encode(codec)
    detected = _detect(data)
    assert (detected.encoding, detected.how) == (expected, "detected")
    assert data.decode(detected.encoding) == text


def test_umlauts_only_in_the_middle_are_found_by_the_chunk_samples() -> None:
    shift = _rows(15_000, GERMAN_CP1252, seed=3, start=40_000)  # ~900 KB of one shift's messages
    text = _big(shift, where=0.4)
    data = text.encode("cp1252")
    assert data[: 1 << 20].isascii() and data[-(256 << 10) :].isascii()
    detected = _detect(data)
    assert (detected.encoding, detected.how) == ("cp1252", "detected")
    assert data.decode(detected.encoding) == text


@pytest.mark.parametrize(("codec", "how"), [("utf-8", "utf-8"), ("gb18030", "detected")])
def test_chunks_cutting_multibyte_characters_are_trimmed_to_whole_lines(codec: str, how: str) -> None:
    text = _rows(120_000, CHINESE)  # every row has CJK characters, so most chunk offsets split one
    data = text.encode(codec)
    reads: list[int] = []

    def read(offset: int, length: int) -> bytes:
        reads.append(length)
        return data[offset : offset + length]

    detected = detect_encoding(read, len(data))
    assert (detected.encoding, detected.how) == (codec, how) and data.decode(detected.encoding) == text
    assert len(data) > 4 << 20 and sum(reads) <= (1 << 20) + 5 * (256 << 10)
