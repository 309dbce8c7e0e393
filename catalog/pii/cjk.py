"""Chinese personal names written in Han characters, which the English NER model cannot read.

A name is a common surname (the hundred or so most frequent, plus a few two-character ones) followed by one
or two characters common in given names. Chinese writes no spaces, so the given-name characters are what keep
words such as 温度 (temperature: 温 is a surname), 高压 (high pressure), 马达 (motor) or 黄油 (grease) from being
taken for people; the few technical words that do look like names (张力, tension; 石英, quartz) are listed.
It runs only on columns that may name people, like the NER model.
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult

CJK_NAME_RECOGNIZER = "plant_cjk_name"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛"
    "邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁骆蓝游辛靳管柴"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯")
# Characters frequent in given names (and rare as the second character of a surname-led technical word).
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉鹏飞鑫波宁斌宇浩凯健俊帆帅旭琳晶欣雪颖倩婷慧莹梅琴"
    "兰云凤洁燕玲芬丹亮成龙林峰东晓海志国永春金新光德福生全胜安庆荣宏民彬博晨晗睿嘉梓涵轩怡佳思雨诗泽昊毅锋坤翔伦"
    "杨阳雯薇菲蕾璐瑶瑾瑞祥麟鸿鹤松柏竹桦楠枫岚川山岩石峻嵩崇辰星月霖露霏雅静婉淑贤惠娴妍姝媛嫣娇媚姗姣琪琦瑜璇"
    "珊珍珠宝翠丽莉蓉芸芝芮苗茜茹荷莎菁萱蔚蕊薇虹蓓妮娅婕婧娥娴宸宜宣家宁安宏浩淼清源涛滨澜潇瀚洪润沛泓波涌宾斐"
    "楚若初昕晔晖晟晋景智朗朝旺昌昭显曦炎炜烨焕煜熙燕爽玮珏琛瑛瑞璋达迪逸遥邦郁钧铭锐镇长阔闯隆雄雷震霆青靖静韬"
    "顺颂飒馨骏鸣鹏麒黎默鼎德亚仁伯佩依儒元兆先克兵冰冬凡则创力勋勤升卫友可同哲"
)
NOT_NAMES = frozenset(  # technical and common words that read as surname + given name
    {
        *("张力", "马力", "马达", "雷达", "石英", "金刚", "黄金"),  # tension, horsepower, motor, radar, quartz, ...
        *("高强", "高峰", "高新", "安全", "齐全", "周全"),  # high-strength, peak, high-tech, safe, complete, ...
        *("许可", "宁可", "尚可", "凌晨", "向东", "文明", "江山"),  # permit, rather, acceptable, small hours, ...
        *("韩国", "黄海"),
    }
)
_COMPOUND = "|".join(COMPOUND_SURNAMES)
_NAME = rf"(?:{_COMPOUND}|[{SURNAMES}])[{GIVEN}]{{1,2}}"
_HAN_CHAR = re.compile("[\u3400-\u9fff\uf900-\ufaff]")


class CjkNameRecognizer(PatternRecognizer):
    """Surname plus one or two given-name characters; a two-character reading is kept when the three-character
    one starts a listed technical word (`张力` in `张力计`), and listed words are never names."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PERSON",
            name=CJK_NAME_RECOGNIZER,
            patterns=[Pattern("han name", _NAME, 0.5)],
            global_regex_flags=0,
        )

    def analyze(self, text: str, entities: list[str], *args: Any, **kwargs: Any) -> list[RecognizerResult]:
        return super().analyze(text, entities, *args, **kwargs) if has_han(text) else []

    def invalidate_result(self, pattern_text: str) -> bool:
        return pattern_text[:2] in NOT_NAMES or pattern_text in NOT_NAMES


def has_han(text: str) -> bool:
    """Whether `text` holds a Han character (only then is the recognizer worth running)."""
    return _HAN_CHAR.search(text) is not None
