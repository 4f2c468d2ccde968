"""Language of a text: Kazakh, Russian or English (deterministic, pure).

Evidence, strongest first:
- Kazakh-only letters (ә ғ қ ң ө ұ ү һ і) in ordinary lower-case words, Kazakh function
  words and suffixes (also when typed without the special letters), and Kazakh in the Latin
  alphabet (ä ğ ş ū ñ ı, q, Kazakh function words);
- Russian and English function words and letters.
Capitalized words (names of people, cities, universities) and ALL-CAPS headings weigh
little, so a Russian resume full of Kazakh place names stays Russian and an English resume
with a Cyrillic name line stays English. Latin/Cyrillic homoglyphs inside a word are mapped
to the word's main script before anything is counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from resumebek.messages import Language

KAZAKH_LETTERS = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
_CYR_ONLY_RU = frozenset("ёъэщЁЪЭЩ")
_CYR_MOSTLY_RU = frozenset("ьцфв")
_LATIN_KK_LETTERS = frozenset("äğşūñıöüÄĞŞŪÑİÖÜáǵńóúýÁǴŃÓÚÝ")  # 2021 and 2018 alphabets

# Latin ↔ Cyrillic look-alikes (lower and upper case)
_LAT_TO_CYR = str.maketrans("aceopxyiACEHKMOPTXBY", "асеорхуіАСЕНКМОРТХВУ")
_CYR_TO_LAT = str.maketrans("асеорхуіАСЕНКМОРТХВУ", "aceopxyiACEHKMOPTXBY")

_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)

_KK_WORDS = frozenset(
    """
    және жане мен бен пен бойынша туралы арқылы аркылы үшін ушин болып болды бар жоқ жок
    қазір казир жылы жылдан жылға дейін дейин кейін кейин бұл бул осы сол ол мен біз сіз
    сіздің менің оның біздің жұмыс жумыс тілі тили тілдері білімі білім бiлiмi тәжірибе
    тәжірибесі тажирибе тажирибеси дағдылар дагдылар мамандығы мамандыгы түйіндеме туйиндеме
    атындағы атындагы қаласы каласы қ ж ашық жауапты ретінде ретинде керек емес
    еді еди деп сияқты сиякты көп коп жақсы жаксы жаңа жана ана орыс қазақ казак ағылшын
    агылшын еркін еркин оқу оку оқыту мектеп бөлімі болими басшысы туралы өзім озим
    сәлем салем сәлеметсіз рахмет құрметпен курметпен құрметті курметти көш даңғ
    бастап арасында кезінде кезде болады болған мүмкін барлық әр тағы ғана қана өте
    көптеген бірге сондай қатысты байланысты қызметкер қызметкерлер қызмет жұмыстар
    жылдары жылы жылдың жылғы айлық сағат күні бүгін ертең кеше ия жоқ маған саған оған
    бізге сізге деді береді алады жасады жасаймын істеймін білемін жшс жк
    """.split()
)
# Kazakh typed on a Russian keyboard: ә→а, і→и, ң→н, ғ→г, ү/ұ→у, қ→к, ө→о, һ→х
_DELETTER = str.maketrans("әіңғүұқөһ", "аингуукох")
_KK_SUFFIXES = (
    "лары",
    "лері",
    "дары",
    "дері",
    "тары",
    "тері",
    "ның",
    "нің",
    "дың",
    "дің",
    "тың",
    "тің",
    "ған",
    "ген",
    "қан",
    "кен",
    "мын",
    "мін",
    "пын",
    "пін",
    "бын",
    "бін",
    "сыз",
    "сіз",
    "ымыз",
    "іміз",
    "дағы",
    "дегі",
    "тағы",
    "тегі",
    "ында",
    "інде",
    "ынан",
    "інен",
    "лар",
    "лер",
    "дар",
    "дер",
    "лық",
    "лік",
    "дық",
    "дік",
    "тық",
    "тік",
)
_RU_WORDS = frozenset(
    """
    и в во на с со по для что это не как от из к за до при о об у же или но а так также
    который которая которые все его ее её их мы вы они я он она был была были быть есть
    опыт работы работа года лет г ул д кв пр мкр тел умею знание навыки образование обязанности
    достижения место работы стаж владение свободно разговорный родной языки язык тоо ао ип
    """.split()
)
_KK_WORDS_PLAIN = frozenset(w.translate(_DELETTER) for w in _KK_WORDS) - _KK_WORDS - _RU_WORDS
# without the special letters some suffixes look Russian ("-лик": кролик, аналитик)
_KK_SUFFIXES_PLAIN = tuple(
    sorted(
        {sfx.translate(_DELETTER) for sfx in _KK_SUFFIXES}
        - set(_KK_SUFFIXES)
        - {"лик", "дик", "тик", "ген", "кен"}
    )
)
_RU_SUFFIXES = (
    "ого",
    "его",
    "ому",
    "ему",
    "ыми",
    "ими",
    "ость",
    "ости",
    "ение",
    "ения",
    "ание",
    "ания",
    "ании",
    "ться",
    "тся",
    "ция",
    "ции",
    "ный",
    "ная",
    "ное",
    "ные",
    "ной",
    "ным",
    "ных",
    "ский",
    "ская",
    "ское",
    "ских",
    "ает",
    "ают",
    "яют",
    "ует",
    "уют",
    "ать",
    "ять",
    "ить",
    "еть",
    "ами",
    "ями",
    "ий",
    "ая",
    "ые",
    "ой",
)
_EN_WORDS = frozenset(
    """
    the and of in to with for a an is are was were be been i my me we our you your he she
    it its at on by from as that this these those or but not have has had will would can
    could should about into over under than then experience education skills work worked
    university school present years year company team project projects
    """.split()
)
_LATIN_KK_WORDS = frozenset(
    """
    jäne jane men ben pen boiynşa boyynsha boiynsha turaly arqyly üşin ushin bar joq qazir
    jyly jyldan deiin keiin osy bul jūmys jumys zhumys tili tilderi bilimi bilim täjiribe
    tajiribe dağdylar dagdylar mamandyğy tüyindeme tuyindeme tüiindeme ana orys qazaq
    ağylşyn agylshyn erkin qala qalasy atyndağy esimi tuğan tugan jyly oqu mektep
    """.split()
)


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: Language
    confidence: float  # 0..1
    scores: tuple[tuple[Language, float], ...] = ()


def _fix_homoglyphs(word: str) -> str:
    cyr = sum(1 for c in word if "\u0400" <= c <= "\u04ff")
    lat = sum(1 for c in word if c.isascii() and c.isalpha())
    if cyr and lat:
        return word.translate(_LAT_TO_CYR) if cyr >= lat else word.translate(_CYR_TO_LAT)
    return word


def _is_cyrillic(word: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in word)


def _weight(word: str, sentence_start: bool) -> float:
    """Ordinary lower-case words carry the language; names and headings much less."""
    if len(word) > 1 and word.isupper():
        return 0.4
    if word[0].isupper():
        # mid-sentence: a name; at a line or sentence start: often a name line too
        return 0.6 if sentence_start else 0.25
    return 1.0


_ADDRESS_RE = re.compile(
    r"\S+@\S+|(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|kz|ru|org|net|io)\S*", re.I
)


def detect_language(text: str) -> LanguageGuess:
    text = _ADDRESS_RE.sub(" ", text)  # emails and links are not words of any language
    kk = ru = en = 0.0
    latin_kk = 0.0
    sentence_start = True
    for raw in re.finditer(r"[^\W\d_]+|[.!?:\n•·\-–—|]", text):
        token = raw.group(0)
        if not token[0].isalpha():
            sentence_start = True
            continue
        if len(token) == 1 and text[raw.end() : raw.end() + 1] == ".":
            continue  # an initial or an abbreviation ("Д.", "г.", "т.ғ.к."): no language
        word = _fix_homoglyphs(token)
        w = _weight(word, sentence_start)
        sentence_start = False
        low = word.lower()
        if _is_cyrillic(word):
            if any(c in KAZAKH_LETTERS for c in word):
                kk += 2.0 * w
            if low in _KK_WORDS:
                kk += 2.0 * w
            elif low in _RU_WORDS:
                ru += 2.0 * w
            elif low in _KK_WORDS_PLAIN:
                kk += 1.5 * w  # Kazakh typed without its letters
            if any(c in _CYR_ONLY_RU for c in word):
                ru += 1.0 * w
            elif any(c in _CYR_MOSTLY_RU for c in low):
                ru += 0.5 * w  # native Kazakh words have no ь, ц, ф, в
            if len(low) > 4:
                if low.endswith(_KK_SUFFIXES):
                    kk += 0.7 * w
                elif low.endswith(_RU_SUFFIXES):
                    ru += 0.7 * w
                elif low.endswith(_KK_SUFFIXES_PLAIN):
                    kk += 0.5 * w
            ru += 0.1 * w  # Cyrillic with no other evidence leans Russian
        else:
            is_kk_latin = any(c in _LATIN_KK_LETTERS for c in word) or low in _LATIN_KK_WORDS
            if is_kk_latin:
                latin_kk += 2.0 * w
            if low in _EN_WORDS:
                en += 2.0 * w
            elif not is_kk_latin and "q" in low and "qu" not in low and len(low) > 2:
                latin_kk += 0.8 * w  # q without u is rare in English, common in Latin Kazakh
            en += 0.35 * w
    kk_total = kk + latin_kk
    scores: dict[Language, float] = {"kk": kk_total, "ru": ru, "en": en}
    best: Language = max(("kk", "ru", "en"), key=lambda lang: (scores[lang], lang == "ru"))
    total = sum(scores.values())
    if total <= 0:
        return LanguageGuess(language="ru" if _is_cyrillic(text) else "en", confidence=0.0)
    ordered = sorted(scores.values(), reverse=True)
    margin = (ordered[0] - ordered[1]) / max(ordered[0], 1e-9)
    size = min(1.0, total / 20.0)  # short texts earn less confidence
    confidence = round(max(0.0, min(1.0, (0.5 + 0.5 * margin) * size)), 3)
    return LanguageGuess(
        language=best,
        confidence=confidence,
        scores=tuple((lang, round(scores[lang], 2)) for lang in ("kk", "ru", "en")),
    )
