"""An evaluation set for the personal-data scan: plant texts with planted personal data and where each value is.

It is written apart from the demo plant on purpose (nothing here imports `demo_plant`): other templates, other
people, three languages (English, German, Chinese; Chinese names in Han script and in pinyin), and none of the
words the recognizers take as cues for a name (`called`, `by`, `with`, `Herr`, `an`, `mit`, ... see
`catalog.pii.recognizers`), so a recognizer scores here only for what it finds in the value itself. Texts without
personal data but full of plant codes, numbers, dates and capitalised equipment words measure precision; the
Chinese ones hold equipment words whose first character is a common surname (温度, 高压, 马达, 黄油, ...).

Planted values, by entity type: person names (on and off the roster), e-mails, phone numbers (international,
00-prefixed, national with and without separators, Chinese mobiles, French pairs), employee ids in two shapes
(`EMP-004711` from the prefix setting and `MA204711` from a configured pattern), badge numbers and vehicle
plates (configured identifiers) and IBANs (Presidio's recognizer). Deterministic for a seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# What this plant would write under `privacy.identifiers` (name, pattern, example).
IDENTIFIERS = (
    ("employee_id", r"\bMA\d{6}\b", "MA204711"),
    ("badge", r"\bAW-\d{5}-[A-Z]\b", "AW-20471-K"),
    (
        "vehicle_plate",
        r"\b[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} \d{1,4}[EH]?\b|[京沪津渝冀豫辽鲁苏浙粤川鄂湘皖闽陕][A-Z]·?[A-Z0-9]{5}\b",
        "M-AB 1234",
    ),
)
EMPLOYEE_ID_PREFIXES = ("EMP",)


@dataclass(frozen=True)
class Planted:
    """One planted value: its span in the text, entity type, and the form it was written in."""

    start: int
    end: int
    entity: str
    form: str
    on_roster: bool = False


@dataclass(frozen=True)
class Sample:
    text: str
    planted: tuple[Planted, ...]
    language: str


@dataclass(frozen=True)
class Corpus:
    samples: tuple[Sample, ...]
    roster: tuple[str, ...]  # names the scanner is given as the personnel roster

    @property
    def planted(self) -> int:
        return sum(len(s.planted) for s in self.samples)


def _words(*lines: str) -> tuple[str, ...]:
    return tuple(word for line in lines for word in line.split())


@dataclass(frozen=True)
class _Person:
    written: str  # as it appears in text
    form: str  # latin name, pinyin name, han name, family-first name
    email_local: str
    on_roster: bool


EN_GIVEN = _words(
    "Emily James Oliver Grace Sarah Daniel Hannah Rachel Owen Chloe Liam Megan Patrick Fiona Gareth Siobhan Connor",
    "Imogen Nadia Tobias Aisha Rahul Keisha Mateusz",
)
EN_FAMILY = _words(
    "Thompson Walker O'Brien Fitzgerald Harrington McAllister Davies Hughes Pritchard Whitfield Ashworth Coleman",
    "Brennan Sutherland Kowalczyk Okafor Patel Fernandes Rossi Novak Mbeki Lindqvist",
)
DE_GIVEN = _words(
    "Jürgen Günther Sabine Uwe Wolfgang Birgit Dörte Björn Jörg Ingrid Klaus Renate Matthias Ursula Heike Sven",
    "Kerstin Lars Ömer Zoë Hans-Peter Anna-Lena",
)
DE_FAMILY = _words(
    "Müller Schäfer Größmann Weiß Köhler Krüger Schröder Böhm Brandt Lehmann Wagner Zimmermann Schulze Kühn Vogt",
    "Jäger Böttcher Fuchs Löffler Meißner Müller-Lüdenscheidt Özdemir",
)
PINYIN_FAMILY = _words("Wang Li Zhang Liu Chen Yang Zhao Huang Zhou Wu Xu Sun Zhu Hu Guo Lin Luo Gao Zheng Liang")
PINYIN_GIVEN = _words(
    "Wei Na Min Jing Lei Jie Qiang Ming Lihua Chao Ting Jun Xiaodong Ping Feng Tao Bin Hao Yu Juan Xin Yan",
    "Jianguo Xiuying Zhiqiang Yifan",
)
HAN_NAMES = _words(
    "王伟 王芳 李娜 张敏 李静 王秀英 刘洋 陈静 杨帆 赵磊 黄丽 周杰 吴强 徐明 孙丽华 马超",
    "朱婷 胡军 郭晓东 何平 高峰 林涛 罗斌 郑浩 梁宇 谢娟 宋佳 唐敏 许阳 韩雪 冯刚 邓超",
    "曹颖 彭亮 曾志强 肖鹏 田甜 董建华 袁媛 潘婷 蒋勇 蔡明 余华 杜鹃 程龙 魏巍 任重 姚明",
    "卢伟 姜文 崔健 钟南山 谭晶 陆毅 汪洋 金星 石磊 欧阳娜娜 司马俊 上官婉 诸葛明 方芳 白雪 孔亮",
)
_PINYIN_OF = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "ß": "ss", "Ö": "Oe", "ë": "e", "'": "", "-": ""})

EQUIPMENT = _words(
    "P-101 P-102A M-302 K-7 C-3 V-202 HX-401 FAN-12 CV-2207 GB-5 BL-3 TK-880 AG-14 DR-2 CT-1 ST-03",
    "P103.BRG_TEMP_DE FIC-1001.PV TI-4711 LIC-20.SP",
)
PLACES = ("Cooling Tower Fan", "Feed Water Heater", "North Gate", "Control Room", "Boiler House", "Werk Süd")
PLACES_DE = ("Halle Drei", "Kesselhaus", "Leitwarte", "Tor Nord", "Pumpenhaus", "Kühlturm")
DOMAINS = (
    "werk-sued.local",
    "site.intra",
    "plant-ops.example",
    "kuehlung-service.de",
    "gmail.com",
    "outlook.com",
    "servicepartner.co.uk",
    "163.com",
    "qq.com",
    "acme-maintenance.com",
    "t-online.de",
    "hydro-tec.at",
)
_SURNAME_WORDS = (
    "温度 高压 高位 马达 黄油 张紧轮 周检 白班 任务 孔板 龙门吊 万用表 石墨 金属 方向阀 常规 许可证 易损件 叶轮"
)


def generate(n_texts: int = 640, seed: int = 20240611) -> Corpus:
    """`n_texts` texts: about four in five with planted personal data (one to three values), the rest none."""
    rng = random.Random(seed)
    people = _people(rng)
    roster = tuple(p.written for p in people if p.on_roster)
    samples: list[Sample] = []
    for index in range(n_texts):
        if index % 5 == 4:
            language, template = rng.choice(_CLEAN)
        else:
            language, template = rng.choice(_TEMPLATES)
        samples.append(_fill(template, language, rng, people))
    return Corpus(tuple(samples), roster)


def _people(rng: random.Random) -> list[_Person]:
    people: list[_Person] = []
    for given, family, form in (
        *((g, f, "latin name") for g, f in _pairs(rng, EN_GIVEN, EN_FAMILY, 40)),
        *((g, f, "latin name") for g, f in _pairs(rng, DE_GIVEN, DE_FAMILY, 40)),
        *((g, f, "pinyin name") for g, f in _pairs(rng, PINYIN_GIVEN, PINYIN_FAMILY, 30)),
    ):
        written = f"{family} {given}" if form == "pinyin name" and rng.random() < 0.5 else f"{given} {family}"
        local = f"{given[0]}.{family}".lower().translate(_PINYIN_OF)
        people.append(_Person(written, form, local, rng.random() < 0.2))
    for name in HAN_NAMES:
        people.append(_Person(name, "han name", f"staff{rng.randrange(100, 999)}", rng.random() < 0.2))
    return people


def _pairs(rng: random.Random, given: Sequence[str], family: Sequence[str], n: int) -> list[tuple[str, str]]:
    pairs = {(rng.choice(given), rng.choice(family)) for _ in range(n * 3)}
    return sorted(pairs)[:n]


# Values ---------------------------------------------------------------------------------------------------------


def _phone(rng: random.Random, language: str) -> tuple[str, str]:
    """A phone number and its form."""

    def digits(n: int) -> str:
        return "".join(str(rng.randrange(10)) for _ in range(n))

    if language == "zh":
        mobile = f"1{rng.choice('3456789')}{digits(9)}"
        return rng.choice(
            [
                (mobile, "cn mobile unseparated"),
                (f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}", "cn mobile grouped"),
                (f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}", "international"),
                (f"+86{mobile}", "international unseparated"),
                (f"021-{digits(8)}", "national separated"),
            ]
        )
    area = rng.choice(["151", "160", "170", "171", "176", "157", "30", "89", "221", "7150"])
    local = digits(11 - len(area))
    choices = [
        (f"+49 {area} {local}", "international"),
        (f"+49{area}{local}", "international unseparated"),
        (f"0049 {area} {local}", "international 00"),
        (f"0{area}/{local}", "national separated"),
        (f"0{area} {local}", "national separated"),
        (f"(0{area}) {local}", "national separated"),
        (f"0{area}{local}", "national unseparated"),
        (f"+44 7{digits(3)} {digits(6)}", "international"),
        (f"07{digits(3)} {digits(6)}", "national separated"),
        (f"07{digits(9)}", "national unseparated"),
        ("+33 6 " + " ".join(digits(2) for _ in range(4)), "international"),
        ("06." + ".".join(digits(2) for _ in range(4)), "national pairs"),
        (f"+90 5{digits(2)} {digits(3)} {digits(2)} {digits(2)}", "international"),
        (f"+1 ({rng.randrange(201, 989)}) {digits(3)}-{digits(4)}", "international"),
        (f"+48{digits(9)}", "international unseparated"),
    ]
    return rng.choice(choices)


def _iban(rng: random.Random) -> str:
    country, bban = rng.choice(
        [
            ("DE", "".join(str(rng.randrange(10)) for _ in range(18))),
            ("AT", "".join(str(rng.randrange(10)) for _ in range(16))),
            ("NL", "ABNA" + "".join(str(rng.randrange(10)) for _ in range(10))),
            ("GB", "NWBK" + "".join(str(rng.randrange(10)) for _ in range(14))),
        ]
    )
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    iban = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.6 else iban


def _plate(rng: random.Random, language: str) -> str:
    if language == "zh":
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        tail = "".join(rng.choice(letters + "0123456789") for _ in range(5))
        return f"{rng.choice('京沪苏浙粤鲁川')}{rng.choice(letters)}{rng.choice(['·', ''])}{tail}"
    city = rng.choice(["M", "HH", "B", "K", "S", "DA", "LU", "MA", "GÖ", "REK"])
    letters = "".join(rng.choice("ABCDEFGHKLMNPRSTUVWXYZ") for _ in range(rng.randint(1, 2)))
    return f"{city}-{letters} {rng.randrange(1, 9999)}{rng.choice(['', '', '', 'E'])}"


def _value(slot: str, language: str, rng: random.Random, people: list[_Person]) -> tuple[str, str, str, bool]:
    """`(text, entity, form, on_roster)` for a planted slot."""
    if slot in ("name", "name2"):
        pool = [p for p in people if p.form != "han name"] if language != "zh" else people
        if language == "zh" and rng.random() < 0.75:
            pool = [p for p in people if p.form == "han name"]
        person = rng.choice(pool)
        written = person.written
        if person.form == "latin name" and rng.random() < 0.08:  # family name first, as HR lists write it
            given, _, family = written.partition(" ")
            return f"{family}, {given}", "PERSON", "family-first name", person.on_roster
        return written, "PERSON", person.form, person.on_roster
    if slot == "email":
        person = rng.choice([p for p in people if p.form != "han name"] if rng.random() < 0.8 else people)
        return f"{person.email_local}@{rng.choice(DOMAINS)}", "EMAIL_ADDRESS", "email", False
    if slot == "phone":
        text, form = _phone(rng, language)
        return text, "PHONE_NUMBER", form, False
    if slot == "emp":
        return f"EMP-{rng.randrange(1000, 999999):06d}", "EMPLOYEE_ID", "prefix id", False
    if slot == "emp_b":
        return f"MA{rng.randrange(100000, 999999)}", "EMPLOYEE_ID", "configured id", False
    if slot == "badge":
        return f"AW-{rng.randrange(10000, 99999)}-{rng.choice('ABCDEFGHK')}", "BADGE", "badge", False
    if slot == "plate":
        return _plate(rng, language), "VEHICLE_PLATE", "plate", False
    if slot == "iban":
        return _iban(rng), "IBAN_CODE", "iban", False
    raise KeyError(slot)


def _neutral(slot: str, rng: random.Random) -> str:
    fills: dict[str, Callable[[], str]] = {
        "eq": lambda: rng.choice(EQUIPMENT),
        "place": lambda: rng.choice(PLACES),
        "place_de": lambda: rng.choice(PLACES_DE),
        "date": lambda: f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "date_de": lambda: f"{rng.randrange(1, 29):02d}.{rng.randrange(1, 13):02d}.2024",
        "time": lambda: f"{rng.randrange(24):02d}:{rng.choice(['00', '15', '30', '45'])}",
        "n": lambda: str(rng.randrange(2, 60)),
        "temp": lambda: f"{rng.randrange(40, 120)} °C",
        "rpm": lambda: f"{rng.randrange(700, 3000)} rpm",
        "bar": lambda: f"{rng.randrange(1, 40)}.{rng.randrange(10)} bar",
        "po": lambda: f"45000{rng.randrange(10000, 99999)}",
        "wo": lambda: f"WO-{rng.randrange(1000, 9999)}",
        "mat": lambda: f"0000000000{rng.randrange(10000000, 99999999)}",
        "serial": lambda: f"SN {rng.randrange(10, 99)}-{rng.randrange(10000, 99999)}-{rng.choice('ABC')}",
        "ip": lambda: f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "bearing": lambda: rng.choice(["SKF 6205-2RS", "FAG 6309-2Z/C3", "NSK 22216EAE4", "SKF NU 2212 ECP"]),
        "norm": lambda: rng.choice(["ISO 10816-3", "DIN EN 13445", "VDI 2056", "IEC 60034-14", "GB/T 3216"]),
        "zh_eq": lambda: rng.choice(_SURNAME_WORDS.split()),
    }
    return fills[slot]()


_SLOT = re.compile(r"\{(\w+)\}")
_PLANTED_SLOTS = frozenset({"name", "name2", "email", "phone", "emp", "emp_b", "badge", "plate", "iban"})


def _fill(template: str, language: str, rng: random.Random, people: list[_Person]) -> Sample:
    parts: list[str] = []
    planted: list[Planted] = []
    position = 0
    last = 0
    for slot in _SLOT.finditer(template):
        literal = template[last : slot.start()]
        parts.append(literal)
        position += len(literal)
        name = slot.group(1)
        if name in _PLANTED_SLOTS:
            text, entity, form, on_roster = _value(name, language, rng, people)
            planted.append(Planted(position, position + len(text), entity, form, on_roster))
        else:
            text = _neutral(name, rng)
        parts.append(text)
        position += len(text)
        last = slot.end()
    parts.append(template[last:])
    return Sample("".join(parts), tuple(planted), language)


# Templates: no cue words (called, by, with, via, contact, informed, told, asked, an, von, mit, Mr, Herr, Frau, ...)
_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("en", "{name} replaced the mechanical seal on {eq}; the old seal went to the workshop for analysis."),
    ("en", "Vibration on {eq} above the alarm limit. {name} checks again tomorrow, reachable on {phone}."),
    ("en", "Spare parts for {eq} reserved for {name} ({emp}), order {po}."),
    ("en", "Late shift: {name} found oil under {eq}, cleaned up and topped up the reservoir."),
    ("en", "Please send the calibration report for {eq} to {email} and {email}."),
    ("en", "Contractor crew lead {name}, cell {phone}, site badge {badge}."),
    ("en", "A delivery truck {plate} blocked the access to {eq} for two hours; driver {name}."),
    ("en", "{name} and {name2} aligned the coupling of {eq} (laser alignment, 0.02 mm offset)."),
    ("en", "Hot work permit for {eq} issued to {name}, personnel number {emp_b}."),
    ("en", "Handover: {name} to {name2}. Open point on {eq}: noisy bearing {bearing}."),
    ("en", "Questions about the oil analysis of {eq} go to {name} at {email}."),
    ("en", "{name} reports that {eq} tripped twice at {time}; reset after inspection."),
    ("en", "Lost badge {badge} reported at the {place}; holder {name}."),
    ("en", "Travel expenses of {name} paid to account {iban}."),
    ("en", "Vendor technician {name} on site until Friday for {eq}; reachable on {phone}."),
    ("en", "Checked {eq} according to {norm}: ok. Signed off, {name}."),
    ("en", "Please phone back: {phone} ({name}, {place})."),
    ("en", "{name} ({emp}) and {name2} ({emp}) replaced the bearing {bearing} on {eq}."),
    ("en", "Alarm on {eq} acknowledged at {time}; {name} will follow up on {date}."),
    ("en", "Escalated to {email}; {name} confirmed the shutdown window for {eq} on {date}."),
    ("en", "Parking permit for {plate} ({name}) near the {place} renewed."),
    ("en", "Safety shoes refund for {name}: {iban}, approved."),
    ("en", "New access card {badge} handed over; employee {emp_b}, {name}."),
    ("en", "Reached the night standby {name} on {phone} at {time}; {eq} restarted."),
    ("de", "Gleitringdichtung bei {eq} gewechselt, erledigt durch {name}."),
    ("de", "{name} meldet Leckage am Flansch der {eq}; Rückruf unter {phone}."),
    ("de", "Schichtübergabe: {name} übernimmt, {name2} geht in den Feierabend."),
    ("de", "Ersatzteile für {eq} bestellt, Ansprechpartner {name}, {email}."),
    ("de", "Personalnummer {emp_b}: Unterweisung Hochspannung abgeschlossen ({name})."),
    ("de", "Kennzeichen {plate}: Anlieferung Schmierstoffe für {place_de}, Fahrer {name}."),
    ("de", "Erstattung Sicherheitsschuhe auf {iban}, {name}."),
    ("de", "Lagertemperatur {eq} zu hoch ({temp}); {name} prüft morgen erneut, erreichbar unter {phone}."),
    ("de", "Ausweis {badge} verloren, gemeldet am {date_de}; Inhaber {name} ({emp})."),
    ("de", "Störung {eq} um {time} quittiert. Bereitschaft hatte {name}, {phone}."),
    ("de", "Bericht zu {eq} bitte per Mail: {email}; Rückfragen bei {name}."),
    ("zh", "{name}更换了{eq}的机械密封，旧件送车间分析。"),
    ("zh", "{eq}振动超标，{name}已到现场处理，手机{phone}。"),
    ("zh", "值班人员：{name}，电话{phone}。"),
    ("zh", "{name}（工号{emp}）完成{eq}巡检，{zh_eq}正常。"),
    ("zh", "请{name}明天复查{eq}轴承温度。"),
    ("zh", "备件已由仓库{name}发放，单号{po}。"),
    ("zh", "邮件已发送至{email}，抄送{name}。"),
    ("zh", "车辆{plate}进入厂区，司机{name}，{phone}。"),
    ("zh", "{name}和{name2}一起调整了{eq}的联轴器对中。"),
    ("zh", "由 {name} 负责{eq}的{zh_eq}检查，工号{emp_b}。"),
    ("zh", "{eq}报警，{name}确认后复位；联系电话{phone}。"),
)
_CLEAN: tuple[tuple[str, str], ...] = (
    ("en", "Bearing {bearing} on {eq} replaced, vibration now 2.1 mm/s according to {norm}."),
    ("en", "{eq} tripped on high temperature ({temp}) at {time}; restarted at {rpm}."),
    ("en", "Order {po} for {eq} released; material {mat}, work order {wo}."),
    ("en", "Cooling Tower Fan {eq} inspected, Feed Water Heater drained, Control Room notified of the result."),
    ("en", "Pressure at {eq} discharge {bar}, setpoint changed on {date}. Serial {serial}."),
    ("en", "PLC at {ip} rebooted; Main Switchboard North Gate breaker reset at {time}."),
    ("en", "{wo}: replace V-belt on {eq}, tension checked, 4-20 mA loop tested."),
    ("en", "Boiler House Lighting Panel B checked; Emergency Stop Button tested on {date}."),
    ("de", "Lager {eq} getauscht, Schwingung nach {norm} wieder im Bereich A."),
    ("de", "Pumpenhaus Süd: Ölstand {eq} geprüft, Filter gewechselt ({bar})."),
    ("de", "Kühlturm Nord Ventilator {eq} läuft unruhig, Drehzahl {rpm}, Auftrag {wo}."),
    ("de", "Halle Drei Kran Kettenzug geprüft am {date_de}; Seriennummer {serial}."),
    ("zh", "离心泵{eq}轴承温度高，报警。"),
    ("zh", "电机{eq}电流偏高，{zh_eq}需检查。"),
    ("zh", "高压泵出口压力低，已通知维修。"),
    ("zh", "{zh_eq}异常，{eq}停机检修，工单{wo}。"),
    ("zh", "马达过热停机，黄油加注完成，温度恢复正常。"),
    ("zh", "泵{eq}高位报警，{zh_eq}已更换。"),
    ("zh", "周检完成，白班巡检正常，万用表校准合格。"),
)
