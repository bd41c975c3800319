"""Request type (投诉/求助/咨询/建议/举报/表扬) by keyword rules."""

from __future__ import annotations

import re

from ._normalize import normalize_text
from .negation import is_negated

__all__ = ["REQUEST_TYPES", "detect_request_type"]

#: All request types, in the order of the rules below.
REQUEST_TYPES = ("投诉", "求助", "咨询", "建议", "举报", "表扬")

# Explicit statements ("我要投诉", "我想咨询一下") decide on their own, first one wins.
_EXPLICIT = re.compile(r"投诉|举报|表扬|建议|咨询|求助")
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "表扬",
        re.compile(
            r"感谢|谢谢你们|表示感谢|点赞|锦旗|好评|给[^，。]{0,8}点个赞|非常满意|特别满意|辛苦了|负责任|热心"
        ),
    ),
    (
        "举报",
        re.compile(
            r"揭发|检举|偷偷|违规|非法|违法|私自|无证|黑车|黑作坊|传销|诈骗|偷排|偷倒|赌博|卖淫|群租"
        ),
    ),
    (
        "建议",
        re.compile(
            r"希望(?:能|可以|政府|有关|相关)?[^，。]{0,6}(?:增加|增设|安装|修建|建个|设置|开通|延长|多建|改善|优化)|能不能(?:增加|多|加|设|开|建|安装)|可不可以(?:增加|多|加|设|开|建)|提个意见|提议|最好能"
        ),
    ),
    (
        "求助",
        re.compile(
            r"帮帮|帮忙|帮我|救命|求求|怎么办啊|该怎么办|没办法了|走投无路|求你们|请[^，。]{0,4}帮"
        ),
    ),
    (
        "咨询",
        re.compile(
            r"请问|问一下|问下|想问|想了解|了解一下|打听|怎么办理|如何办理|在哪办|去哪|哪里可以|需要什么材料|什么条件|多少钱|什么时候|是否|能否|可以吗|吗[?？]?$|呢[?？]?$|[?？]$"
        ),
    ),
)
# A question that still reports a problem ("楼下吵得不行能不能管管？") is a complaint.
_PROBLEM = re.compile(
    r"吵|噪音|扰民|臭|脏|漏|坏了|堵|占|拖欠|不给|不发|乱|违章|违建|偷|投诉|不管|没人管|"
    r"停水|停电|没水|没电|没暖气|不热|不退|骗|欺诈|污染|黑烟|异味|垃圾"
)


def detect_request_type(text: str) -> str:
    """Classify what the resident wants: 投诉, 求助, 咨询, 建议, 举报 or 表扬.

    Explicit words ("我要投诉", "想咨询") decide first; otherwise cue words are tried in
    the order 表扬, 举报, 建议, 求助, 咨询. A question that also describes a problem is a
    complaint. The default is 投诉.

    Args:
        text: The utterance.

    Returns:
        One of ``REQUEST_TYPES``.
    """
    norm = normalize_text(text)
    if not norm:
        return "投诉"
    for m in _EXPLICIT.finditer(norm):
        if not is_negated(norm, m.start()):
            return m.group(0)
    for label, pattern in _CUES:
        if pattern.search(norm):
            if label == "咨询" and _PROBLEM.search(norm):
                return "投诉"
            return label
    return "投诉"
