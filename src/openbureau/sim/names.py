"""Chinese name pools: surnames weighted by frequency, given-name characters, and look-alike characters.

Surname shares (per cent of the population) follow the Ministry of Public Security's household
registration statistics (2020 national name report: 王 7.1%, 李 7.0%, 张 6.6%, 刘 5.4%, 陈 4.5%, ...);
the top hundred cover about 85% of the population, the rest of the weight is spread over the tail here.
Typos replace a character with one that a pinyin input method offers next to it (same sound) or that
looks alike, the usual way a clerk or an applicant mistypes a name.
"""

from __future__ import annotations

_SURNAMES = """
王7.1 李7.0 张6.6 刘5.4 陈4.5 杨3.1 黄2.4 赵2.2 吴2.0 周1.9 徐1.6 孙1.5 马1.5 朱1.3 胡1.3 郭1.2 何1.2
林1.1 高1.1 罗1.1 郑1.0 梁0.9 谢0.8 宋0.8 唐0.8 许0.7 韩0.7 邓0.7 冯0.7 曹0.7 彭0.6 曾0.6 肖0.6 田0.6
董0.6 潘0.5 袁0.5 蔡0.5 蒋0.5 余0.5 于0.5 杜0.5 叶0.5 程0.5 魏0.4 苏0.4 吕0.4 丁0.4 任0.4 卢0.4 姚0.4
沈0.4 钟0.4 姜0.4 崔0.4 谭0.4 陆0.4 范0.3 汪0.3 廖0.3 石0.3 金0.3 韦0.3 贾0.3 夏0.3 付0.3 方0.3 邹0.3
熊0.3 白0.3 孟0.3 秦0.3 邱0.3 侯0.3 江0.3 尹0.3 薛0.2 闫0.2 段0.2 雷0.2 龙0.2 黎0.2 史0.2 陶0.2 贺0.2
毛0.2 郝0.2 顾0.2 龚0.2 邵0.2 万0.2 覃0.2 武0.2 钱0.2 戴0.2 严0.2 莫0.2 孔0.2 向0.2 常0.2 欧阳0.05
司马0.01 诸葛0.005 上官0.005
"""


def _parse_surnames(text: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    names: list[str] = []
    weights: list[float] = []
    for token in text.split():
        split = next(i for i, ch in enumerate(token) if ch.isdigit())
        names.append(token[:split])
        weights.append(float(token[split:]))
    total = sum(weights)
    return tuple(names), tuple(w / total for w in weights)


SURNAMES, SURNAME_WEIGHTS = _parse_surnames(_SURNAMES)

# Characters common in given names, by sex; a given name is one character (older people more often) or two.
MALE_CHARS: tuple[str, ...] = tuple(
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林阳亮成建峰国志文东博彬坤晨瑞海德新宏春庆振家子泽睿轩航昊然天一"
)
FEMALE_CHARS: tuple[str, ...] = tuple(
    "芳娜敏静丽艳娟霞秀英玲萍红燕玉桂兰梅琳雪婷慧颖倩洁琴云莉欣怡佳悦涵梦雨诗思晓妍嘉璐瑶露丹晶月蕾"
)

# A character and the one a typo most often puts in its place (same pinyin or similar shape).
_SIMILAR = """
伟玮 强蔷 磊垒 军君 勇永 杰洁 涛韬 明铭 超朝 刚钢 平萍 辉晖 鹏朋 华桦 飞菲 鑫欣 波博 斌彬 宇雨 浩昊
凯恺 健建 俊峻 帆凡 旭煦 宁凝 龙隆 林琳 阳洋 亮靓 成诚 建健 峰锋 国帼 志智 文雯 东冬 博波 彬斌 坤昆
晨辰 瑞锐 海嗨 德得 新欣 宏洪 春纯 庆青 振震 家佳 子紫 泽则 睿瑞 轩萱 航杭 然冉 天田 一依
芳方 娜纳 敏闽 静婧 丽莉 艳燕 娟鹃 霞侠 秀绣 英瑛 玲铃 萍平 红虹 燕艳 玉钰 桂贵 兰岚 梅玫 琳林 雪薛
婷亭 慧惠 颖莹 倩茜 洁杰 琴芹 云芸 莉丽 欣馨 怡宜 佳家 悦月 涵晗 梦孟 雨宇 诗师 思斯 晓筱 妍研 嘉佳
璐露 瑶遥 露璐 丹单 晶菁 月悦 蕾磊
王汪 李黎 张章 刘柳 陈程 杨阳 黄王 赵照 吴伍 周邹 徐许 孙荪 马玛 朱祝 胡湖 郭国 何和 林琳 高郜 罗骆
郑正 梁良 谢解 宋送 唐汤 许徐 韩寒 邓登 冯凤 曹漕 彭鹏 曾增 肖萧 田甜 董懂 潘盘 袁元 蔡彩 蒋姜 余于
于余 杜度 叶页 程成 魏卫 苏素 吕侣 丁叮 任仁 卢鲁 姚尧 沈审 钟仲 姜蒋 崔翠 谭覃 陆路 范凡 汪王 廖寥
石史 金今 韦魏 贾甲 夏霞 付傅 方芳 邹周 熊雄 白柏 孟梦 秦琴 邱丘 侯候 江姜 尹殷 薛雪 闫阎 段断 雷蕾
龙隆 黎李 史石 陶桃 贺何 毛茅 郝好 顾谷 龚宫 邵绍 万萬 覃谭 武吴 钱前 戴代 严颜 莫漠 孔空 向相 常长
"""

SIMILAR: dict[str, str] = {pair[0]: pair[1] for pair in _SIMILAR.split()}
