"""Rewrites of weak resume sentences ("responsible for…", "участвовал в…", "көмектестім")
that follow their own advice: the duty phrase becomes an action verb in the sentence's own
language and person (Russian gender kept, Kazakh first person kept), or, where grammar
cannot be changed safely, a clear template to fill in. Never a splice that keeps the weak
verb. Pure and deterministic.
"""

from __future__ import annotations

import re

from resumebek.messages import Language

# kinds of weak phrase (set by the patterns in review_rules._WEAK)
RESPONSIBLE = "responsible"  # responsible for / отвечал за / жауап беремін
PARTICIPATED = "participated"  # participated in / участвовал в / қатыстым
HELPED = "helped"  # helped with / помогал / көмектестім
DUTIES = "duties"  # a label: duties included / обязанности / міндеттерім
BUSY = "busy"  # занимался

_RESULT_TAIL: dict[Language, str] = {
    "en": ", resulting in [a number: how many, how much, by what %]",
    "ru": "; результат — [цифра или %]",
    "kk": "; нәтижесі — [сан немесе %]",
}


def rewrite(sentence: str, *, language: Language, kind: str, start: int, end: int) -> str:
    """The suggested sentence for `sentence[start:end]`, a weak phrase of `kind`."""
    has_number = has_result_number(sentence)
    rewriters = {"en": _rewrite_en, "ru": _rewrite_ru, "kk": _rewrite_kk}
    body = rewriters[language](sentence, kind, start, end)
    if body is None:
        return _template(sentence, language, start, end)
    body = body.strip(" ;.,")
    body = body[:1].upper() + body[1:]
    return body if has_number else body + _RESULT_TAIL[language]


def has_result_number(sentence: str) -> bool:
    """A number that can be a result (a year such as 2024 is only a date)."""
    return bool(re.search(r"\d", re.sub(r"(?<!\d)(?:19|20)\d\d(?!\d)", " ", sentence)))


def is_label_only(sentence: str, kind: str, end: int) -> bool:
    """A bare "Обязанности:" or a table header ("Период | Место | Обязанности"): nothing
    after the label to rewrite."""
    return kind == DUTIES and not re.search(r"[^\W\d_]{2,}", sentence[end:])


# ------------------------------------------------------------------ templates


def _template(sentence: str, language: Language, start: int, end: int) -> str:
    if language == "en":
        # every English weak phrase takes a noun phrase: "[verb] the start-up of …" is grammar
        rest = sentence[end:].strip(" :;.,")
        if rest and not re.match(r"(?i)to\s", rest):
            return f"[Action verb: Led / Built / Tested] {rest} — result: [a number]"
        return "[Action verb: Led / Built / Organised] [what you did yourself] — result: [a number]"
    if language == "ru":
        verbs = _ru_gendered(("организовал", "внедрил", "провёл"), _ru_gender(sentence[start:end]))
        return f"[Глагол действия: {' / '.join(verbs)}] [что именно сделали лично] — результат: [цифра или %]"
    return "[Іс-әрекет етістігі: ұйымдастырдым / дайындадым / енгіздім] [нақты не істедіңіз] — нәтижесі: [сан немесе %]"


# ------------------------------------------------------------------ English

_IRREGULAR_PAST = {
    "writing": "wrote",
    "leading": "led",
    "running": "ran",
    "making": "made",
    "building": "built",
    "teaching": "taught",
    "selling": "sold",
    "buying": "bought",
    "keeping": "kept",
    "meeting": "met",
    "setting": "set",
    "holding": "held",
    "bringing": "brought",
    "doing": "did",
    "giving": "gave",
    "taking": "took",
    "finding": "found",
    "speaking": "spoke",
    "choosing": "chose",
    "drawing": "drew",
}
_IRREGULAR_BASE = {ing.removesuffix("ing"): past for ing, past in _IRREGULAR_PAST.items()}
_IRREGULAR_BASE |= {"write": "wrote", "make": "made", "take": "took", "give": "gave", "run": "ran"}

# "participated in the development of X" → "Developed X"
_EN_NOUNS = {
    "development": "Developed",
    "design": "Designed",
    "organization": "Organized",
    "organisation": "Organised",
    "preparation": "Prepared",
    "implementation": "Implemented",
    "launch": "Launched",
    "creation": "Created",
    "planning": "Planned",
    "analysis": "Analysed",
    "testing": "Tested",
    "installation": "Installed",
    "modernization": "Modernized",
    "modernisation": "Modernised",
    "migration": "Migrated",
    "automation": "Automated",
    "optimization": "Optimized",
    "optimisation": "Optimised",
    "construction": "Built",
    "translation": "Translated",
    "registration": "Registered",
    "coordination": "Coordinated",
    "administration": "Administered",
    "documentation": "Documented",
    "evaluation": "Evaluated",
    "presentation": "Presented",
    "distribution": "Distributed",
    "promotion": "Promoted",
    "management": "Managed",
    "recruitment": "Recruited",
}

_EN_DEFAULT = {RESPONSIBLE: "Managed"}


def _gerund_to_past(word: str) -> str | None:
    """ "updating" → "updated", "planning" → "planned", "writing" → "wrote"; None if not -ing."""
    low = word.lower()
    if not low.endswith("ing") or len(low) < 6:
        return None
    if low in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[low]
    return low[:-3] + "ed"  # updating → updated, planning → planned, managing → managed


def _base_to_past(word: str) -> str | None:
    """ "organize" → "organized", "prepare" → "prepared"; None for short or odd words."""
    low = word.lower()
    if low in _IRREGULAR_BASE:
        return _IRREGULAR_BASE[low]
    if len(low) < 4 or not low.isalpha():
        return None
    if low.endswith("e"):
        return low + "d"
    if low.endswith("y") and low[-2] not in "aeiou":
        return low[:-1] + "ied"
    return low + "ed"


# Endings of nouns, never of a verb's base form: "helped with registration of" must not
# become "Registrationed", nor "helped customers" "Customersed" (but "process", "focus" are
# verbs).
_NOUN_ENDINGS = ("tion", "sion", "ment", "ness", "ity", "ance", "ence", "ship", "ism")


def _looks_like_noun(word: str) -> bool:
    plural = word.endswith("s") and not word.endswith(("ss", "us"))
    return plural or word.endswith(_NOUN_ENDINGS)


def _rewrite_en(sentence: str, kind: str, start: int, end: int) -> str | None:
    head, rest = sentence[:start], sentence[end:]
    gerund = re.match(r"\s*([A-Za-z]+)", rest)
    if gerund and (past := _gerund_to_past(gerund.group(1))):
        return head + _case(past, head) + rest[gerund.end() :]
    noun = re.match(r"\s*(?:the\s+)?([A-Za-z-]+)\s+of\s+", rest, re.IGNORECASE)
    if noun and (verb := _EN_NOUNS.get(noun.group(1).lower())):
        return head + _case(verb, head) + " " + rest[noun.end() :]
    if kind == HELPED and (base := re.match(r"\s*([A-Za-z]+)", rest)):
        # "helped to organize X" (the pattern ate "to") → "Organized X"
        word = base.group(1).lower()
        past = _base_to_past(word)
        if (
            past
            and word not in {"the", "a", "an", "with", "our", "my"}
            and not _looks_like_noun(word)
        ):
            return head + _case(past, head) + rest[base.end() :]
    if kind in _EN_DEFAULT and rest.strip():
        return head + _case(_EN_DEFAULT[kind], head) + rest
    return None


def _case(verb: str, head: str) -> str:
    return verb[:1].upper() + verb[1:] if not head.strip() else verb.lower()


# ------------------------------------------------------------------ Russian


def _ru_gender(phrase: str) -> str:
    """ "f" for отвечала/участвовала, "p" for отвечали, "m" for отвечал, "" if unknown."""
    words = re.findall(r"[а-яё]+", phrase.lower())
    for word in words:
        if word.endswith(("ла", "лась")):
            return "f"
        if word.endswith(("ли", "лись")):
            return "p"
        if word.endswith(("л", "лся")):
            return "m"
    return ""


def _ru_gendered(verbs: tuple[str, ...], gender: str) -> list[str]:
    """Masculine past forms → the gender of the original ("(а)" only when unknown)."""
    out = []
    for verb in verbs:
        stem = verb
        if gender == "f":
            out.append("провела" if stem == "провёл" else stem + "а")
        elif gender == "p":
            out.append("провели" if stem == "провёл" else stem + "и")
        elif gender == "m":
            out.append(stem)
        else:
            out.append("провёл(а)" if stem == "провёл" else stem + "(а)")
    return out


# prepositional → accusative of the process noun after "участвовал в"; events are left to
# the template ("участвовал в конференции" is not "провёл конференцию")
_RU_EVENTS = re.compile(
    r"^(конференц|выставк|олимпиад|конкурс|хакатон|форум|семинар|тренинг|соревнован|"
    r"чемпионат|акци|мероприят|работе|жизни|компании|кампании|команде|организации)"
)


def _ru_accusative(word: str) -> str | None:
    low = word.lower()
    if _RU_EVENTS.match(low):
        return None
    if low in {"проекте", "аудите", "ремонте", "монтаже", "запуске", "поиске"}:
        return word[:-1]
    if low.endswith("нии"):  # внедрении → внедрение (verbal nouns in -ние)
        return word[:-1] + "е"
    if low.endswith("ии"):  # модернизации → модернизацию
        return word[:-1] + "ю"
    if low.endswith("ке") and not low.endswith("ске"):  # подготовке → подготовку
        return word[:-1] + "у"
    if low.endswith("стве"):  # строительстве → строительство
        return word[:-1] + "о"
    return None


def _rewrite_ru(sentence: str, kind: str, start: int, end: int) -> str | None:
    head, rest = sentence[:start], sentence[end:]
    gender = _ru_gender(sentence[start:end])
    if kind == RESPONSIBLE and rest.strip() and gender:
        # "отвечала за проверку" → "обеспечивала проверку": both take the accusative
        return head + _ru_case(_ru_gendered(("обеспечивал",), gender)[0], head) + rest
    if kind == PARTICIPATED and gender:
        noun = re.match(r"\s*([А-Яа-яЁё]+)", rest)
        acc = _ru_accusative(noun.group(1)) if noun else None
        if noun and acc:
            verb = "реализовал" if acc.lower() == "проект" else "провёл"
            verb = _ru_gendered((verb,), gender)[0]
            return head + _ru_case(verb, head) + " " + acc + rest[noun.end() :]
    return None


def _ru_case(verb: str, head: str) -> str:
    return verb[:1].upper() + verb[1:] if not head.strip() else verb


# ------------------------------------------------------------------ Kazakh

_KK_BACK = set("аоұыя")
_KK_FRONT = set("әеөүіэи")
_KK_VOICELESS = set("кқпстфхцчшщ")


def _kk_front(stem: str) -> bool:
    for ch in reversed(stem.lower()):
        if ch in _KK_BACK:
            return False
        if ch in _KK_FRONT:
            return True
    return False


def _kk_past_1sg(stem: str) -> str:
    """ "бер" → "бердім", "дайында" → "дайындадым", "тексер" → "тексердім"."""
    if stem.lower() in {"оқ", "тоқ"}:
        return stem + "ыдым"
    last = stem[-1:].lower()
    if last and last in "ғгб":  # voiced stem ends harden before -т: шығ → шықтым
        stem = stem[:-1] + {"ғ": "қ", "г": "к", "б": "п"}[last]
    consonant = "т" if stem[-1:].lower() in _KK_VOICELESS else "д"
    return stem + consonant + ("ім" if _kk_front(stem) else "ым")


def _kk_verbal_noun_stem(word: str) -> str | None:
    """ "беруге" → "бер", "дайындауға" → "дайында", "жоюға" → "жой" (dative verbal nouns)."""
    low = word.lower()
    if low.endswith(("юға", "юге")) and len(low) > 4:
        return word[:-3] + "й"
    if low.endswith(("уға", "уге")) and len(low) > 4:
        return word[:-3]
    return None


def _kk_accusative(word: str) -> str | None:
    """Possessive dative → accusative: "жай-күйіне" → "жай-күйін", "жұмысына" → "жұмысын"."""
    low = word.lower()
    if low.endswith(("ына", "іне")) and len(low) > 4:
        return word[:-1]
    return None


def _rewrite_kk(sentence: str, kind: str, start: int, end: int) -> str | None:
    before = sentence[:end]
    if kind in {HELPED, PARTICIPATED}:
        # "… кеңес беруге көмектестім" → "… кеңес бердім" (the phrase may hold the noun)
        m = re.search(r"([^\W\d_]+)\s+(?:көмектестім|қатыстым)\s*$", before, re.IGNORECASE)
        stem = _kk_verbal_noun_stem(m.group(1)) if m else None
        if m and stem:
            return sentence[: m.start()] + _kk_past_1sg(stem) + sentence[end:]
        return None
    if kind == RESPONSIBLE:
        m = re.search(
            r"([^\W\d_][\w-]*)\s+(жауап беремін|жауаптымын|жауапты болдым|жауапты едім)\s*$",
            before,
            re.IGNORECASE,
        )
        acc = _kk_accusative(m.group(1)) if m else None
        if m and acc:
            present = m.group(2).lower() in {"жауап беремін", "жауаптымын"}
            verb = "қамтамасыз етемін" if present else "қамтамасыз еттім"
            return sentence[: m.start()] + acc + " " + verb + sentence[end:]
    return None
