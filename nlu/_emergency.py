"""Emergency detection: which messages need 110/119/120 advice *now*.

Every danger cue (fire, gas, violence, injury, trapped, collapse, flood, medical, a cry
for help) is read in its sentence and clause and ends at one of three levels:

* ``ADVICE``: danger present now ("楼道里冒烟了", "我爸突然晕倒了") - the bot tells the
  resident to call 110/119/120 at once.
* ``FLAG``: a danger that is not acute or not now - a hazard ("电线裸露", "井盖没了"), a
  hypothetical ("万一着火"), a recent past incident ("昨天着火了"), a habitual one
  ("经常有人打架"), a procedural question ("着火了应该打什么电话?"), a slight or
  maintenance-style leak ("燃气表有点漏气"), or a danger told inside a long written post.
  Staff see an urgent flag; no advice is given.
* ``NONE``: no danger - negated ("没有着火"), long past ("去年我父亲脑梗住院"), about
  the topic ("火灾理赔", "消防演练"), chronic illness ("我爸有心脏病"), pets' illness, or
  no cue at all.

The message's level is the highest level of its cues. Only the regular expressions
below are used (no model), so one short message costs a few tens of microseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ._normalize import normalize_text
from ._types import Emergency

__all__ = [
    "EmergencyAssessment",
    "EmergencyLevel",
    "EmergencySpan",
    "assess_emergency",
    "detect_emergency",
    "find_emergency",
]

#: Emergency number(s) for each kind (hazard kinds have none).
NUMBERS: dict[str, tuple[str, ...]] = {
    "fire": ("119",),
    "gas": ("119",),
    "trapped": ("119",),
    "collapse": ("119",),
    "flood": ("119",),
    "violence": ("110",),
    "injury": ("120",),
    "medical": ("120",),
    "missing": ("110",),
    "distress": ("110", "119", "120"),
}
_NUMBER_ORDER = ("110", "119", "120")
# the kind reported when several match: the most dangerous first
_PRIORITY = (
    "fire",
    "gas",
    "violence",
    "collapse",
    "trapped",
    "flood",
    "injury",
    "medical",
    "missing",
    "distress",
    "electrical",
    "manhole",
    "structure",
    "elevator",
    "water",
    "road",
)

#: Texts longer than this are read as written posts: a danger in them must be said to be
#: happening now in so many words ("正在", "此刻", "救命" ...) to get advice.
LONG_TEXT = 150


class EmergencyLevel(Enum):
    """How the bot reacts to a message."""

    NONE = 0
    FLAG = 1
    ADVICE = 2


@dataclass(frozen=True)
class EmergencyAssessment:
    """The emergency level of one message and the cue that decided it.

    Attributes:
        level: NONE, FLAG (urgent flag for staff, no advice) or ADVICE (110/119/120 now).
        kind: Kind of the deciding cue (fire, gas, violence, injury, trapped, collapse,
            flood, medical, distress; for hazards electrical, manhole, structure,
            elevator, water), or None.
        numbers: Numbers to call (only set at ADVICE; the union over all present cues).
        matched: Text of the deciding cue ("" at NONE without cue).
        reason: Which cue decided, ``"<rule>:<words>"``, e.g. ``"present:了"``,
            ``"past:去年"``, ``"hypothetical:万一"``, ``"hazard:电线裸露"``.
    """

    level: EmergencyLevel
    kind: str | None
    numbers: tuple[str, ...]
    matched: str
    reason: str

    def as_emergency(self) -> Emergency | None:
        """The backward-compatible :class:`Emergency` (only at ADVICE level)."""
        if self.level is not EmergencyLevel.ADVICE or self.kind is None:
            return None
        return Emergency(kind=self.kind, numbers=self.numbers, matched=self.matched)


@dataclass(frozen=True)
class EmergencySpan:
    """A present-danger cue in normalised text.

    Attributes:
        kind: Emergency kind.
        start: Start offset of the cue.
        end: End offset (exclusive).
    """

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class _Cue:
    kind: str
    pattern: re.Pattern[str]
    #: strong cues are events ("着火", "晕倒"); weak ones are nouns or states that are
    #: as often about the past or a chronic condition ("火灾", "心脏病") and need a sign
    #: that it is happening now
    strong: bool


_NP = r"[^,。.!?;:\n]"  # any character inside a clause

_CUES: tuple[_Cue, ...] = tuple(
    _Cue(kind, re.compile(pattern), strong)
    for kind, strong, pattern in (
        # --- fire
        (
            "fire",
            True,
            r"着火|著火|起火|失火|烧起来|燃起来|火着了|着了火|烧着了|自燃|火苗|火势|蹿火|窜火|"
            rf"(?:楼道|楼梯|屋|房|家|厨房|卧室|阳台|楼上|楼下|隔壁|对面|窗|门|配电|电表|电箱|"
            rf"插座|插线板|电线|线路|电器|电视|电动车|电瓶|充电|车库|仓库|店|商铺|车|锅|油锅|"
            rf"山上|林子|树林){_NP}{{0,8}}(?:冒烟|冒黑烟|冒浓烟|冒火|着了|(?<![发红退])烧了|(?<![发红退])烧起|起烟)|"
            rf"(?:浓烟|黑烟|火光){_NP}{{0,4}}(?:冒|窜|滚|冲|呛|出来|进来|很大|好大|一片)|"
            rf"(?:冒|窜|滚|冲|全是|都是|好多|很多|一股)(?:浓|黑)?烟{_NP}{{0,2}}(?:了|啦|出来|进来)|"
            r"爆炸了|爆燃|闪爆|着起来|放火|纵火|泼汽油|浇汽油|"
            r"(?:门缝|窗户|窗缝|屋里|房间|楼道|走廊|厨房)[^,。.!?;]{0,3}有烟|浓的烟|浓浓的烟|烟[^,。.!?;]{0,3}(?:看不见|看不清|睁不开)|山火|野火|林火|烧过来|火烧到|烧到[^,。.!?;]{0,3}(?:楼|家|屋|房|村)|"
            rf"烟{_NP}{{0,3}}(?:冒出来|冒出|窜出来|涌出来|冒进来|飘进来|灌进来|往外冒|往上窜)|"
            r"(?:全是|都是|好多|很多|满屋|满屋子|一屋子)烟(?!味|头|民|草|酒|花|囱|台|瘾)|烟很大|"
            r"好大的火|火很大|火好大|火越来越大|越烧越大|冒出[^,。.!?;]{0,4}火|(?:锅炉|煤气罐|气罐|液化气|钢瓶|电瓶|电池|电动车|充电宝|高压锅|热水器|"
            rf"变压器|管道|罐子|罐){_NP}{{0,2}}(?:炸了|爆了|爆炸|要炸|快炸)",
        ),
        (
            "fire",
            False,
            r"冒烟|冒黑烟|冒浓烟|浓烟|黑烟|火灾|大火(?!收|烧开|煮|炒|焖|翻|车|锅|候)|火烧(?!眉毛|云)|爆炸(?!性|头)",
        ),
        # --- gas
        (
            "gas",
            True,
            rf"(?:燃气|煤气|天然气|液化气|瓦斯|沼气){_NP}{{0,6}}(?:泄漏|泄露|漏了|漏气|跑气|"
            rf"味|臭味|气味)|"
            rf"(?:闻到|一股|很大的|好大的|好重的|很重的|特别重的){_NP}{{0,3}}(?:煤气|燃气|天然气|液化气)|"
            rf"(?:燃气|煤气|天然气)(?:管|管道|管子|阀门|罐){_NP}{{0,6}}(?:破了|断了|裂了|爆了|挖断|挖破|咬破)|"
            r"(?:一氧化碳|燃气|煤气|天然气)报警器[^,。.!?;]{0,6}(?:响|叫|报警)|"
            r"(?<!胎)跑气|(?:燃气|煤气|天然气|气)(?:管|管子|软管|阀门)[^。.!?;]{0,6}(?:脱落|断开|松了|掉了)|"
            r"(?<!轮胎)(?<!车胎)(?<!胎)(?<!气球)(?<!充气)漏气了|煤气中毒|一氧化碳中毒|"
            rf"煤气罐{_NP}{{0,3}}漏",
        ),
        # --- violence
        (
            "violence",
            True,
            r"(?<!拨)(?<!呼)打人(?!工)|打架(?!子)|打起来了|打起来啦|打得(?:头破|满脸|鼻青|半死|很凶|厉害)|砍人|砍伤|砍(?:他|她|我|死|了)|在砍(?!树|价|柴)|乱砍(?!乱伐)|捅人|捅伤|捅了|"
            r"持刀|拿刀|拿着刀|动刀|拿棍子|拿着棍子|动手了|被打(?!扰|折|断|回|电|卡|针|疫苗|款|"
            r"钱|包|印|开|败|压|入|通|分|上|下|码|破|听|造|磨|工|湿|乱)"
            r"(?![^,。.!?;]{0,8}(?:电话|短信|骚扰|广告|针|疫苗|卡))|扭打|厮打|打成一团|互殴|打在一起|挨打|打我|打死|"
            r"杀人了|要杀(?:我|人|他|她|了)|威胁要(?:杀|砍|打|弄死|捅)|抢劫|抢东西|抢包|"
            r"闯进来|闯进我|撬门|砸门|砸东西|冲进[^,。.!?;]{0,4}(?:店|家|屋|门|来)|"
            r"掐(?:着|住)?[^,。.!?;]{0,4}脖子|掐死|勒住|勒死|撬[^,。.!?;]{0,4}(?:门|锁)|被抢|抢走了|抢了我|"
            rf"被人{_NP}{{0,5}}(?:划|砍|捅|刺|扎|打|推|踢|踹|抢|砸)|(?:男的|男人|陌生人|有人|那人|一个人){_NP}{{0,4}}(?:跟着我|跟踪|尾随)|抢(?:我|他|她)|在抢(?!购|票|红包|单|答|位|座|车位)|"
            r"打(?:他|她)?(?:孩子|小孩|老人|女人|老婆|老公|媳妇|妻子|我妈|我爸|妈妈|爸爸|他妈|她)"
            r"(?!疫苗|针|电话)|被人跟踪|跟踪我|尾随我|砸人|"
            r"拿着?(?:砖头|棍子|棍|铁棍|钢管|石头|斧头|锤子|砍刀|菜刀|刀子)|"
            rf"被{_NP}{{1,5}}打(?:了|伤|得|成)|围着打|围殴|群殴|围攻|"
            r"(?:进了|进来了?|来了|有个?|遇到|闹)(?:小偷|贼)|(?:小偷|贼|劫匪|歹徒)[^,。.!?;]{0,4}(?:还在|就在|正在|没走|在屋|在家|躲在|藏在)|"
            r"入室盗窃|有人(?:在)?(?:撬|砸)(?:门|锁|窗|车)",
        ),
        (
            "violence",
            False,
            r"斗殴|殴打|家暴|家庭暴力|绑架|劫持|杀人|行凶|耍流氓|非礼|性骚扰|入室|打砸|持械|"
            r"跟踪我|尾随",
        ),
        # --- injury
        (
            "injury",
            True,
            r"流血|流了好多血|流了很多血|血流|头破|被车撞了|被撞了|撞倒了|被撞倒|轧了|压在|"
            r"砸到人|砸到头|砸伤了|起不来了|摔倒了起不来|触电|电到了|被咬了|咬伤了|伤得很重|"
            r"伤得挺重|伤得厉害|摔下来了|掉下来了一个人|从楼上摔|摔倒了|跌倒了|摔了一跤|摔得|"
            r"磕破|划了个大口子|骨头断了|腿断了|胳膊断了|都是血|全是血|满身是血|满脸是血|一身血|"
            r"见血了|血泊|绞进去|卷进去|夹住了|夹断|压住了|被压(?:在|住|伤|倒|断)|"
            r"被电(?:了|到|击|伤)|电了一下|电到了|"
            r"被[^,。.!?;]{0,6}(?:蛇|狗|猫|蜂|蝎子|野猪)[^,。.!?;]{0,2}(?:咬|蛰|蜇)|"
            r"血止不住|止不住血|(?:切|割|划)了个?大?口子|口子很深|伤口很深|"
            rf"(?:人|孩子|小孩|老人){_NP}{{0,6}}(?:掉下来|摔下来|坠落)|(?:摔|跌|滑)(?:倒|下来|下去|伤|断)|"
            r"(?:头|腿|手|胳膊|脚|腰|脖子|手指|眼睛|脸|额头|肋骨)[^,。.!?;]{0,3}"
            r"(?:断了|破了|流血|肿了|撞到|撞了|摔伤|出血|骨折|动不了|扎了|划开)|"
            r"被[^,。.!?;]{0,5}撞(?:了|倒|飞|伤)|坠楼|侧翻|翻车|车翻了|躺着不动|躺在地上不动|一滩血|一地血|满地是血|被[^,。.!?;]{0,5}电(?:到|伤|击)|扎穿|刺穿|被[^,。.!?;]{0,4}扎(?:了|伤|穿)|滚下来|跌下来|撞到人|撞了人|撞人了|撞伤人|"
            r"砸(?:到|中|伤)了?[^,。.!?;]{0,3}(?:人|孩子|小孩|老人|头|腿|车|我|他|她|妈|爸|爷|奶)|"
            r"推倒了|被人推倒|被推倒|头着地|后脑勺着地",
        ),
        (
            "injury",
            False,
            r"受伤(?!害)|受了伤|划伤|绞伤|绞断|压伤|夹伤|轧伤|碾|出血|骨折|摔伤|撞伤|烫伤|烧伤|砸伤|车祸|被车撞|撞车|咬伤|割伤|扎伤",
        ),
        # --- trapped
        (
            "trapped",
            True,
            r"被困(?!扰|难|惑)|困住了|困在|困了(?:人|个|一个|两个|几个|好几个)|困人|关了人|关在电梯|卡在电梯|关在里面|"
            rf"电梯{_NP}{{0,8}}(?:出不来|下不来|出不去|卡住|卡在|停在半|停在两层|不动了|关人|困人)|"
            rf"(?:人|孩子|小孩|老人|我|我们|我妈|我爸|宝宝|她|他){_NP}{{0,6}}(?:出不去|出不来)|"
            r"锁在(?:屋|家|里|房间|厕所|卫生间|车里)|掉进|掉(?:到|在)[^,。.!?;]{0,4}(?:井|坑|河|水|湖|沟|海|池|江)|掉[^,。.!?;]{0,2}(?:井|坑|河|水|湖|沟|海|池|江)(?:里|中)|"
            rf"电梯{_NP}{{0,6}}(?:坠下|坠落|掉下去|往下掉|下坠了|掉下来了)|"
            r"关着[^,。.!?;]{0,3}人|反锁|被锁在|被关在|锁在[^,。.!?;]{0,4}(?:阳台|外面|里面)|"
            r"卡在(?:防盗窗|栏杆|窗户|门缝|夹缝)|电梯[^,。.!?;]{0,6}(?:突然停|停住了|卡住了|不动了)|"
            r"冰窟窿|掉进冰|冲进[^,。.!?;]{0,2}(?:河|湖|江|水|海|沟)|往下沉|船[^,。.!?;]{0,4}(?:漏水|翻了|沉了|进水)|沉下去|沉到水里|沉底了|落水|溺水|淹死|快淹|扑腾|被卡(?:在|住)|卡在(?!喉咙|嗓子)[^,。.!?;]{0,4}(?:里|中间|下面|底下)|"
            r"掉水里|淹着了|困着",
        ),
        ("trapped", False, r"掉下去|掉进去|摔下去"),
        # --- collapse
        (
            "collapse",
            True,
            r"塌了|塌下来|要塌|快塌|垮了|裂开了|砸下来|墙倒了|楼倒了|房子倒了|倒下来了|"
            rf"(?:天花板|吊顶|屋顶|楼板|房梁){_NP}{{0,4}}(?:掉下来了|塌了|砸下来)|掉下来砸|下沉了|往下塌|在塌|滑坡|泥石流|被埋|埋住|埋了(?:人|{_NP}{{0,3}}(?:人|房))|地震了|地震啦|"
            r"(?:楼|房|屋)[^,。.!?;]{0,3}(?:在晃|摇晃|晃动|晃得)|陷下去|塌下去|塌陷了|"
            r"(?:塔吊|脚手架|架子|广告牌|大树|树|电线杆|墙|楼|房子|棚|围墙|大棚|桥|围挡)[^,。.!?;]{0,3}倒了",
        ),
        ("collapse", False, r"倒塌|坍塌|塌方|塌陷|天坑|地陷"),
        # --- flood
        (
            "flood",
            True,
            rf"淹了|被淹|淹到|漫进来|水漫进|涌进来|灌进来|水{_NP}{{0,4}}(?:到膝盖|没过膝盖|齐腰|"
            rf"到腰|到大腿|到小腿|到脚踝|到脖子|到胸口|涨上来|越涨越高|往上涨|漫上来)|积水{_NP}{{0,4}}(?:膝盖|腰|大腿|半米|一米|齐腰)|"
            r"决口|决堤|管涌|山洪|(?:大水|洪水)[^,。.!?;]{0,3}(?:冲|进|漫|涌|淹)|漫坝|漫堤|"
            r"没过(?:了)?(?:膝盖|腰|大腿|小腿|脚踝|车轮|轮胎|床|车门|车顶|脖子|胸口|头顶|窗户)|往里灌|往里涌|灌进|被(?:大水|洪水)冲|进水(?:一米|半米|几十公分|\d+米)|水深(?:一米|半米|\d)|还在涨|在往上涨|漫进|漫到|漫过|漫上|越来越深|漂起来|水越涨越|水还在涨|没过(?:膝盖|腰|大腿|小腿|脚踝|车轮|轮胎|床)|水涨得|涨水了|"
            rf"水位{_NP}{{0,4}}(?:上涨|涨|上升)",
        ),
        ("flood", False, r"水淹|淹没|洪水|发大水|倒灌|泡在水里"),
        # --- medical
        (
            "medical",
            True,
            r"晕倒|昏倒|晕过去|昏过去|不省人事|没有呼吸|没呼吸|(?<!火机)(?<!轮胎)(?<!车胎)(?<!气球)(?<!罐)(?<!瓶)(?<!球)没气了|喘不上气|喘不过气|"
            r"(?:晕|昏)了过去|心脏(?:不舒服|难受|疼|痛)|心口(?:不舒服|难受)|高烧(?:四十|40)|烧到(?:四十|40)|晕死过去|晕厥|昏厥|(?:胸口|心口|胸)(?:剧痛|疼得厉害|痛得厉害)|"
            r"不会说话了|口角歪斜|嘴角歪|说话不清|抽搐|抽风|口吐白沫|吐白沫|全身发抖|浑身发抖|没有心跳|没心跳|突然倒下|倒下了|"
            r"嘴唇[^,。.!?;]{0,2}(?:发紫|紫了)|喘气很急|喘得厉害|要跳(?:下来|下去|楼(?!价)|河|江|桥)|"
            r"(?:吃|吞|喝)了(?:一把|一瓶|一整瓶|一板|好多|很多|一盒)[^,。.!?;]{0,4}药|快不行了|人不行了|大出血|割腕|(?<!价)跳楼(?!价)|要自杀|想自杀|"
            r"要寻死|轻生|要生了|羊水破了|噎住|卡住喉咙|卡在喉咙|卡在嗓子|没反应了|叫不醒|倒地不起|倒在地上|"
            r"(?:心脏病|哮喘|癫痫|病)(?:犯了|发作)|发病了|吐血|脸都紫了|嘴唇发紫|没有意识|没意识了|"
            r"叫(?:个|辆|一辆)?救护车|倒地|一动不动|没反应了|叫[^,。.!?;]{0,3}没(?:有)?反应|"
            r"(?:孩子|小孩|宝宝|儿子|女儿|老人)[^,。.!?;]{0,3}(?:吞了|吞下|误吞|误食)|误吞|误食|吃错药|"
            rf"(?:老人|人|孩子){_NP}{{0,3}}(?:没动静|没有动静|没反应)|呼吸不上来|上不来气|不能呼吸|无法呼吸|喘不了气|呛到了|呛住了|误喝|误服|喝了{_NP}{{0,3}}(?:消毒液|洗洁精|84|漂白|汽油|酒精)|(?:吃|喝|吞|服){_NP}{{0,5}}(?:安眠药|农药|老鼠药|敌敌畏|百草枯|一瓶药)|"
            r"往下跳|跳下来了|跳下去了|跳楼了|喝了农药|喝农药|老鼠药|服毒|吃了安眠药|自杀|要往下跳|要跳下去|要跳河|跳河|跳江|要寻短见|"
            rf"(?:孩子|小孩|宝宝|儿子|女儿){_NP}{{0,6}}抽筋|高烧抽筋|说不出话|半边身子|身子动不了|嘴歪了|口眼歪斜",
        ),
        (
            "medical",
            False,
            r"昏迷|心脏病|心梗|心肌梗|脑梗|中风|脑溢血|脑出血|中毒|休克|呼吸困难|急救|救护车|"
            r"胸口疼|胸痛|高烧不退|烧到四十|(?:胸口|心口)(?:闷|疼|痛|发紧)|胸闷|一头冷汗|直冒冷汗|"
            r"浑身冷汗|脸色发白|脸色苍白|脸都白了|脸色煞白|头晕得|站不住",
        ),
        # --- a missing child or elder (110)
        (
            "missing",
            True,
            rf"(?:孩子|小孩|儿子|女儿|宝宝|老人|我妈|我爸|老太太|老大爷|奶奶|爷爷){_NP}{{0,3}}"
            r"(?:不见了|走丢了|丢了|失踪了|找不到了)|被人拐|拐走|被拐|被人(?:抱走|带走|抢走)",
        ),
        # --- a cry for help without a kind
        (
            "distress",
            True,
            r"救命(?!钱|稻草|恩|药|的钱)|呼救|喊救命|求救声|快来人|快点来人|来人啊|来人呐|来人哪|救救我|快报警|帮我报警|帮忙报警|快打110|"
            r"快打119|快打120",
        ),
    )
)

#: Hazards: urgent for staff, never advice.
_HAZARDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        (
            "electrical",
            rf"电线{_NP}{{0,4}}(?:裸露|露在外面|露出来|外露|老化|破皮|掉下来|垂下来|耷拉|打火|"
            rf"冒火花|漏电|断了|刮断|搭在地上|掉在地上|落地)|裸露的电线|飞线充电|私拉电线|私拉乱接|漏电|电箱{_NP}{{0,4}}(?:没门|敞开|开着)|"
            r"火花|焦味|烧焦|焦糊味|糊味|高压线|带电|"
            rf"楼道{_NP}{{0,6}}充电|充电{_NP}{{0,4}}楼道|(?:电动车|电瓶车){_NP}{{0,6}}(?:进楼|上楼|进电梯)|"
            rf"(?:电表箱|电箱|配电箱|电线|插座|电闸){_NP}{{0,4}}(?:进水|滴水|泡水|漏水|泡在水)|"
            rf"水{_NP}{{0,6}}(?:电表箱|电箱|配电箱|插座)|"
            rf"(?:漏|渗|滴){_NP}{{0,4}}(?:电表箱|电箱|配电箱|插座|电闸)",
        ),
        (
            "manhole",
            rf"井盖{_NP}{{0,6}}(?:没了|丢了|丢失|缺失|被偷|偷走|偷了|不见|破了|破损|碎了|坏了|松动|翘起|塌)|"
            r"没有井盖|没井盖|缺井盖|井盖缺|下水井敞|"
            r"坑[^。.!?;]{0,10}(?:没有|没)(?:任何)?(?:提示|围挡|警示|护栏|标志)",
        ),
        (
            "structure",
            rf"(?:墙|楼|房|顶|梁|柱|阳台|桥|路面|地面|堤|坝){_NP}{{0,4}}(?:裂缝|开裂|裂了|裂开|倾斜|歪了)|"
            rf"(?:墙皮|外墙|保温层|墙面|瓷砖|墙砖|水泥|石块|砖|玻璃|广告牌|招牌|空调外机|树枝){_NP}{{0,4}}(?:脱落|掉下来|松动|要掉|快掉|摇摇欲坠)|"
            rf"(?:阳台|窗台){_NP}{{0,8}}花盆|花盆{_NP}{{0,6}}(?:掉|砸|吓人|危险)|掉石头|落石|滚石|"
            rf"山坡{_NP}{{0,6}}(?:掉|滑|塌)|(?:雨棚|雨篷|遮阳棚|招牌|空调外机|窗户|防盗网){_NP}{{0,4}}"
            r"(?:松动|松了|要掉|快掉|晃)|(?:快要|快|要)掉下来|"
            r"危房|危楼|高空坠物|高空抛物|摇摇欲坠|随时(?:可能|会)?(?:倒|塌|掉|砸|垮)|"
            rf"树{_NP}{{0,4}}(?:歪了|要倒|快倒|倾斜|断了)|"
            rf"(?:塔吊|脚手架|广告牌|围挡|电线杆|吊车){_NP}{{0,4}}(?:晃|摇|歪|倾斜|要倒|会倒)|"
            rf"(?:河堤|堤坝|大坝|堤|坝){_NP}{{0,6}}(?:渗水|漏水|管涌|裂)|掉下来(?:一|几|好几)?块|"
            rf"(?:阳台|天花板|吊顶|屋顶|楼板){_NP}{{0,4}}(?:掉|脱落|塌)",
        ),
        (
            "elevator",
            rf"电梯{_NP}{{0,8}}(?:困过|关过|坠过|掉过|出过事)|电梯{_NP}{{0,8}}(?:经常|老是|总是|时常|常常|频繁|又|动不动|三天两头){_NP}{{0,6}}"
            rf"(?:停|坏|故障|卡|困|关人|下坠|掉|冲顶|蹲底|夹|顿|抖|晃|异响|响)|电梯{_NP}{{0,6}}(?:下坠|溜梯|冲顶|蹲底|"
            rf"突然往下掉|夹人|夹到)|电梯门{_NP}{{0,4}}(?:关不上|关不严|夹)|开着门{_NP}{{0,3}}(?:走|运行|上|下)",
        ),
        (
            "water",
            rf"水管{_NP}{{0,3}}(?:爆了|爆裂|裂了|破了)|爆管",
        ),
        (
            "gas",
            rf"(?:燃气|煤气|天然气)(?:表|管|管道|阀门|灶){_NP}{{0,4}}(?:漏|渗|坏|锈)|"
            rf"(?:煤气罐|液化气罐|气罐|钢瓶){_NP}{{0,8}}(?:晒|暴晒|放在|堆|乱放)|"
            r"(?:燃气表|燃气管|煤气管|阀门|燃气灶)[^。.!?;]{0,12}(?:味|气味|味道|碰歪|碰坏|挖断|压坏)",
        ),
        (
            "road",
            r"出人命|出大事|容易出事|迟早出事|早晚出事|早晚要出事|会出事|要出事|"
            rf"(?:红绿灯|信号灯){_NP}{{0,4}}(?:坏|不亮|失灵)",
        ),
        (
            "road",
            rf"(?:护栏|栏杆|围栏|隔离栏){_NP}{{0,4}}(?:断了|坏了|没了|倒了|松了|松动|断开)|"
            r"路面结冰|结冰了|结了冰|路上全是冰",
        ),
    )
)

# all cues in one pass: one alternative per cue, named c<index>; at one position the first
# alternative wins, so strong cues are listed before the weak ones of their kind
_CUE_RE = re.compile("|".join(f"(?P<c{i}>{cue.pattern.pattern})" for i, cue in enumerate(_CUES)))
_HAZARD_RE = re.compile("|".join(f"(?P<h{i}>{p.pattern})" for i, (_, p) in enumerate(_HAZARDS)))

# --- context cues -------------------------------------------------------------------
# Negation right before the cue: "没有着火", "不是漏气", "没有人受伤".
_NEGATED = re.compile(
    r"(?:没有|没|不是|并没有|并没|并不是|不会|不要|不用|不需要|用不着|别|未|无|并非|不存在|避免了|"
    r"[打点烧]不|(?<!消)防)"
    rf"{_NP}{{0,2}}$"
)
# the whole clause says it was a false alarm
_FALSE_ALARM = re.compile(r"以为|原来是|做梦|梦见|梦到|误报|虚惊|假的|谣言|搞错|看错|不是真的")
# talks about the topic, not an event
_TOPIC = re.compile(
    r"咨询|请问|问一下|想问|想了解|了解一下|想知道|疫苗|方法|常识|技巧|注意事项|演练|培训|宣传|讲座|知识|教育|年检|灭火器|"
    r"理赔|赔偿|赔付|赔钱|要[^,。.!?;]{0,3}赔|让[^,。.!?;]{0,3}赔|认定书|事故认定|责任认定|处理结果|定损|索赔|维权|"
    r"保险|报销|医药费|医疗费|住院费|治疗费|新闻|报道|电影|电视剧|电视里|电视上|剧里|书里|小说|"
    r"游戏|短视频|视频里|"
    r"鉴定|诉讼|起诉|判决|法院|律师|工伤认定|伤残|抚恤|补偿|补贴|补助|救助金|捐款|"
    r"证明|手续|办理|申请|政策|规定|作文"
)
# hazards mentioned in a programme or a grant, not reported
_HAZARD_TOPIC = re.compile(r"改造|补贴|拆迁|征收|棚改|指标|资金|鉴定|评定|评估|检测")
# the past, far enough that nothing is acute now
_FAR_PAST = re.compile(
    r"去年|前年|那年|上个月|上月|上上|上次|上回|那天|那次|当时|当年|之前|以前|曾经|早前|"
    r"此前|先前|前段时间|前阵子|前些日子|几年前|多年前|[\d一二两三四五六七八九十几]+年前|"
    r"[\d一二两三四五六七八九十几]+个月前|(?:19|20)\d\d年|[\d一二三四五六七八九十]{1,3}月份|"
    r"\d{1,2}月\d{1,2}[日号]|[一二三四五六七八九十]{1,2}月[一二三四五六七八九十初]{1,3}[日号]?|"
    r"年初|年底|小时候|后来|事后|已经处理|处理完|处理过|已经好了|好了以后|出院|住过院|"
    r"康复|去世|过世|抢救无效|抢救过来|救过来|术后|治疗后|好转|"
    r"过去(?:[\d一二两三四五六七八九十几]+|好几|很多)(?:个月|年|天|周)|已经修好|修好了|灭了以后|扑灭|早就"
)
# recent past: a day or so ago - no advice, but staff should look at it
_RECENT_PAST = re.compile(
    r"这两天|这些天|近几天|连日|这段时间|昨天|昨晚|昨日|前天|前几天|前些天|上周|上星期|上礼拜|这几天|最近|近日|日前"
)
# the danger is over: "刚才着火了, 已经灭了" - staff should still look
_RESOLVED = re.compile(
    r"已经没事|没事了|已经好了|已经灭了|火灭了|扑灭了|已经救出来|救出来了|已经送医|送到医院了|"
    r"已经送去医院|已经处理好|已经修好|抢救过来"
)
# present / now markers (override a past marker in another clause)
_NOW = re.compile(
    r"(?<![到至])现在|正在|在烧|在冒|在流|在打|刚刚|刚才|刚|此刻|这会儿|这会|眼下|此时|马上|立刻|"
    r"快来|赶紧|赶快|快点|快救|救命|救救|还在|一直在|又|今天|今晚|今早|快!|!!|着呢"
)
# present markers strong enough to override a past marker, a question or a habit
_NOW_STRONG = re.compile(
    r"(?<![到至])现在|正在|在烧|在冒|在流|在打|刚刚|刚才|此刻|这会儿|眼下|此时|马上|快来|赶紧|赶快|快点|"
    r"快救|救命|救救|还在|一直在|快!|着呢"
)
# markers strong enough to give advice inside a long written post
_NOW_WRITTEN = re.compile(
    r"正在|此刻|此时此刻|救命|快来|还在(?:烧|冒|漏|打|流|困)|刚刚|刚才|现在正"
)
# conditionals anywhere before the cue in its sentence: "如果楼道堆满杂物, 着火了怎么办"
_CONDITIONAL = re.compile(
    r"万一|如果|假如|要是|一旦|假设|倘若|若是|担心|害怕|(?<![可哪])怕|恐怕|生怕|担忧|以免|以防|"
    r"防止|预防|防范|避免|迟早|早晚|差点|险些|差一点|一不小心|不小心就|会不会|"
    r"听说|据说|网上说|传言|传闻|谣传"
)
# risk words in the cue's own clause: "容易引发火灾", "存在倒塌危险"
_RISK = re.compile(
    r"容易|可能会|有可能|可能引|会引起|会引发|会导致|会造成|引发|引起|导致|造成|隐患|风险|随时|存在|极易|易发生|"
    r"易引发|安全吗|面临|危险"
)
_SUFFIX_RISK = re.compile(rf"^{_NP}{{0,3}}(?:隐患|风险|危险|的可能|的事故|事故|预警|险情)")
_QUESTION_WORDS = re.compile(
    r"应该|该怎么|该打|打什么电话|打哪个|什么电话|什么号码|哪个电话|找谁|找哪个|哪个部门|"
    r"归谁管|谁来管|谁管|如何|怎样|怎么处理|怎么报警|请问|问一下|问问|是不是|能不能|可不可以|"
    r"要不要|有没有|会不会|为什么|为何|凭什么|吗|多少|哪里可以|哪里能|哪儿可以|在哪里|在哪儿|往哪|去哪|什么时候|怎么办理|怎么买|"
    r"怎么申请|第一步|做什么|该找|该联系|找哪|联系谁|还是"
)
_PANIC = re.compile(r"怎么办|咋办|怎么整|快来|救命|快点|赶紧|快!")
_HABITUAL = re.compile(
    r"经常|老是|总是|时常|常常|频繁|多次|屡次|每次|每天|每晚|天天|长期|反复|(?<!一)动不动|三天两头|"
    r"好几次|几次|一再|屡屡|时不时"
)
_MITIGATED = re.compile(r"有点|有些|一点|一丝|轻微|稍微|隐约|淡淡|偶尔|有时|有时候|略微|点点")
_MAINTENANCE = re.compile(
    r"报修|维修|修一下|修理|来修|检修|更换|换一个|换新|修不好|没人修|没修|整改|的问题"
)
# formal written register: a post, not a call from the scene
_WRITTEN = re.compile(
    r"尊敬的|各位领导|领导(?:您好|你好|好)|有关部门|相关部门|恳请|恳求|敬请|贵部门|予以|特此|"
    r"此致|据悉|望.{0,3}(?:领导|部门|政府)|网友|楼主|本人|市长|书记"
)
# a pet is the patient ("我家狗中毒了"), not the agent ("被狗咬了")
_PET = re.compile(r"(?<!被)(?:狗|猫|宠物|狗狗|猫咪|小狗|小猫|鸟|兔子|仓鼠)")
# a person in the cue's clause: "我家狗咬了孩子, 孩子流血了" is about the child
_HUMAN = re.compile(
    r"人|我|你|他|她|孩子|小孩|老人|儿子|女儿|妈|爸|爷|奶|老公|老婆|邻居|工人|司机|大爷|大妈|"
    r"阿姨|叔叔|宝宝|学生"
)
# a thing, not a person, got hit: "路灯被车撞倒了"
_THING = re.compile(
    r"(?:路灯|灯杆|电线杆|护栏|栏杆|隔离栏|大树|树|大门|墙|减速带|垃圾桶|桩|车|电动车|自行车|"
    r"围栏|井盖|信号灯|红绿灯|消防栓|站牌|广告牌|门|玻璃|窗户)$"
)
# "挤得喘不过气", "房贷压得我喘不过气": a figure of speech
_FIGURATIVE = re.compile(rf"(?:挤|累|忙|压|气|吵|热|闷|笑|吓|烦|憋|逼)得{_NP}{{0,3}}$")
# a thing fell in, not a person: "我的钥匙掉水里了"
_OBJECT = re.compile(r"钥匙|手机|钱包|眼镜|戒指|帽子|鞋子|证件|身份证|耳机|项链|手表")
# a chronic condition or a diagnosis, not an event
_CHRONIC = re.compile(
    rf"(?:有(?!人|个|一|位|点|些)|患有|患了|患|得了|得过|查出|确诊|诊断|病史|慢性|老年){_NP}{{0,3}}$"
)
_SUDDEN = re.compile(r"突然|忽然|一下子")
# "着过火", "着火的事": a past experience or an event referred to, not one going on
_REFERENCE_AFTER = re.compile(r"^(?:的事|那件事|的事情|事件|一事|案|的时候)")
_EXPERIENTIAL_AFTER = re.compile(r"^过(?!来|去)")
_CHRONIC_AFTER = re.compile(r"^(?:病史|史|病人|患者|后遗症|的病人|的老人|康复)")
_CONDITIONAL_AFTER = re.compile(rf"^{_NP}{{0,3}}(?:的话|时怎么|时应该|时该)")
_PERFECTIVE_AFTER = re.compile(rf"^{_NP}{{0,3}}(?:了|啦|着呢|起来|不止|不停|!)")
_EXISTENTIAL_BEFORE = re.compile(
    rf"(?:有人|有个人|一个人|有个|好几个人|好多人|很多人|不少人|多人|几个人|孩子|老人|我){_NP}{{0,4}}$"
)
# a minor harm: "擦破点皮, 没什么事"
_MINOR = re.compile(
    r"没什么事|没啥事|没事|没大碍|不严重|不要紧|擦破点皮|擦破了点皮|破了点皮|小伤|轻伤|皮外伤"
)
# a past harm reported as a complaint: "孩子被老师打了, 想反映一下"
_REPORT = re.compile(
    r"想反映|反映一下|反映个|我要投诉|想投诉|投诉一下|要求处理|要个说法|讨个说法|给个说法"
)
# water from a pipe or the flat upstairs: a repair and a neighbours' matter, not 119
_INDOOR_LEAK = re.compile(r"漏水|水管|楼上|暖气|下水|返水|马桶|洗衣机|水龙头|渗水|水箱|热水器")
# a pollution complaint, not a fire: "烟囱冒黑烟", "烧垃圾冒浓烟"
_POLLUTION = re.compile(
    r"烟囱|工厂|厂|锅炉房|排放|烧烤|烧垃圾|焚烧|秸秆|油烟|污染|异味|排烟|尾气|烟尘"
)

_SENTENCE_END = "。!?;\n"
_CLAUSE_END = "。!?;\n,:、"


def _bounds(text: str, start: int, end: int, stops: str) -> tuple[int, int]:
    left = max(text.rfind(p, 0, start) for p in stops)
    rights = [i for i in (text.find(p, end) for p in stops) if i != -1]
    return left + 1, (min(rights) if rights else len(text))


@dataclass(frozen=True)
class _Verdict:
    level: EmergencyLevel
    kind: str
    start: int
    end: int
    reason: str


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    last = None
    for last in pattern.finditer(text):  # noqa: B007 - we want the last match
        pass
    return last


def _pet_patient(text: str) -> str | None:
    """A pet that suffers ("我家狗中毒了"), not one that bites ("被隔壁的大狗咬伤了")."""
    for m in _PET.finditer(text):
        if "被" not in text[max(0, m.start() - 6) : m.start()]:
            return m.group(0)
    return None


def _found(pattern: re.Pattern[str], text: str) -> str | None:
    m = pattern.search(text)
    return m.group(0) if m else None


@dataclass(frozen=True)
class _Context:
    """One cue occurrence and the text around it."""

    text: str
    cue: _Cue
    start: int
    end: int
    sentence: str
    clause: str
    before: str  # the cue's clause up to the cue
    sentence_before: str  # the cue's sentence up to the cue
    after: str  # the cue's clause after the cue
    rest: str  # from the cue's clause to the end of its sentence
    near: str  # a few characters around the cue, inside its clause
    terminator: str  # the character ending the sentence ("" at the end of the text)
    now: str | None  # a strong now-marker near the cue


def _context(text: str, cue: _Cue, start: int, end: int) -> _Context:
    s_start, s_end = _bounds(text, start, end, _SENTENCE_END)
    c_start, c_end = _bounds(text, start, end, _CLAUSE_END)
    # now-markers count only close to the cue ("刚刚立碑三年即将面临倒塌" is no fire)
    near = text[max(c_start, start - 8) : min(c_end, end + 6)]
    return _Context(
        text=text,
        cue=cue,
        start=start,
        end=end,
        sentence=text[s_start:s_end],
        clause=text[c_start:c_end],
        before=text[c_start:start],
        sentence_before=text[s_start:start],
        after=text[end:c_end],
        rest=text[c_start:s_end],
        near=near,
        terminator=text[s_end] if s_end < len(text) else "",
        now=_found(_NOW_STRONG, near),
    )


def _no_danger(c: _Context) -> str | None:
    """Why the cue reports no danger at all (NONE), or None."""
    kind = c.cue.kind
    if _NEGATED.search(c.before):
        return "negated:" + c.before[-4:]
    if hit := _found(_FALSE_ALARM, c.sentence):
        return "false-alarm:" + hit
    if kind in ("injury", "medical", "trapped", "violence") and (
        (hit := _pet_patient(c.before))
        or ((hit := _pet_patient(c.sentence_before)) and not _HUMAN.search(c.before))
    ):
        return "pet:" + hit
    passive = c.text.rfind("被", c.start - len(c.before), c.end)
    if kind in ("injury", "violence") and passive != -1:
        if m := _THING.search(c.text[c.start - len(c.before) : passive]):
            return "thing:" + m.group(0)
    smoke = "烟" in c.text[c.start : c.end]
    if kind == "trapped" and (obj := _last(_OBJECT, c.before)):
        human = _last(_HUMAN, c.before)
        if human is None or obj.start() > human.start():
            return "thing:" + obj.group(0)
    if kind == "medical" and (m := _FIGURATIVE.search(c.before)):
        return "figurative:" + m.group(0)
    if kind == "fire" and smoke and (hit := _found(_POLLUTION, c.sentence)):
        return "pollution:" + hit
    if hit := _found(_TOPIC, c.sentence):
        return "topic:" + hit
    if (
        kind == "medical"
        and not c.cue.strong
        and (_CHRONIC.search(c.before) or _CHRONIC_AFTER.search(c.after))
    ):
        return "chronic"
    if not c.now and (m := _REFERENCE_AFTER.search(c.after)):
        return "reference:" + m.group(0)
    if not c.now and (hit := _found(_FAR_PAST, c.sentence)):
        return "past:" + hit
    return None


def _not_acute(c: _Context) -> tuple[EmergencyLevel, str] | None:
    """Why a real danger is not acute now (mostly FLAG), or None."""
    flag = EmergencyLevel.FLAG
    if not c.now and (hit := _found(_RECENT_PAST, c.sentence)):
        return flag, "recent-past:" + hit
    if c.cue.kind == "flood" and (hit := _found(_INDOOR_LEAK, c.sentence_before)):
        return flag, "indoor-leak:" + hit
    if hit := _found(_RESOLVED, c.sentence):
        return flag, "resolved:" + hit
    if not c.now and _EXPERIENTIAL_AFTER.search(c.after):
        return flag, "experiential:过"
    if (m := _HABITUAL.search(c.before)) and not _NOW_STRONG.search(c.before[m.end() :]):
        return flag, "habitual:" + m.group(0)
    if not c.now and (hit := _found(_HABITUAL, c.sentence)):
        return flag, "habitual:" + hit
    # a question in the cue's clause or after it ("喂,12345吗,楼着火了" is no question)
    question = _found(_QUESTION_WORDS, c.rest)
    if question is None and c.terminator == "?" and not _PANIC.search(c.sentence):
        question = "?"
    if hit := _found(_CONDITIONAL, c.sentence_before) or _found(_CONDITIONAL_AFTER, c.after):
        # "万一着火了怎么办" asks for information; "担心会着火" reports a hazard
        if question is not None or _PANIC.search(c.sentence) or _QUESTION_WORDS.search(c.sentence):
            return EmergencyLevel.NONE, "hypothetical-question:" + hit
        return flag, "hypothetical:" + hit
    if hit := _found(_RISK, c.before) or _found(_SUFFIX_RISK, c.after):
        return flag, "risk:" + hit
    if question is not None and not c.now:
        # "着火了应该打什么电话?" may be real: staff look; "急救电话是多少" is not
        return (flag if c.cue.strong else EmergencyLevel.NONE), "question:" + question
    if c.cue.kind in ("gas", "flood", "trapped") and (hit := _found(_MITIGATED, c.clause)):
        return flag, "mitigated:" + hit
    if c.cue.kind == "gas" and not c.now and (hit := _found(_MAINTENANCE, c.sentence)):
        return flag, "maintenance:" + hit
    if c.cue.kind in ("injury", "medical") and (hit := _found(_MINOR, c.sentence)):
        return EmergencyLevel.NONE, "minor:" + hit
    if c.cue.kind in ("violence", "injury") and not c.now and (hit := _found(_REPORT, c.sentence)):
        return flag, "report:" + hit
    return None


def _present_sign(c: _Context) -> str | None:
    """Why the cue is happening now, or None (a weak cue without any sign)."""
    if c.now:
        return "present:" + c.now
    if m := _PERFECTIVE_AFTER.search(c.after):
        return "present:" + m.group(0)
    if c.terminator == "!":
        return "present:!"
    if m := _SUDDEN.search(c.before):
        return "present:" + m.group(0)
    if c.cue.strong:
        hit = _found(_NOW, c.near)
        return "present:" + hit if hit else "event:" + c.text[c.start : c.end]
    if m := _EXISTENTIAL_BEFORE.search(c.before):
        return "present:" + m.group(0)
    return None


def _judge(text: str, cue: _Cue, start: int, end: int) -> _Verdict:
    """The level of one cue occurrence, from its sentence and clause."""
    c = _context(text, cue, start, end)
    if reason := _no_danger(c):
        return _Verdict(EmergencyLevel.NONE, cue.kind, start, end, reason)
    if found := _not_acute(c):
        return _Verdict(found[0], cue.kind, start, end, found[1])
    if (sign := _present_sign(c)) is None:
        return _Verdict(EmergencyLevel.NONE, cue.kind, start, end, "no-present-sign")
    if len(text) > LONG_TEXT or _WRITTEN.search(text):
        if hit := _found(_NOW_WRITTEN, c.near):
            return _Verdict(EmergencyLevel.ADVICE, cue.kind, start, end, "present-written:" + hit)
        return _Verdict(EmergencyLevel.FLAG, cue.kind, start, end, "written-post")
    return _Verdict(EmergencyLevel.ADVICE, cue.kind, start, end, sign)


def _judge_hazard(text: str, kind: str, start: int, end: int) -> _Verdict:
    """A hazard is FLAG unless negated, a topic ("危房改造补贴") or long past."""
    s_start, s_end = _bounds(text, start, end, _SENTENCE_END)
    c_start, _ = _bounds(text, start, end, _CLAUSE_END)
    sentence = text[s_start:s_end]
    if _NEGATED.search(text[c_start:start]):
        return _Verdict(EmergencyLevel.NONE, kind, start, end, "negated")
    if hit := _found(_PET, text[c_start:start]):
        return _Verdict(EmergencyLevel.NONE, kind, start, end, "pet:" + hit)
    if hit := _found(_TOPIC, sentence) or _found(_HAZARD_TOPIC, sentence):
        return _Verdict(EmergencyLevel.NONE, kind, start, end, "topic:" + hit)
    if hit := _found(_FAR_PAST, sentence):
        return _Verdict(EmergencyLevel.NONE, kind, start, end, "past:" + hit)
    return _Verdict(EmergencyLevel.FLAG, kind, start, end, "hazard:" + text[start:end])


def _verdicts(norm: str) -> list[_Verdict]:
    out: list[_Verdict] = []
    for m in _CUE_RE.finditer(norm):
        cue = _CUES[int(str(m.lastgroup)[1:])]
        out.append(_judge(norm, cue, m.start(), m.end()))
    for m in _HAZARD_RE.finditer(norm):
        kind = _HAZARDS[int(str(m.lastgroup)[1:])][0]
        out.append(_judge_hazard(norm, kind, m.start(), m.end()))
    return out


def _rank(v: _Verdict) -> tuple[int, int, int]:
    return (v.level.value, -_PRIORITY.index(v.kind), -v.start)


def assess_emergency(text: str) -> EmergencyAssessment:
    """Decide whether a message reports danger now, a danger for staff, or neither.

    Args:
        text: The utterance (raw; it is normalised here, traditional → simplified).

    Returns:
        The assessment. At ADVICE, ``numbers`` is the union of the numbers of every
        present-danger cue ("楼下打起来了有人流血了" → 110 and 120).
    """
    norm = normalize_text(text)
    verdicts = _verdicts(norm)
    if not verdicts:
        return EmergencyAssessment(EmergencyLevel.NONE, None, (), "", "no-cue")
    best = max(verdicts, key=_rank)
    numbers: tuple[str, ...] = ()
    if best.level is EmergencyLevel.ADVICE:
        kinds = {v.kind for v in verdicts if v.level is EmergencyLevel.ADVICE}
        wanted = {n for k in kinds for n in NUMBERS.get(k, ())}
        if kinds - {"distress"}:  # a cry for help next to a kind: that kind's numbers
            wanted = {n for k in kinds - {"distress"} for n in NUMBERS.get(k, ())}
        numbers = tuple(n for n in _NUMBER_ORDER if n in wanted)
    return EmergencyAssessment(
        level=best.level,
        kind=best.kind,
        numbers=numbers,
        matched=norm[best.start : best.end],
        reason=best.reason,
    )


def find_emergency(text: str) -> list[EmergencySpan]:
    """Find present-danger cues in normalised text.

    Args:
        text: Normalised text.

    Returns:
        The cues judged ADVICE (not negated, not past, not hypothetical ...), in text
        order; of overlapping cues only the first, longest one.
    """
    present = [v for v in _verdicts(text) if v.level is EmergencyLevel.ADVICE]
    present.sort(key=lambda v: (v.start, v.start - v.end))
    hits: list[EmergencySpan] = []
    for v in present:
        if not hits or v.start >= hits[-1].end:
            hits.append(EmergencySpan(v.kind, v.start, v.end))
    return hits


def detect_emergency(text: str) -> Emergency | None:
    """Detect danger present now, which the hotline must hand over to 110, 119 or 120.

    Backward compatible: only ADVICE-level messages give a result, so callers that give
    advice on any result no longer advise on past incidents, hazards or questions. Use
    :func:`assess_emergency` to also see FLAG-level messages.

    Args:
        text: The utterance.

    Returns:
        The most dangerous present kind with the numbers to call, or None.
    """
    return assess_emergency(text).as_emergency()
