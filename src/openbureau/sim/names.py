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

# How each surname and given-name character is written in Latin letters (Hanyu Pinyin without tones, as
# passports write it: 曾 ZENG, 覃 QIN, 吕 LYU under the Ministry of Public Security's 2012 rule for ü) and in
# traditional characters (Hong Kong, Taiwan, Macau; surnames keep their own form: 余, 于, 范).
_FORMS = """
王:wang:王 李:li:李 张:zhang:張 刘:liu:劉 陈:chen:陳 杨:yang:楊 黄:huang:黃 赵:zhao:趙 吴:wu:吳 周:zhou:周 徐:xu:徐 孙:sun:孫 马:ma:馬
朱:zhu:朱 胡:hu:胡 郭:guo:郭 何:he:何 林:lin:林 高:gao:高 罗:luo:羅 郑:zheng:鄭 梁:liang:梁 谢:xie:謝 宋:song:宋 唐:tang:唐 许:xu:許
韩:han:韓 邓:deng:鄧 冯:feng:馮 曹:cao:曹 彭:peng:彭 曾:zeng:曾 肖:xiao:肖 田:tian:田 董:dong:董 潘:pan:潘 袁:yuan:袁 蔡:cai:蔡
蒋:jiang:蔣 余:yu:余 于:yu:于 杜:du:杜 叶:ye:葉 程:cheng:程 魏:wei:魏 苏:su:蘇 吕:lyu:呂 丁:ding:丁 任:ren:任 卢:lu:盧 姚:yao:姚
沈:shen:沈 钟:zhong:鍾 姜:jiang:姜 崔:cui:崔 谭:tan:譚 陆:lu:陸 范:fan:范 汪:wang:汪 廖:liao:廖 石:shi:石 金:jin:金 韦:wei:韋
贾:jia:賈 夏:xia:夏 付:fu:付 方:fang:方 邹:zou:鄒 熊:xiong:熊 白:bai:白 孟:meng:孟 秦:qin:秦 邱:qiu:邱 侯:hou:侯 江:jiang:江 尹:yin:尹
薛:xue:薛 闫:yan:閆 段:duan:段 雷:lei:雷 龙:long:龍 黎:li:黎 史:shi:史 陶:tao:陶 贺:he:賀 毛:mao:毛 郝:hao:郝 顾:gu:顧 龚:gong:龔
邵:shao:邵 万:wan:萬 覃:qin:覃 武:wu:武 钱:qian:錢 戴:dai:戴 严:yan:嚴 莫:mo:莫 孔:kong:孔 向:xiang:向 常:chang:常 欧阳:ouyang:歐陽
司马:sima:司馬 诸葛:zhuge:諸葛 上官:shangguan:上官 伟:wei:偉 强:qiang:強 磊:lei:磊 军:jun:軍 勇:yong:勇 杰:jie:傑 涛:tao:濤 明:ming:明
超:chao:超 刚:gang:剛 平:ping:平 辉:hui:輝 鹏:peng:鵬 华:hua:華 飞:fei:飛 鑫:xin:鑫 波:bo:波 斌:bin:斌 宇:yu:宇 浩:hao:浩 凯:kai:凱
健:jian:健 俊:jun:俊 帆:fan:帆 旭:xu:旭 宁:ning:寧 阳:yang:陽 亮:liang:亮 成:cheng:成 建:jian:建 峰:feng:峰 国:guo:國 志:zhi:志
文:wen:文 东:dong:東 博:bo:博 彬:bin:彬 坤:kun:坤 晨:chen:晨 瑞:rui:瑞 海:hai:海 德:de:德 新:xin:新 宏:hong:宏 春:chun:春 庆:qing:慶
振:zhen:振 家:jia:家 子:zi:子 泽:ze:澤 睿:rui:睿 轩:xuan:軒 航:hang:航 昊:hao:昊 然:ran:然 天:tian:天 一:yi:一 芳:fang:芳 娜:na:娜
敏:min:敏 静:jing:靜 丽:li:麗 艳:yan:艷 娟:juan:娟 霞:xia:霞 秀:xiu:秀 英:ying:英 玲:ling:玲 萍:ping:萍 红:hong:紅 燕:yan:燕 玉:yu:玉
桂:gui:桂 兰:lan:蘭 梅:mei:梅 琳:lin:琳 雪:xue:雪 婷:ting:婷 慧:hui:慧 颖:ying:穎 倩:qian:倩 洁:jie:潔 琴:qin:琴 云:yun:雲 莉:li:莉
欣:xin:欣 怡:yi:怡 佳:jia:佳 悦:yue:悅 涵:han:涵 梦:meng:夢 雨:yu:雨 诗:shi:詩 思:si:思 晓:xiao:曉 妍:yan:妍 嘉:jia:嘉 璐:lu:璐
瑶:yao:瑤 露:lu:露 丹:dan:丹 晶:jing:晶 月:yue:月 蕾:lei:蕾
"""
PINYIN: dict[str, str] = {}
TRADITIONAL: dict[str, str] = {}
for _token in _FORMS.split():
    _chars, _latin, _trad = _token.split(":")
    PINYIN[_chars], TRADITIONAL[_chars] = _latin, _trad
