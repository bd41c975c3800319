"""Caller-name extraction ("我叫王小明" → "王小明", "我姓李" → "李")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._normalize import normalize_text

__all__ = ["NameSpan", "extract_person_name", "find_person_name"]

_SURNAMES_1 = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥"
    "南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支"
    "卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印"
    "逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
_SURNAMES_2 = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "令狐",
    "端木",
    "独孤",
    "南宫",
    "西门",
)
_SURNAME = "(?:" + "|".join(_SURNAMES_2) + f"|[{_SURNAMES_1}])"
# characters that end a name: particles, verbs and punctuation that follow names
_STOP = "的是在住家了呢吧啊呀哈嗯我你他她们这那就想要有和跟说给到从打电话反映投诉"
_GIVEN = f"(?:[\u4e00-\u9fff](?<![{_STOP}]))"

_TITLES = ("先生", "女士", "小姐", "师傅", "阿姨", "大爷", "大妈", "老师", "先", "女")
_FULL_NAME = re.compile(
    rf"(?:我叫|我的名字(?:是|叫)|名字(?:是|叫)|本人(?:叫)?|我是|俺叫|鄙人)\s*"
    rf"(?P<name>{_SURNAME}{_GIVEN}{{1,2}}?)(?=$|[\s,，。.!！?？;；:：、]|先生|女士|师傅|老师)"
)
_FULL_NAME_GREEDY = re.compile(
    rf"(?:我叫|我的名字(?:是|叫)|名字(?:是|叫)|俺叫)\s*(?P<name>{_SURNAME}{_GIVEN}{{1,2}})"
)
_SURNAME_ONLY = re.compile(
    rf"(?:免贵姓|我姓|本人姓|俺姓|鄙人姓|我是|姓)\s*(?P<name>{_SURNAME})"
    rf"(?=$|[\s,，。.!！?？;；、]|先生|女士|小姐|师傅|阿姨|大爷|大妈|老师|[,，]?(?:[木弓立口耳双草古三文]|弓长|立早|木子|耳东|口天|双木|草头|古月|三横))"
)


@dataclass(frozen=True)
class NameSpan:
    """A caller name found in normalised text.

    Attributes:
        value: The name or surname.
        start: Start offset.
        end: End offset (exclusive).
    """

    value: str
    start: int
    end: int


def find_person_name(text: str) -> NameSpan | None:
    """Find the caller's self-introduced name in normalised text.

    Args:
        text: Normalised text.

    Returns:
        The first name or surname introduced by the caller, or None.
    """
    for pattern in (_FULL_NAME, _SURNAME_ONLY, _FULL_NAME_GREEDY):
        m = pattern.search(text)
        if m:
            name, end = m.group("name"), m.end("name")
            for title in _TITLES:
                if name.endswith(title) and len(name) > len(title):
                    name, end = name[: -len(title)], end - len(title)
                    break
            return NameSpan(name, m.start("name"), end)
    return None


def extract_person_name(text: str) -> str | None:
    """Extract the name a caller introduces themself with.

    "我叫王小明" gives "王小明"; "我姓李" / "免贵姓李" / "我是李女士" give the surname "李".

    Args:
        text: The utterance.

    Returns:
        The full name, the surname, or None.
    """
    span = find_person_name(normalize_text(text))
    return span.value if span else None
