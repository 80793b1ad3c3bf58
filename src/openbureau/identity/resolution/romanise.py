"""Chinese names written in the romanisations of Taiwan and Hong Kong, read back to their pinyin.

Mainland passports and systems write a Chinese name in Hanyu Pinyin (``ZHANG Zhiming``), which
``normalise.latin_name_parts`` reads directly. Taiwan's passports and older foreign systems write it in
Wade-Giles (張志明 ``CHANG Chih-ming``, 許 ``Hsu``, 陳 ``Chen``), Hong Kong's in the Hong Kong Government
Cantonese Romanisation (陳大文 ``CHAN Tai Man``, 黃 ``Wong``, 張 ``Cheung``). Neither can be turned back
into pinyin on its own: ``Wong`` is 黃 (huang) or 王 (wang), ``Chan`` is 陳 (chen) or 曾 (zang).

So the reading goes the other way, as for surnames in ``latin_name_parts``: the run's Chinese names are
romanised (Wade-Giles by pypinyin, tone marks and apostrophes dropped as passports drop them; Cantonese
by the ``cantonese-romanisation`` tables of the Hong Kong Government scheme, every reading of each
character), and a Latin name that is not already pinyin of a name in the run takes the pinyin of the one
Chinese name it romanises. A Latin name that romanises two different names is left as written: an
ambiguous spelling must not pick a person. Only Chinese names whose surname's romanisation occurs among
the run's Latin words are romanised, so the common case (no such Latin name) costs one set look-up per
name.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache

_MAX_READINGS = 32  # Cantonese spellings kept per name (characters with several readings multiply)
LATIN_TOKEN = re.compile(r"[A-Za-z]+(?:[-'’][A-Za-z]+)*")  # a word of a Latin name, hyphens kept


@cache
def _to_traditional():
    import opencc

    return opencc.OpenCC("s2t").convert


@cache
def _cantonese():
    from cantoroman import Cantonese

    return Cantonese()


@lru_cache(maxsize=65_536)
def _char_spellings(char: str) -> tuple[str, tuple[str, ...]]:
    """One character's Wade-Giles spelling as passports write it (no apostrophe, no umlaut; "" when it has
    no reading) and its Hong Kong Cantonese spellings (of its traditional form)."""
    # pypinyin's dictionaries take 0.3 s to import: only processes that read a name pay it.
    from pypinyin import Style, lazy_pinyin

    wg = "".join(lazy_pinyin(char, style=Style.WADEGILES, errors="ignore"))
    wg = wg.replace("'", "").replace("’", "").replace("v", "u").replace("ü", "u")
    (cantonese,) = _cantonese().getRoman(_to_traditional()(char)) or [[]]
    return wg, tuple(cantonese or ())


@lru_cache(maxsize=4_096)
def surname_spellings(surname: str) -> frozenset[str]:
    """Every Wade-Giles and Cantonese spelling of a surname (simplified characters).

    Example:
        >>> sorted(surname_spellings("陈"))
        ['chan', 'chen', 'chun']
    """
    return frozenset(s.split(" ")[0] for s in name_spellings(surname, len(surname)))


def name_spellings(chars: str, cut: int) -> set[str]:
    """``"surname given"`` spellings of a Chinese name in Wade-Giles and Cantonese (``cut``: surname length).

    Example:
        >>> sorted(name_spellings("陈大文", 1))[:2]
        ['chan daaiman', 'chan daiman']
    """
    spelled = [_char_spellings(c) for c in chars]
    out = set()
    if all(wg for wg, _ in spelled):
        wg = [w for w, _ in spelled]
        out.add(f"{''.join(wg[:cut])} {''.join(wg[cut:])}")
    if all(hk for _, hk in spelled):
        for combo in itertools.islice(itertools.product(*(hk for _, hk in spelled)), _MAX_READINGS):
            out.add(f"{''.join(combo[:cut])} {''.join(combo[cut:])}")
    return out


def latin_words(text: str) -> list[str]:
    """The words of a Latin name, lower case, hyphens and apostrophes removed (``Chih-ming`` → ``chihming``)."""
    return [re.sub(r"[-'’]", "", t).lower() for t in LATIN_TOKEN.findall(text)]


def splits(words: Sequence[str]) -> list[str]:
    """Each way to read ``words`` as ``"surname given"``: any word may be the surname, the rest in order."""
    return [f"{w} {''.join(words[:i] + words[i + 1:])}" for i, w in enumerate(words)] if len(words) > 1 else []


def read_back(latin: Iterable[tuple[int, str]], chinese: Iterable[tuple[str, int, tuple[str, str]]],
              pinyin_keys: set[str]) -> dict[int, tuple[str, str]]:
    """Pinyin (surname, given name) of Latin names that romanise exactly one of the run's Chinese names.

    Args:
        latin: (row, name as written) of the Latin names.
        chinese: (simplified characters, surname length, pinyin parts) of the run's Chinese names.
        pinyin_keys: ``"surname given"`` pinyin of the run's Chinese names: a Latin name already written in
            pinyin is left to the pinyin comparison.

    Returns:
        Row → pinyin parts, for the Latin names read back.
    """
    # Latin names already written in the pinyin of a name of the run are the pinyin comparison's.
    latin = [(row, candidates) for row, text in latin
             if (candidates := splits(latin_words(text))) and not any(c in pinyin_keys for c in candidates)]
    givens: dict[str, set[str]] = {}  # surname as written -> given names written with it
    for _, candidates in latin:
        for c in candidates:
            surname, given = c.split(" ", 1)
            givens.setdefault(surname, set()).add(given)
    if not givens:
        return {}
    spelled: dict[str, set[tuple[str, str]]] = {}
    for chars, cut, parts in chinese:
        # Spelled in full only when the surname and the given name's first character could be the writing
        # of a Latin name of the run: most names stop at the first look-up.
        with_surname = [g for s in surname_spellings(chars[:cut]) for g in givens.get(s, ())]
        if not with_surname:
            continue
        wg, hk = _char_spellings(chars[cut])
        starts = tuple(x for x in (wg, *hk) if x)
        if starts and any(g.startswith(starts) for g in with_surname):
            for spelling in name_spellings(chars, cut):
                spelled.setdefault(spelling, set()).add(parts)
    if not spelled:
        return {}
    out = {}
    for row, candidates in latin:
        targets = {t for c in candidates for t in spelled.get(c, ())}
        if len(targets) == 1:
            out[row] = targets.pop()
    return out
