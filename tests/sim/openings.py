"""What residents report first, and the personal details they carry.

Two sources: our own hard cases (written here, each labelled emergency or
not) and the real TipDM 2020 messages, read at run time from the shared eval
file and never copied into the repository.  Addresses, phones, names and
times come from templates of our own (Beijing districts and compounds).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

__all__ = [
    "Source",
    "Opening",
    "HARD_CASES",
    "load_tipdm",
    "default_tipdm_path",
    "random_address",
    "random_phone",
    "random_name",
    "random_time",
    "long_detail",
]


class Source(Enum):
    HARD = "hard"
    TIPDM = "tipdm"


@dataclass(frozen=True)
class Opening:
    """A first message's problem statement (without address/phone/time)."""

    id: str
    problem: str
    emergency: bool
    source: Source = Source.HARD


# (problem, is an emergency).  Many non-emergencies carry alarming words on purpose.
_HARD: tuple[tuple[str, bool], ...] = (
    ("楼里着火了有人被困", True),
    ("我家楼下厨房冒出很大的烟，好像着火了，邻居还在里面", True),
    ("有人在小区门口持刀伤人，流了很多血", True),
    ("楼道里一股很浓的煤气味，有人晕倒了", True),
    ("我爸突然倒地不省人事，叫不醒了", True),
    ("河边有个小孩掉水里了，快来人", True),
    ("车库里一辆电动车烧起来了，火越来越大", True),
    ("路口两辆车撞了，有人被卡在车里出不来", True),
    ("有人站在楼顶边上说要跳楼", True),
    ("家里进了小偷，现在人还在屋里", True),
    ("楼道里的灯坏了好几天了，晚上上楼黑乎乎的", False),
    ("燃气表读数不对，这个月燃气费比平时多了一倍", False),
    ("电梯广告太吵了，每次坐电梯都循环播放", False),
    ("火车站附近黑车拉客，天天有人拉着行李的乘客不放", False),
    ("小区消防通道被私家车堵死了，一直没人管", False),
    ("楼下烧烤店油烟太大，熏得我们家不敢开窗", False),
    ("小区里的灭火器都过期了，物业也不更换", False),
    ("马路上的井盖丢了，晚上很危险", False),
    ("我想咨询一下120急救车的收费标准", False),
    ("上次打110报警以后一直没人回复处理结果", False),
    ("隔壁工地晚上十一点以后还在打桩，吵得睡不着", False),
    ("自来水发黄，有股铁锈味", False),
    ("小区停水三天了也没有通知", False),
    ("楼上漏水，把我家天花板泡坏了", False),
    ("公交站的站牌被撞歪了一直没修", False),
    ("路边的垃圾桶满了好几天没人清运，味道很大", False),
    ("外卖电动车在人行道上逆行，差点撞到老人", False),
    ("小区里有人养的狗不拴绳，吓到了孩子", False),
    ("暖气不热，屋里只有十五度", False),
    ("物业乱收停车费，没有任何收费依据", False),
    ("饭馆门口占道经营，桌子都摆到了马路上", False),
    ("附近的网吧允许未成年人进入", False),
    ("学校门口的红绿灯坏了，孩子过马路很危险", False),
    ("小区绿化带被人改成了菜地", False),
    ("楼道里堆满了杂物，有火灾隐患", False),
    ("广场舞音响声音太大，晚上九点以后还在跳", False),
    ("单位拖欠工资三个月了，老板一直躲着不见", False),
    ("共享单车乱停乱放，把盲道都占了", False),
    ("医院挂号太难了，网上一直约不上", False),
    ("我要表扬一下社区的王大姐，帮我们解决了漏水问题", False),
    ("建议在小区门口增设一个公交站", False),
    ("路灯白天一直亮着，太浪费了", False),
    ("电动车在楼道里充电，我担心会起火", False),
    ("煤气罐放在饭馆门口暴晒，看着挺吓人的", False),
    ("地铁站出口的扶梯停了一个月了", False),
    ("出租车司机拒载，还骂人", False),
    ("小区里的健身器材坏了，螺丝都松了", False),
    ("装修公司收了定金就联系不上了", False),
)

HARD_CASES: tuple[Opening, ...] = tuple(
    Opening(id=f"hard-{i:02d}", problem=text, emergency=emergency)
    for i, (text, emergency) in enumerate(_HARD)
)


def default_tipdm_path() -> Path:
    """``/work/shared/eval/tipdm2020_dev.jsonl`` seen from a worktree at ``/work/wt-*``."""
    return Path(__file__).resolve().parents[3] / "shared" / "eval" / "tipdm2020_dev.jsonl"


def load_tipdm(path: Path | None, max_chars: int = 3000) -> list[Opening]:
    """The real messages (``full_text``), or nothing when the file is absent.

    They all count as non-emergencies.  Texts longer than ``max_chars`` are cut
    there (the web channel refuses messages over its own limit).
    """
    if path is None or not path.is_file():
        return []
    out: list[Opening] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            text = str(row.get("full_text") or row.get("text") or "").strip()
            if text:
                out.append(Opening(str(row.get("id")), text[:max_chars], False, Source.TIPDM))
    return out


_DISTRICTS = ("东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "通州区", "昌平区",
              "大兴区", "顺义区", "房山区", "门头沟区")  # fmt: skip
_STREETS = ("劲松", "望京", "回龙观", "天通苑", "方庄", "双井", "五道口", "中关村", "亦庄",
            "北苑", "马家堡", "八里庄", "青塔", "良乡", "梨园", "上地")  # fmt: skip
_COMPOUND_KINDS = ("小区", "家园", "花园", "西里", "北里", "东区")
_CN_DIGITS = "一二三四五六七八九"


def random_address(rng: random.Random) -> str:
    """A Beijing-style address: district, area, compound, building (unit, room)."""
    district = rng.choice(_DISTRICTS)
    street = rng.choice(_STREETS)
    form = rng.randrange(4)
    if form == 0:
        compound = f"{street}{rng.choice(_CN_DIGITS)}区"
    elif form == 1:
        compound = f"{street}{rng.choice(_COMPOUND_KINDS)}"
    elif form == 2:
        compound = f"{street}街道{rng.choice(('幸福', '和平', '阳光', '新华', '金秋'))}{rng.choice(_COMPOUND_KINDS)}"
    else:
        compound = f"{street}路{rng.randint(1, 300)}号"
        return f"{district}{compound}"
    building = f"{rng.randint(1, 30)}号楼"
    if rng.random() < 0.5:
        building += f"{rng.randint(1, 6)}单元"
    if rng.random() < 0.3:
        building += f"{rng.randint(1, 20)}0{rng.randint(1, 4)}"
    return f"{district}{compound}{building}"


def random_phone(rng: random.Random) -> str:
    """A mainland mobile number ``1[3-9]xxxxxxxxx``."""
    return f"1{rng.randint(3, 9)}{rng.randrange(10**9):09d}"


_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高"
_GIVEN = ("建国", "秀英", "志强", "丽娟", "小明", "海燕", "国庆", "桂兰", "文博", "晓东")


def random_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


_TIMES = (
    "昨天晚上",
    "今天早上",
    "前天下午",
    "上周三",
    "这两天",
    "今天凌晨两点",
    "上个月",
    "昨天中午",
)


def random_time(rng: random.Random) -> str:
    return rng.choice(_TIMES)


_DETAIL = (
    "这个问题已经持续很长时间了，我们楼里的住户都反映过好几次。",
    "之前也给物业打过电话，物业说会处理，但是一直没有下文。",
    "家里有老人和孩子，每天都受影响，晚上休息不好，白天上班也没精神。",
    "我们也试过找居委会协调，居委会说这个不归他们管，让我们找相关部门。",
    "希望有关部门能够尽快派人来现场看一看，把问题彻底解决。",
    "周围的邻居也都很有意见，大家商量了一下，决定通过热线反映。",
    "我拍了照片，需要的话可以提供，现场的情况一看就明白。",
    "这件事拖得越久影响越大，真的希望不要再推来推去了。",
)


def long_detail(rng: random.Random, min_chars: int, max_chars: int) -> str:
    """Our own filler narrative, between ``min_chars`` and ``max_chars`` long."""
    target = rng.randint(min_chars, max_chars)
    parts: list[str] = []
    size = 0
    while size < target:
        s = rng.choice(_DETAIL)
        parts.append(s)
        size += len(s)
    return "".join(parts)[:max_chars]
