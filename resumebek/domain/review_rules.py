"""The rule-based reviewer: pure, deterministic checks with evidence, in kk/ru/en.

It is the embedded reviewer when no LLM key is set, the fallback when the LLM fails, and the
source of the facts and the score anchor given to the LLM. Check `detail` strings are short
machine text (counts and names of things), never personal data from the resume.
The score comes from resumebek/domain/rubric.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from resumebek.domain import rewrites as rw
from resumebek.domain import rubric
from resumebek.domain.review_texts import join_list, text
from resumebek.messages import Check, Language, Review, TextSuggestion

SECTION_NAMES = ("summary", "experience", "education", "skills", "languages", "projects")

# Headings as written in kk (Cyrillic and the 2021 Latin alphabet), ru and en, normalized
# to lower case without punctuation.
_HEADINGS: dict[str, tuple[str, ...]] = {
    "summary": (
        "summary",
        "professional summary",
        "profile",
        "professional profile",
        "about me",
        "about",
        "objective",
        "career objective",
        "personal statement",
        "о себе",
        "обо мне",
        "цель",
        "профиль",
        "краткая информация",
        "кратко о себе",
        "дополнительная информация",
        "личные качества",
        "өзім туралы",
        "қысқаша мәлімет",
        "мақсат",
        "мақсаты",
        "мен туралы",
        "жеке қасиеттер",
        "özim turaly",
        "maqsat",
    ),
    "experience": (
        "experience",
        "work experience",
        "professional experience",
        "employment",
        "employment history",
        "work history",
        "internships",
        "internship",
        "career history",
        "опыт",
        "опыт работы",
        "трудовая деятельность",
        "профессиональный опыт",
        "места работы",
        "стажировки",
        "стажировка",
        "трудовой стаж",
        "тәжірибе",
        "жұмыс тәжірибесі",
        "тәжірибесі",
        "еңбек жолы",
        "еңбек тәжірибесі",
        "жұмыс өтілі",
        "еңбек өтілі",
        "тағылымдама",
        "täjiribe",
        "jūmys täjiribesi",
        "jumys tajiribesi",
    ),
    "education": (
        "education",
        "academic background",
        "qualifications",
        "education and training",
        "образование",
        "учеба",
        "учёба",
        "обучение",
        "білімі",
        "білім",
        "оқу",
        "білім беру",
        "bilimi",
        "bilim",
    ),
    "skills": (
        "skills",
        "technical skills",
        "key skills",
        "core skills",
        "competencies",
        "hard skills",
        "soft skills",
        "tools",
        "skills and tools",
        "навыки",
        "ключевые навыки",
        "профессиональные навыки",
        "умения",
        "компетенции",
        "программы",
        "компьютерные навыки",
        "владение пк",
        "программное обеспечение",
        "профессиональные навыки и знания",
        "дағдылар",
        "дағдылары",
        "кәсіби дағдылар",
        "біліктілігі",
        "біліктілік",
        "dağdylar",
        "dagdylar",
    ),
    "languages": (
        "languages",
        "language skills",
        "языки",
        "знание языков",
        "владение языками",
        "иностранные языки",
        "тілдер",
        "тіл білуі",
        "тілдерді білу",
        "tilder",
    ),
    "projects": (
        "projects",
        "portfolio",
        "selected projects",
        "academic projects",
        "publications",
        "проекты",
        "портфолио",
        "публикации",
        "жобалар",
        "портфолио",
        "jobalar",
    ),
}
_HEADING_LOOKUP: dict[str, str] = {
    phrase: section for section, phrases in _HEADINGS.items() for phrase in phrases
}
_MAX_HEADING_WORDS = max(len(p.split()) for p in _HEADING_LOOKUP)

# Content cues for sections written without a heading (prose or headless resumes).
_CONTENT_CUES: dict[str, re.Pattern[str]] = {
    "experience": re.compile(
        r"\b(intern|engineer|manager|assistant|specialist|developer|accountant|teacher|"
        r"worked|working|employed|стаж[её]р|инженер|менеджер|специалист|бухгалтер|повар|"
        r"работа(ю|л|ла)|тілші|маман|инженер|жұмыс істе|қызмет ет|жүргізуші|мейіргер|"
        r"ТОО|АО|LLP|LLC|ЖШС|АҚ)",
        re.IGNORECASE,
    ),
    "education": re.compile(
        r"(universit|college|institute|academy|bachelor|master|bsc|университет|колледж|"
        r"институт|академи|бакалавр|магистр|окончил|бітірдім)",
        re.IGNORECASE,
    ),
    "skills": re.compile(
        r"(excel|python|sql|1c|1с|autocad|photoshop|canva|word|java|power bi|ms office|"
        r"навык|умею|владею|дағды|skill)",
        re.IGNORECASE,
    ),
    "languages": re.compile(
        r"(english|russian|kazakh|английск|русск|казахск|ағылшын|орыс|қазақ|ielts|toefl|"
        r"\b[ABC][12]\b)",
        re.IGNORECASE,
    ),
}

# Repetitions are bounded everywhere: an unbounded `[\w.]+@` is quadratic on one long token
# (200,000 letters took minutes), and this runs on the actors' event loop.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,4}")
_PHONE = re.compile(r"(?<!\d)(?:\+7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)")
_LINK = re.compile(
    r"(https?://|www\.|linkedin\.com|github\.com|gitlab\.com|behance\.net|t\.me/|"
    r"dribbble\.com|hh\.kz/resume|kaggle\.com)",
    re.IGNORECASE,
)
_URL = re.compile(
    r"(https?://\S{1,300}|www\.\S{1,300}|(?<![\w-])[\w-]{1,63}\.(?:com|kz|ru|org|net|io|me)/\S{0,300})"
)

_BULLET = re.compile(r"^\s*(?:[-–—•*▪●◦·‣○■□➢►✓✔]|\d{1,2}[.)]\s|[\ue000-\uf8ff])")

_YEAR = r"(?:19[5-9]\d|20[0-4]\d)"
_PRESENT = (
    r"(?:present|now|current|today|н\.\s?в\.|наст\.?\s*вр(?:емя)?\.?|настоящее время|"
    r"по настоящее время|сейчас|қазір|қазіргі уақытқа дейін|qazir)"
)
_RANGE = re.compile(
    rf"(?:(\d{{1,2}})[./])?({_YEAR})\s*(?:г\.|ж\.|жж\.)?\s*[-–—]{{1,2}}\s*"
    rf"(?:(?:[A-Za-zА-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]+\.?\s+)?(?:(\d{{1,2}})[./])?({_YEAR})|({_PRESENT}))",
    re.IGNORECASE,
)
_ANY_YEAR = re.compile(rf"(?<!\d){_YEAR}(?!\d)")

_METRIC = re.compile(
    r"(?<![\w.,+])(\d+(?:[.,]\d+)?)\s*(%|процент|пайыз|₸|тг|тенге|kzt|\$|usd|млн|млрд|"
    r"тыс\.?|мың|k\b|million|thousand)?(?![\w])",
    re.IGNORECASE,
)

_IIN = re.compile(r"(?<!\d)\d{12}(?!\d)|\b(?:ИИН|ЖСН|IIN)\b\s*[:№]?\s*\d", re.IGNORECASE)
_MARITAL = re.compile(
    r"(marital status|\bmarried\b|\bdivorced\b|семейное положение|\bженат\b|\bзамужем\b|"
    r"\bхолост\b|не замужем|\bразвед[её]н|отбасылық жағдай|үйленген|тұрмыс құрған|"
    r"\bбойдақ\b|отбасылы)"
)
_MONTHS = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|январ|феврал|март|апрел|ма[йя]|"
    r"июн|июл|август|сентябр|октябр|ноябр|декабр|қаңтар|ақпан|наурыз|сәуір|мамыр|маусым|"
    r"шілде|тамыз|қыркүйек|қазан|қараша|желтоқсан)\w*"
)
_BIRTH_DATE = re.compile(
    r"(birth|born|d\.o\.b|dob|рожд|родил|туған|tuğan)[^\n]{0,25}?"
    rf"(\d{{1,2}}[./-]\d{{1,2}}[./-](?:19|20)?\d{{2}}|\d{{1,2}}\s+{_MONTHS}\s+(?:19|20)\d{{2}})"
)
_ADDRESS = re.compile(
    r"(\bул\.|\bулица\b|көшесі|\bкөш\.|\bпр-т\b|\bпроспект\b|\bмкр\.?|\bмикрорайон\b|"
    r"даңғылы|\bдаңғ\.|шағын ауданы|ықшамауданы|\bstreet\b|\bstr\.|\bavenue\b|\bave\.)[^\n]{0,40}?\d+"
    r"|\b(?:кв\.|apt\.?|пәтер)\s*\d+"
)
# Text addressed to an AI reviewer. Imperatives only: an AI engineer's resume may well say
# "worked as an AI engineer" or "designed system prompts" without being an injection.
_INJECTION = re.compile(
    r"((?:ignore|disregard|forget) (?:all |any )?(?:the |your )?(?:previous|prior|above|earlier) "
    r"(?:instructions|prompts|rules)|note to the ai|to the ai reviewer|ai reviewer:|"
    r"(?:reveal|repeat|print) (?:the |your )?system prompt|"
    r"(?:give|rate|score) (?:this (?:resume|cv) |me |it )?(?:a )?10(?:/10| out of 10)|"
    r"игнорируй(?:те)? (?:все )?(?:предыдущие |прежние )?инструкции|"
    r"поставь(?:те)? (?:этому резюме )?10(?:/10| из 10)|"
    r"алдыңғы нұсқауларды (?:елеме|елемеңіз|ескерме)|10/10 қой)"
)

# Weak phrasing → (language of the phrase, kind of phrase: how rewrites.py rewrites it).
_WEAK: tuple[tuple[re.Pattern[str], Language, str], ...] = (
    (re.compile(r"\b(?:was |were )?responsible for\b", re.IGNORECASE), "en", rw.RESPONSIBLE),
    (
        re.compile(
            r"\b(?:my )?(?:duties|responsibilities|tasks) (?:included|were)\b", re.IGNORECASE
        ),
        "en",
        rw.DUTIES,
    ),
    (re.compile(r"\bparticipated in\b", re.IGNORECASE), "en", rw.PARTICIPATED),
    (re.compile(r"\b(?:was )?involved in\b", re.IGNORECASE), "en", rw.PARTICIPATED),
    (re.compile(r"\bhelped (?:with|to)\b", re.IGNORECASE), "en", rw.HELPED),
    (re.compile(r"\bassisted (?:with|in)\b", re.IGNORECASE), "en", rw.HELPED),
    (re.compile(r"\bworked on\b", re.IGNORECASE), "en", rw.PARTICIPATED),
    (re.compile(r"\bотвечал[аи]? за\b", re.IGNORECASE), "ru", rw.RESPONSIBLE),
    (
        re.compile(r"(?:\b(?:мои |в мои |в )?обязанности(?: входило)?:?)", re.IGNORECASE),
        "ru",
        rw.DUTIES,
    ),
    (
        re.compile(r"\b(?:участвовал[аи]?|принимал[аи]? участие) во?\b", re.IGNORECASE),
        "ru",
        rw.PARTICIPATED,
    ),
    (re.compile(r"\bпомогал[аи]?\b", re.IGNORECASE), "ru", rw.HELPED),
    (re.compile(r"\bзанимал(?:ся|ась|ись)\b", re.IGNORECASE), "ru", rw.BUSY),
    (re.compile(r"(?<!\w)\w{1,40}\s+қатыстым\b", re.IGNORECASE), "kk", rw.PARTICIPATED),
    (re.compile(r"\bқатыстым\b", re.IGNORECASE), "kk", rw.PARTICIPATED),
    (
        re.compile(
            r"\bжауапты (?:болдым|болып|едім)|\bжауап беремін\b|\bжауаптымын\b", re.IGNORECASE
        ),
        "kk",
        rw.RESPONSIBLE,
    ),
    (re.compile(r"\bміндеттер(?:ім|і)\b:?", re.IGNORECASE), "kk", rw.DUTIES),
    (re.compile(r"\bкөмектестім\b", re.IGNORECASE), "kk", rw.HELPED),
)

# One pass over a line before trying each weak pattern (most lines have none).
_ANY_WEAK = re.compile("|".join(f"(?:{p.pattern})" for p, _l, _r in _WEAK), re.IGNORECASE)

_STRONG = re.compile(
    r"\b(led|built|developed|designed|created|launched|increased|reduced|cut|improved|"
    r"organi[sz]ed|implemented|trained|prepared|delivered|analy[sz]ed|achieved|grew|raised|"
    r"managed|coordinated|negotiated|automated|founded|won|"
    r"разработал|внедрил|увеличил|сократил|организовал|руководил|подготовил|провел|провёл|"
    r"создал|запустил|обучил|повысил|снизил|оптимизировал|добил|выиграл|"
    r"әзірледім|енгіздім|ұйымдастырдым|өткіздім|басқардым|дайындадым|құрдым|арттырдым|"
    r"азайттым|көбейттім|оқытамын|жасаймын|жасадым|іске асырдым|жеңдім|басқарамын|"
    r"ұйымдастырамын|oqyttym|basqardym)\w*"
)

_STUDENT = re.compile(
    r"(\bstudent|undergraduate|graduate student|recent graduate|\bintern\b|internship|"
    r"expected (?:19|20)\d\d|\b\d(?:st|nd|rd|th)[- ]year|"
    r"студент|\d[\s-]?курс|курса\b|\bgpa\b|стажир|стаж[её]р(?:а|у|ом|ка|ки|ке|кой)?\b|"
    r"\btrainee\b(?!\s+program)|выпускни|"
    r"курс студенті|студенті|тағылымдама|практикант|үміткер|bakalavriat|studenti)"
)
_WORD = re.compile(r"[^\W\d_]{2,}")

# Fields where recruiters open a LinkedIn/GitHub/portfolio link (IT, business, academia,
# design) and trades or services where nobody does (a cook, a welder, a mining engineer).
_PROFILE_FIELD = re.compile(
    r"(?<!\w)(develop|programm|software|python|javascript|java\b|sql|data (?:analy|scien)|devops|"
    r"\bit\b|frontend|backend|web|qa engineer|machine learning|designer|design\b|figma|ux\b|ui\b|"
    r"behance|dribbble|portfolio|marketing|smm|analyst|consult|finance|financ|audit|"
    r"business|product manager|project manager|researcher|research|phd|publications|"
    r"программист|разработчик|аналитик|маркетолог|маркетинг|дизайнер|дизайн|финанс|"
    r"исследоват|научн|публикаци|бизнес|консалт|проект-менеджер|"
    r"бағдарламашы|әзірлеуші|талдаушы|сарапшы|дизайнер|маркетинг|қаржы|ғылыми|зерттеу)"
)
_TRADE_FIELD = re.compile(
    r"(?<!\w)(cook\b|teacher|tutor|chef|welder|welding|driver|electrician|mechanic|plumber|builder|"
    r"construction worker|mining|miner\b|waiter|waitress|cashier|nurse|caregiver|security guard|"
    r"cleaner|warehouse|loader|operator|technician|foreman|"
    r"повар|су-шеф|сварщик|водител|электрик|электромонт|слесар|сантехник|строител|"
    r"горн|шахт|рудник|официант|кассир|медсест|медбрат|санитар|охранник|уборщ|грузчик|"
    r"кладовщик|оператор|монтажник|прораб|машинист|тракторист|учител|педагог|воспитател|"
    r"аспаз|дәнекерлеуші|жүргізуші|электромонтер|слесарь|құрылысшы|кенші|кен\b|"
    r"даяшы|мейірбике|мейіргер|күзетші|техник|мұғалім|тәрбиеші|оқытушы)"
)


@dataclass(frozen=True, slots=True)
class _Weak:
    sentence: str  # the sentence of the resume holding the phrase (shown as "original")
    language: Language
    kind: str  # rewrites.RESPONSIBLE, PARTICIPATED, …
    phrase: str
    start: int
    end: int


@dataclass(slots=True)
class _Analysis:
    """Everything measured once; checks and texts are built from it."""

    lines: list[str]
    words: int
    stage: str  # "student" | "experienced"
    email: bool
    phone: bool
    link: bool
    headings: set[str] = field(default_factory=set)
    inferred: set[str] = field(default_factory=set)
    bullets: int = 0
    longest_line_words: int = 0
    long_lines: int = 0
    metrics: int = 0
    quantified_bullets: int = 0  # bullet lines with a number in them
    weak: list[_Weak] = field(default_factory=list)
    strong: int = 0
    years: int = 0
    ranges: int = 0
    inverted: int = 0
    overshare: list[str] = field(default_factory=list)
    injection: bool = False
    glued: bool = False
    pages: int = 0  # from a "pages=N" note (documents); 0 = unknown (pasted text)
    profile_field: bool = False  # a field where a profile link is worth adding (see above)
    atypical: bool = False  # forced through ("analyze anyway") or hardly any resume signals


def normalize(text_in: str) -> str:
    """NFKC, no NUL or replacement chars, unified newlines: what every check reads."""
    cleaned = unicodedata.normalize("NFKC", text_in).replace("\r\n", "\n").replace("\r", "\n")
    return cleaned.replace("\x00", "").replace("\ufffd", "")


def _heading_key(line: str) -> str:
    low = line.lower().strip()
    low = re.sub(r"[\ue000-\uf8ff•·▪●:|/\\_*#=~–—-]+", " ", low)
    low = re.sub(r"[^\w\s]", " ", low)
    return " ".join(low.split())


def _headings_in_line(line: str) -> set[str]:
    """Sections whose heading is this line: a heading alone ("ОПЫТ РАБОТЫ"), several in
    a row (two-column "SKILLS EXPERIENCE"), or a heading before a colon ("Skills: Excel")."""
    stripped = line.strip()
    if not stripped or len(stripped) > 120:
        return set()
    found: set[str] = set()
    labelled = re.match(r"^(.{1,40}?)\s*[:|]", stripped)
    if labelled:
        section = _HEADING_LOOKUP.get(_heading_key(labelled.group(1)))
        if section:
            return {section}
    # hh.ru style "Опыт работы — 7 лет 5 месяцев": a heading followed by a dash
    head_dash = re.split(r"\s[—–-]\s", stripped, maxsplit=1)[0]
    if len(head_dash) <= 40 and head_dash != stripped:
        section = _HEADING_LOOKUP.get(_heading_key(head_dash))
        if section:
            return {section}
    if len(stripped) > 60:
        return set()
    words = _heading_key(stripped).split()
    if not words or len(words) > 8:
        return set()
    i = 0
    while i < len(words):
        for size in range(min(_MAX_HEADING_WORDS, len(words) - i), 0, -1):
            section = _HEADING_LOOKUP.get(" ".join(words[i : i + size]))
            if section:
                found.add(section)
                i += size
                break
        else:
            return set()  # a word that is not part of a heading: not a heading line
    return found


def _sentence_around(line: str, pos: int) -> tuple[str, int]:
    """The sentence of `line` around `pos` (at most ~200 chars) and pos inside it."""
    start = 0
    for m in re.finditer(r"(?:(?<=\w{3})\.|[;!?])(?:\s+|$)", line):
        if m.end() <= pos:
            start = m.end()
        elif m.start() >= pos:
            sentence = line[start : m.start() + 1]
            break
    else:
        sentence = line[start:]
    sentence = _BULLET.sub("", sentence, count=1) if _BULLET.match(sentence) else sentence
    offset = line.find(sentence, start)
    rel = max(0, pos - offset)
    if len(sentence) > 200:  # cut at spaces, never inside a word
        cut_from = max(0, rel - 60)
        if cut_from:
            space = sentence.find(" ", cut_from, rel)
            cut_from = space + 1 if space >= 0 else cut_from
        cut_to = cut_from + 200
        space = sentence.rfind(" ", rel + 1, cut_to)
        sentence = sentence[cut_from : space if space > 0 else cut_to]
        rel -= cut_from
    return _close_quote(" ".join(sentence.split()), rel), rel


def _close_quote(sentence: str, rel: int) -> str:
    """A quote never ends inside parentheses or on a comma: "… инфраструктуру (VMware," →
    "… инфраструктуру"."""
    depth_at: list[int] = []
    for i, ch in enumerate(sentence):
        if ch == "(":
            depth_at.append(i)
        elif ch == ")" and depth_at:
            depth_at.pop()
    if depth_at and depth_at[0] > rel:
        sentence = sentence[: depth_at[0]]
    return sentence.rstrip(" ,;:—–-")


def _logical_lines(lines: list[str]) -> list[str]:
    """Re-join lines a PDF wrapped mid-sentence (the next line starts in lower case, or the
    line ends on a comma or inside parentheses)."""
    out: list[str] = []
    for ln in lines:
        prev = out[-1] if out else ""
        wrapped = ln[:1].islower() and prev[-1:] not in ".;:!?"
        unfinished = prev.endswith(",") or prev.count("(") > prev.count(")")
        if prev and (wrapped or unfinished) and not _BULLET.match(ln):
            out[-1] = f"{out[-1]} {ln}"
        else:
            out.append(ln)
    return out


# A resume is a few thousand characters; a 300-page thesis must not hold the event loop
# for long: the checks read the head and the tail of a longer text (the word count does not).
MAX_CHECKED_CHARS = 30_000
_HEAD_CHARS = 22_000


def _analyse(text_in: str, notes: tuple[str, ...]) -> _Analysis:
    body = normalize(text_in)
    words = len(_WORD.findall(body))
    if len(body) > MAX_CHECKED_CHARS:
        tail = MAX_CHECKED_CHARS - _HEAD_CHARS
        body = body[:_HEAD_CHARS] + "\n" + body[-tail:]
    lines = [ln.strip() for ln in body.split("\n")]
    lines = [ln for ln in lines if ln]
    low = body.lower()  # the keyword patterns are lower case: faster than IGNORECASE
    stage = "student" if _STUDENT.search(low) else "experienced"
    a = _Analysis(
        lines=lines,
        words=words,
        stage=stage,
        email=bool(_EMAIL.search(body)),
        phone=bool(_PHONE.search(body)),
        link=bool(_LINK.search(body)),
        glued="glued_words" in notes,
        pages=_pages(notes),
    )
    for ln in lines:
        a.headings |= _headings_in_line(ln)
    for section, cue in _CONTENT_CUES.items():
        if section not in a.headings and cue.search(body):
            a.inferred.add(section)
    for ln in lines:
        if _BULLET.match(ln):
            a.bullets += 1
            if _count_numbers(ln):
                a.quantified_bullets += 1
        n = len(_WORD.findall(ln))
        a.longest_line_words = max(a.longest_line_words, n)
        if n >= 40:
            a.long_lines += 1
    a.metrics = _count_numbers(body)
    for raw_line in _logical_lines(lines):
        ln = " ".join(raw_line.split())
        if not _ANY_WEAK.search(ln):
            continue
        for pattern, lang, repl in _WEAK:
            hit = pattern.search(ln)
            if hit:
                sentence, _pos = _sentence_around(ln, hit.start())
                m2 = pattern.search(sentence)
                if m2:
                    phrase = m2.group(0).strip(" :")
                    a.weak.append(_Weak(sentence, lang, repl, phrase, m2.start(), m2.end()))
                break
    a.strong = len(_STRONG.findall(low))
    a.years = len(_ANY_YEAR.findall(body))
    for m in _RANGE.finditer(body):
        a.ranges += 1
        start_year = int(m.group(2))
        if m.group(4):
            end_year = int(m.group(4))
            start_month = int(m.group(1)) if m.group(1) else 0
            end_month = int(m.group(3)) if m.group(3) else 13
            if (end_year, end_month) < (start_year, start_month):
                a.inverted += 1
    if _IIN.search(body):
        a.overshare.append("iin")
    if _MARITAL.search(low):
        a.overshare.append("marital")
    if _BIRTH_DATE.search(low):
        a.overshare.append("birth_date")
    if _ADDRESS.search(low):
        a.overshare.append("address")
    # invisible text (white, tiny, render mode 3) was dropped by the extractor: it is how
    # injections and keyword stuffing hide, so it counts like visible instructions
    a.injection = bool(_INJECTION.search(low)) or "invisible_text" in notes
    profile = len(_PROFILE_FIELD.findall(low))
    a.profile_field = profile > 0 and profile >= len(_TRADE_FIELD.findall(low))
    a.atypical = bool(_ATYPICAL_NOTES.intersection(notes)) or _resume_signals(a) <= 1
    return a


# Notes the analyzer adds when the user pressed "analyze anyway" or detection was unsure.
FORCED_NOTE = "forced"
WEAK_RESUME_NOTE = "weak_resume"
_ATYPICAL_NOTES = frozenset({FORCED_NOTE, WEAK_RESUME_NOTE})


def _count_numbers(text: str) -> int:
    """Numbers that can measure a result: contacts, dates and date ranges dropped first."""
    scrubbed = _EMAIL.sub(" ", text)
    scrubbed = _PHONE.sub(" ", scrubbed)
    scrubbed = _URL.sub(" ", scrubbed)
    scrubbed = _RANGE.sub(" ", scrubbed)
    scrubbed = re.sub(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{1,2}[./]\d{4}", " ", scrubbed)
    count = 0
    for m in _METRIC.finditer(scrubbed):
        if m.group(2) is None and re.fullmatch(_YEAR, m.group(1)):
            continue
        count += 1
    return count


def _resume_signals(a: _Analysis) -> int:
    """How many of the basic marks of a resume the text has (a poem or a note has 0–1)."""
    return sum(
        (
            a.email or a.phone,
            bool(a.headings),
            a.ranges > 0,
            bool(a.inferred & {"experience", "education"}) or bool(a.headings & {"experience"}),
        )
    )


def career_stage(a: _Analysis) -> str:
    """What the summary calls the resume: "student", "experienced" only with experience
    shown (a section and dates), else a neutral "general"."""
    if a.stage == "student":
        return "student"
    has_experience = "experience" in a.headings | a.inferred
    return "experienced" if has_experience and a.ranges > 0 else "general"


def _pages(notes: tuple[str, ...]) -> int:
    for note in notes:
        if note.startswith("pages=") and note[6:].isdigit():
            return int(note[6:])
    return 0


_MAX_PAGES = {"student": 1, "experienced": 3}


def _length_bounds(stage: str) -> tuple[int, int]:
    """Acceptable word counts: a student resume is about one page, an experienced one <= 2."""
    return (80, 650) if stage == "student" else (110, 1100)


@dataclass(frozen=True, slots=True)
class RuleFindings:
    """The rules' checks and score, reused by the LLM path as facts and anchor."""

    checks: tuple[Check, ...]
    score: int
    injection: bool


def _evaluate(a: _Analysis) -> tuple[list[Check], dict[str, float]]:
    checks: list[Check] = []
    points: dict[str, float] = {}

    contact_pts = rubric.CONTACT_POINTS
    points["contacts"] = (
        contact_pts["email"] * a.email
        + contact_pts["phone"] * a.phone
        + contact_pts["link"] * a.link
    )
    checks.append(
        Check(
            name="contacts",
            passed=a.email and a.phone,
            detail=f"email={int(a.email)},phone={int(a.phone)},link={int(a.link)}",
        )
    )

    sec_pts = 0.0
    for section, pts in rubric.SECTION_POINTS.items():
        if section in a.headings:
            sec_pts += pts
        elif section in a.inferred:
            sec_pts += pts / 2
    if "projects" in a.headings and "experience" not in a.headings:
        sec_pts += rubric.SECTION_POINTS["experience"] / 2  # projects stand in for experience
    points["sections"] = sec_pts
    core = {"experience", "education", "skills"}
    missing = [s for s in SECTION_NAMES if s not in a.headings and s not in a.inferred]
    checks.append(
        Check(
            name="sections",
            passed=core <= a.headings
            or ((core - a.headings) <= {"experience"} and "projects" in a.headings),
            detail="headings={};inferred={};missing={}".format(
                ",".join(s for s in SECTION_NAMES if s in a.headings) or "-",
                ",".join(s for s in SECTION_NAMES if s in a.inferred) or "-",
                ",".join(missing) or "-",
            ),
        )
    )

    low, high = _length_bounds(a.stage)
    too_many_pages = a.pages > _MAX_PAGES[a.stage]
    length_ok = (low <= a.words <= high or a.glued) and not too_many_pages
    points["length"] = (
        1.0 if length_ok else (0.5 if a.words >= low // 2 and a.words <= high * 1.5 else 0.0)
    )
    checks.append(
        Check(
            name="length",
            passed=length_ok,
            detail=f"words={a.words},pages={a.pages},stage={a.stage}",
        )
    )

    wall = a.long_lines > 0 or (a.bullets == 0 and a.words > 250 and a.longest_line_words >= 25)
    structure_ok = not wall or a.glued
    points["structure"] = 1.0 if structure_ok else (0.5 if a.bullets >= 2 else 0.0)
    if structure_ok and not a.headings and a.bullets < 2:
        points["structure"] = 0.5  # no wall, but nothing to scan by either
    checks.append(
        Check(
            name="structure",
            passed=structure_ok,
            detail=f"bullets={a.bullets},long_paragraphs={a.long_lines},longest={a.longest_line_words}",
        )
    )

    points["quantified"] = 1.5 if a.metrics >= 4 else (0.75 if a.metrics >= 1 else 0.0)
    checks.append(Check(name="quantified", passed=a.metrics >= 2, detail=f"numbers={a.metrics}"))

    weak = len(a.weak)
    action_ok = weak == 0 or a.strong >= 2 * weak
    points["action_verbs"] = 1.0 if action_ok else (0.5 if a.strong >= weak else 0.0)
    if weak == 0 and a.strong == 0:
        points["action_verbs"] = 0.5  # nothing weak, nothing strong: neutral
    checks.append(
        Check(name="action_verbs", passed=action_ok, detail=f"weak={weak},strong={a.strong}")
    )

    dates_ok = a.years > 0 and a.inverted == 0
    points["dates"] = (0.5 if a.years > 0 else 0.0) + (
        0.5 if a.years > 0 and a.inverted == 0 else 0.0
    )
    checks.append(
        Check(
            name="dates",
            passed=dates_ok,
            detail=f"years={a.years},ranges={a.ranges},inverted={a.inverted}",
        )
    )

    points["oversharing"] = 0.5 if not a.overshare else 0.0
    checks.append(
        Check(
            name="oversharing",
            passed=not a.overshare,
            detail="found=" + (",".join(a.overshare) or "-"),
        )
    )
    checks.append(Check(name="photo", passed=True, detail="advice=local_market"))
    checks.append(
        Check(name="injection", passed=not a.injection, detail=f"suspicious={int(a.injection)}")
    )
    return checks, points


def _score(a: _Analysis, points: dict[str, float]) -> int:
    score = rubric.total_score(points)
    if a.words < rubric.TINY_WORDS:
        score = min(score, rubric.TINY_CAP)
    if a.injection:
        score = max(1, score - 1)
    return score


def findings(text_in: str, *, notes: tuple[str, ...] = ()) -> RuleFindings:
    """Only the checks and the score (what the LLM prompt and the anchor need)."""
    a = _analyse(text_in, notes)
    checks, points = _evaluate(a)
    return RuleFindings(checks=tuple(checks), score=_score(a, points), injection=a.injection)


def rule_review(
    text: str, *, language: Language, resume_language: Language, notes: tuple[str, ...] = ()
) -> Review:
    """A complete Review from the rules alone, written in `language`."""
    del resume_language  # phrases are matched in all three languages alike
    a = _analyse(text, notes)
    checks, points = _evaluate(a)
    score = _score(a, points)
    by_name = {c.name: c for c in checks}
    return Review(
        summary=_summary(a, checks, language),
        strengths=_strengths(a, by_name, language),
        improvements=_improvements(a, by_name, language),
        text_suggestions=_suggestions(a, language),
        score=score,
        language=language,
        source="rules",
        checks=tuple(checks),
    )


def _section_names(sections: list[str], lang: Language) -> str:
    return join_list([text(f"section_{s}", lang) for s in sections], lang)


def _strengths(a: _Analysis, by: dict[str, Check], lang: Language) -> tuple[str, ...]:
    out: list[str] = []
    if a.email and a.phone:
        out.append(text("s_contacts_full" if a.link else "s_contacts", lang))
    if by["quantified"].passed:
        out.append(text("s_quantified", lang, count=a.metrics))
    if by["sections"].passed:
        found = [s for s in SECTION_NAMES if s in a.headings]
        out.append(text("s_sections", lang, sections=_section_names(found, lang)))
    if by["action_verbs"].passed and a.strong > 0:
        out.append(text("s_action_verbs", lang))
    if by["structure"].passed and a.bullets >= 2:
        out.append(text("s_structure", lang))
    if by["dates"].passed and a.ranges > 0:
        out.append(text("s_dates", lang))
    if by["length"].passed and not a.atypical:
        out.append(text("s_length", lang))
    present = a.headings | a.inferred
    early = career_stage(a) == "student"
    for section, key in (
        ("experience", "s_has_experience"),
        ("education", "s_has_education" if early else "s_has_education_any"),
        ("skills", "s_has_skills"),
        ("languages", "s_has_languages"),
    ):
        if section in present:
            out.append(text(key, lang))
    if by["oversharing"].passed:
        out.append(text("s_oversharing", lang))
    if a.atypical:  # no praise for being "short" or "all facts in one place": it is no resume
        out.append(text("s_readable", lang))
        if by["injection"].passed:
            out.append(text("s_no_hidden", lang))
        out.append(text("s_start", lang))
        return tuple(_unique(out)[:5])
    if a.words < 250:
        out.append(text("s_concise", lang))
    out += [text("s_basis", lang), text("s_readable", lang)]
    return tuple(_unique(out)[:5])


def _improvements(a: _Analysis, by: dict[str, Check], lang: Language) -> tuple[str, ...]:
    out: list[str] = []
    if a.injection:
        out.append(text("i_injection", lang))
    if not (a.email and a.phone):
        # a profile link only where recruiters open one (IT, business, academia, design)
        wanted = [("email", a.email), ("phone", a.phone), ("link", a.link or not a.profile_field)]
        missing = [text(f"contact_{k}", lang) for k, present in wanted if not present]
        out.append(text("i_contacts", lang, missing=join_list(missing, lang)))
    if a.overshare:
        items = [text(f"overshare_{k}", lang) for k in a.overshare]
        out.append(text("i_oversharing", lang, items=join_list(items, lang)))
    present = a.headings | a.inferred
    missing_core = [s for s in ("experience", "education", "skills") if s not in present]
    missing_sections = missing_core + (["summary"] if "summary" not in present else [])
    if missing_core:  # one bullet for every missing section, at the priority of the core ones
        out.append(text("i_sections", lang, missing=_section_names(missing_sections, lang)))
    inferred = [s for s in SECTION_NAMES if s in a.inferred]
    if inferred and len(a.headings) < 2:
        out.append(text("i_headings", lang, inferred=_section_names(inferred, lang)))
    if not by["quantified"].passed:
        # one result with a number among others: "add numbers" would read as if it went unseen
        one = a.metrics == 1 and a.quantified_bullets == 1 and a.bullets >= 2
        out.append(text("i_quantified_more" if one else "i_quantified", lang))
    if a.weak:
        out.append(text("i_action_verbs", lang, example=a.weak[0].phrase))
    if not by["structure"].passed:
        out.append(text("i_structure", lang))
    if not by["length"].passed:
        low, high = _length_bounds(a.stage)
        if a.words < low and not a.pages > _MAX_PAGES[a.stage]:
            out.append(text("i_length_short", lang, words=a.words))
        else:
            pages = text("pages_one" if a.stage == "student" else "pages_two", lang)
            out.append(text("i_length_long", lang, words=a.words, pages=pages))
    if a.years == 0:
        out.append(text("i_dates_missing", lang))
    elif a.inverted:
        out.append(text("i_dates_order", lang, count=a.inverted))
    if missing_sections and not missing_core:
        out.append(text("i_sections", lang, missing=_section_names(missing_sections, lang)))
    if a.stage == "student" and "projects" not in a.headings:
        out.append(text("i_projects", lang))
    if not a.link and a.email and a.phone and a.profile_field:
        # contacts already work: a profile link is a nice-to-have, after the content advice
        out.append(text("i_profile_link", lang))
    out += [text("i_photo", lang), text("i_tailor", lang), text("i_proofread", lang)]
    return tuple(_unique(out)[:5])


def _suggestions(a: _Analysis, lang: Language) -> tuple[TextSuggestion, ...]:
    """Rewrites of weak sentences found in the text. The suggestion keeps the language of
    the sentence (a resume is rewritten in its own language); the reason is in `lang`."""
    out: list[TextSuggestion] = []
    seen: set[str] = set()
    for weak in a.weak:
        if weak.sentence in seen or len(weak.sentence.split()) < 3:
            continue
        if rw.is_label_only(weak.sentence, weak.kind, weak.end):
            continue  # a bare "Обязанности:" label or a table header is not a sentence
        seen.add(weak.sentence)
        has_number = rw.has_result_number(weak.sentence)
        reason_key = "reason_weak" if has_number else "reason_weak_number"
        out.append(
            TextSuggestion(
                original=weak.sentence,
                suggested=rw.rewrite(
                    weak.sentence,
                    language=weak.language,
                    kind=weak.kind,
                    start=weak.start,
                    end=weak.end,
                ),
                reason=text(reason_key, lang, phrase=weak.phrase),
            )
        )
        if len(out) == 3:
            break
    return tuple(out)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))  # first occurrence wins, order kept


def _summary(a: _Analysis, checks: list[Check], lang: Language) -> str:
    """Counts every check that can fail (the injection check too: a review that flags
    hidden text must not say "all checks passed"); the photo advice is not a check."""
    scored = [c for c in checks if c.name != "photo"]
    passed = sum(c.passed for c in scored)
    failing = [c.name for c in scored if not c.passed]
    if "injection" in failing:  # the most serious finding leads
        failing.remove("injection")
        failing.insert(0, "injection")
    counts = {"passed": passed, "total": len(scored)}
    if a.atypical:
        focus = text(f"focus_{failing[0]}", lang) if failing else text("focus_sections", lang)
        return text("summary_atypical", lang, focus=focus, **counts)
    stage = text(f"stage_{career_stage(a)}", lang)
    if not failing:
        return text("summary_good", lang, stage=stage, **counts)
    return text("summary", lang, stage=stage, focus=text(f"focus_{failing[0]}", lang), **counts)
