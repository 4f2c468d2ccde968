"""Is this text a resume? A confidence 0–100 and the signals that fired (pure).

Positive evidence: resume section headings (kk/ru/en), contacts, date ranges of jobs and
studies, a resume title, personal-profile statements (studied, worked, speaks languages).
Negative evidence: the shapes of documents that share resume vocabulary — letters
(salutation, closing, "I am writing to apply", "please find attached"), job postings,
recommendation and reference letters, employment certificates, performance reviews,
interview questions, syllabi, forms, chat logs, contracts and invoices.
Signals are short machine strings with no personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from resumebek.domain.cleaning import count_words
from resumebek.domain.contacts import find_contacts


@dataclass(frozen=True, slots=True)
class ResumeVerdict:
    confidence: int  # 0–100
    signals: tuple[str, ...] = ()

    def is_resume(self, threshold: int) -> bool:
        return self.confidence >= threshold


def _lower_pattern(pattern: str) -> str:
    """Lower-case a regex, leaving escapes (\\S, \\W, \\D, \\B) alone."""
    out: list[str] = []
    escaped = False
    for ch in pattern:
        out.append(ch if escaped else ch.lower())
        escaped = ch == "\\" and not escaped
    return "".join(out)


# Kazakh typed on a Russian keyboard: ә→а, і→и, ң→н, ғ→г, ү/ұ→у, қ→к, ө→о, һ→х
_DELETTER = str.maketrans("әіңғүұқөһ", "аингуукох")


def _rx(*patterns: str) -> re.Pattern[str]:
    """Patterns are matched against lower-cased text: much faster than re.IGNORECASE
    over Cyrillic, with the same result. A Kazakh pattern also matches its spelling
    without the Kazakh letters."""
    variants: list[str] = []
    for pattern in patterns:
        low = _lower_pattern(pattern)
        variants.append(low)
        plain = low.translate(_DELETTER)
        if plain != low:
            variants.append(plain)
    return re.compile("|".join(f"(?:{p})" for p in variants), re.MULTILINE)


# Section headings: matched at the start of a short line (a heading or "Label: value").
_SECTIONS: dict[str, re.Pattern[str]] = {
    "experience": _rx(
        r"(work |professional |relevant )?experience",
        r"employment( history)?",
        r"work history",
        r"career( history)?",
        r"опыт( работы)?",
        r"трудовая деятельность",
        r"место работы",
        r"(жұмыс|жумыс|еңбек) (тәжірибе|тажирибе|орындары|өтіл|жол)\w*",
        r"тәжірибе\w*",
        r"jūmys täjiribesi|jumys tajiribesi",
    ),
    "education": _rx(
        r"education",
        r"academic background",
        r"qualifications",
        r"образование",
        r"білім\w*|бiлiм\w*|bilim\w*",
    ),
    "skills": _rx(
        r"(key |technical |core |hard |soft )?skills",
        r"competenc(ies|e)",
        r"tools",
        r"(ключевые |профессиональные )?навыки",
        r"компетенции",
        r"умения",
        r"(кәсіби |негізгі )?дағды\w*|дагды\w*|dağdy\w*|dagdy\w*",
        r"біліктілі\w*",
    ),
    "languages": _rx(r"languages?", r"(знание )?языков|языки", r"тіл(дер)?\w*( білуі)?|tilder"),
    "summary": _rx(
        r"(professional |career )?summary",
        r"(personal |professional )?profile",
        r"(a (little|bit|few words) )?about( me| myself)?",
        r"objective",
        r"career objective",
        r"о себе",
        r"обо мне",
        r"цель",
        r"кратко о себе",
        r"(өзім|мен) туралы",
        r"немного о себе",
        r"мақсат\w*",
        r"жеке (ақпарат|мәлімет|деректер)\w*",
        r"қысқаша мәлімет",
        r"личн(ые|ая) (данные|информация)",
        r"personal (details|information)",
    ),
    "projects": _rx(r"projects?", r"проекты", r"жоба\w*"),
    "achievements": _rx(
        r"achievements",
        r"awards",
        r"honou?rs",
        r"достижения",
        r"награды",
        r"жетістік\w*",
        r"марапаттар",
    ),
    "certificates": _rx(
        r"certificat(es|ions)",
        r"courses",
        r"training",
        r"сертификаты",
        r"курсы",
        r"повышение квалификации",
        r"сертификат\w*",
        r"курс\w*",
    ),
    "publications": _rx(
        r"(selected |recent )?publications",
        r"(научные )?публикации",
        r"(список )?(научных )?трудов",
        r"(ғылыми )?жарияланымдар",
        r"ғылыми еңбектер",
    ),
    "research": _rx(
        r"research( interests| experience)?",
        r"научные интересы",
        r"научная деятельность",
        r"ғылыми (қызығушылықтар|жұмыс)",
    ),
    "grants": _rx(r"grants?( and awards)?", r"funding", r"гранты", r"гранттар"),
    "teaching": _rx(
        r"teaching( experience)?",
        r"academic (positions|appointments|employment)",
        r"преподавательская деятельность",
        r"педагогическ(ий|ая) (стаж|деятельность)",
        r"оқытушылық (қызмет|тәжірибе)",
    ),
    "personal": _rx(
        r"contacts?( information)?",
        r"контакты",
        r"байланыс\w*",
        r"қосымша( ақпарат| мәлімет\w*)?",
        r"additional information",
        r"дополнительн(ая|о) (информация)?",
        r"туған (күні|жылы)|мекенжай\w*|дата рождения|date of birth",
        r"references",
        r"hobbies|interests",
        r"хобби|увлечения",
        r"қызығушылық\w*",
        r"volunteer(ing)?",
        r"волонт[её]рство",
        r"еріктілі\w*|волонтерлі\w*",
        r"internships?",
        r"стажировк[аи]",
        r"тағылымдама\w*",
    ),
}

_RESUME_TITLE = _rx(
    r"^\s*(resume|résumé|curriculum vitae|cv|резюме|түйіндеме|туйиндеме|rezume|tüyindeme)\b"
)
_DATE_RANGE = re.compile(
    r"(?:(?:19|20)\d{2}|\b\d{1,2}[./](?:19|20)\d{2}|[A-Za-zА-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]{3,}\.?\s+(?:19|20)\d{2})"
    r"\s*(?:[-–—]|to|по|до|бастап)\s*"
    r"(?:(?:19|20)\d{2}|\d{1,2}[./](?:19|20)\d{2}|[A-Za-zА-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]{3,}\.?\s+(?:19|20)\d{2}"
    r"|present|now|current|today|настоящее время|н\.\s?в\.|сейчас|по настоящее|қазір|қазіргі уақытқа дейін|qazir)",
)  # matched against lower-cased text
_EDUCATION_WORDS = _rx(
    r"\buniversit(y|é)",
    r"\bcollege\b",
    r"\bbachelor|\bmaster'?s?\b|\bbsc\b|\bmsc\b|\bba\b|\bmba\b|\bph\.?d\b|\bgpa\b",
    r"университет",
    r"колледж",
    r"институт",
    r"академи",
    r"бакалавр|магистр|кандидат \w+ наук|доктор \w+ наук|доцент|профессор",
    r"\bprofessor\b|\blecturer\b|\bpostdoc",
    r"лицей",
    r"universitet|kolledj",
)
_WORK_WORDS = _rx(
    r"\b(i )?(worked|work) (as|at)\b",
    r"\bintern(ship)?\b",
    r"\bresponsible for\b",
    r"\bled\b|\bmanaged\b|\bdeveloped\b|\bimplemented\b",
    r"работал[аи]?\b",
    r"занимал[аи]? должность",
    r"должность",
    r"обязанности:",
    r"жұмыс істедім|жұмыс істеймін|қызмет атқардым",
    r"лауазым",
)
# first-person statements a profile makes (a letter makes them too; letters are penalized)
_PROFILE_STATEMENTS: tuple[re.Pattern[str], ...] = (
    _rx(
        r"\bI (graduated|studied|hold a|have a (bachelor|master|degree))",
        r"окончил[аи]?\b|закончил[аи]?\b|учусь\b|обучаюсь\b",
        r"бітірдім|бітіргенмін|оқимын|білім алдым",
    ),
    _rx(
        r"\bI (have been|am) (working|employed)\b|\bI (work|worked) (as|at|in)\b",
        r"\bI (now )?(supervise|manage|lead|run|maintain|support)\b",
        r"работаю\b|работала?\b|руковожу\b|отвечаю за\b",
        r"жұмыс істеймін|жұмыс істедім|қызмет атқарамын|басқарамын|жауаптымын",
    ),
    _rx(
        r"\bI (speak|know|am fluent|use|can)\b",
        r"\bI('m| am) (good|skilled|experienced|proficient) (at|in|with)\b",
        r"владею\b|знаю\b|умею\b|свободно говорю",
        r"білемін|меңгердім|сөйлеймін|игердім",
    ),
)
_SEEKING = _rx(
    r"\b(looking for|seeking|searching for) (a |an )?(\w+ ){0,3}(job|position|role|internship|work|opportunit)",
    r"\b(ищу|рассматриваю) (\w+ ){0,3}(работу|вакансии|стажировку|должность|позицию)",
    r"соискатель|желаемая должность",
    r"(жұмыс|қызмет|тағылымдама|лауазым)\w* (\w+ ){0,2}іздеймін|іздеймін",
    r"үміткер",
)
_EXPERIENCE_YEARS = _rx(
    r"\b\d{1,2}\+?\s*(years?|yrs)\b",
    r"\b(опыт|стаж)\w*\s+([а-яё]+\s+){0,2}(более\s+|свыше\s+)?\d{1,2}\s*(год|лет)",
    r"\b\d{1,2}\s*(год|года|лет)\s+(опыта|стажа)",
    r"\b\d{1,2}\s*жыл(дық)?\s+(жұмыс\s+)?(тәжірибе|өтіл)",
)

_LANGUAGE_LEVEL = _rx(
    r"\b(A1|A2|B1|B2|C1|C2)\b",
    r"\b(native|fluent|intermediate|upper-intermediate|advanced)\b",
    r"(родной|свободно|разговорный|базовый)",
    r"(ана тілі|еркін|орташа)",
    r"\bIELTS\b|\bTOEFL\b",
)

# ----------------------------------------------------------------- negatives

_NEGATIVES: dict[str, tuple[int, re.Pattern[str]]] = {
    "letter_salutation": (
        30,
        _rx(
            r"^\s*(dear|hello|hi|to whom it may concern)\b",
            r"^\s*(уважаем|здравствуйте|добрый день|привет)",
            r"^\s*(құрметті|сәлеметсіз|сәлем|қайырлы)",
        ),
    ),
    "letter_closing": (
        20,
        _rx(
            r"^\s*(sincerely|yours (sincerely|faithfully|truly)|best regards|kind regards|regards|with respect)\b",
            r"^\s*(с уважением|искренне ваш|заранее (спасибо|благодар))",
            r"^\s*(құрметпен|алдын ала рахмет|рахмет)",
        ),
    ),
    "application_letter": (
        30,
        _rx(
            r"\bI am writing to\b",
            r"\bI would like to apply\b",
            r"\bI am (excited|pleased|delighted) to apply\b",
            r"\bplease (find|see) (attached|my (cv|resume))\b",
            r"\b(attached|enclosed) (is )?(my )?(cv|resume|résumé)\b",
            r"\bmotivation letter\b|\bcover letter\b|\bletter of motivation\b",
            r"прошу рассмотреть",
            r"хочу предложить свою кандидатуру",
            r"сопроводительное письмо|мотивационное письмо",
            r"резюме прилага|прилагаю (своё |мое |моё )?резюме",
            r"откликаюсь на вакансию",
            r"өтініш білдір",
            r"ілеспе хат|уәждеме хат",
            r"түйіндемемді қоса",
            r"кандидатурамды қарастыр",
        ),
    ),
    "job_posting": (
        35,
        _rx(
            r"\bwe are (looking|hiring|seeking)\b",
            r"\bwe offer\b",
            r"\bjob (opening|description|posting)\b",
            r"^\s*(requirements|responsibilities|what you will do|what we offer|benefits)\s*(:|$)",
            r"\b(is|are) hiring\b|\bwanted\b|\bjoin our team\b",
            r"\bhow to apply\b|\bto apply,? (send|please)\b",
            r"\bvacancy\b",
            r"\bвакансия\b",
            r"\bмы (предлагаем|ищем)\b",
            r"^\s*(требования( к кандидату)?|обязанности|условия( работы)?)\s*(:|$)",
            r"\bтребу(ется|ются)\b|\bприглашает\b|\bв связи с расширением\b",
            r"бос орын",
            r"^\s*(талаптар|міндеттер(і)?|біз ұсынамыз|жұмыс шарттары)\s*(:|$)",
            r"\w+ іздейді\b|жұмысқа (қабылдайды|шақырады)",
            r"^[^\n]{0,60}\bқажет[.!]?\s*$",  # "Бухгалтер қажет." as a line of its own
            r"түйіндемені .{0,40}жіберіңіз|резюме (присылайте|отправляйте|направляйте)",
            r"send (your )?(cv|resume)",
        ),
    ),
    "recommendation": (
        35,
        _rx(
            r"\bletter of recommendation\b|\brecommendation letter\b|\breference letter\b",
            r"\bI (highly |strongly |warmly )?recommend\b",
            r"\bit is my pleasure to recommend\b",
            r"\brecommendations? for\b",
            r"рекомендательное письмо",
            r"(настоящим )?рекомендую",
            r"\bхарактеристика\b",
            r"ұсыныс хат",
            r"ұсынамын",
            r"мінездеме",
        ),
    ),
    "certificate_of_employment": (
        40,
        _rx(
            r"\bcertificate of employment\b",
            r"\bthis is to certify\b",
            r"\bсправка\b",
            r"действительно работает",
            r"выдана для предъявления",
            r"\bанықтама\b",
            r"берілді .{0,40}ұсыну үшін|ұсыну үшін берілді",
            r"шынымен де .{0,40}жұмыс істейді",
        ),
    ),
    "performance_review": (
        40,
        _rx(
            r"\bperformance (review|evaluation|appraisal)\b",
            r"\bemployee evaluation\b",
            r"оценк[аи] (эффективности|персонала|деятельности)",
            r"аттестационный лист",
            r"бағалау парағы",
            r"жұмысын .{0,30}бағалау",
        ),
    ),
    "interview_questions": (
        40,
        _rx(
            r"\binterview questions\b",
            r"\binterviewer\b",
            r"вопросы (для|к) собеседовани",
            r"сұхбат сұрақтары",
        ),
    ),
    "syllabus": (
        40,
        _rx(
            r"\bsyllabus\b",
            r"\bcourse description\b",
            r"\bgrading\b",
            r"\blearning outcomes\b",
            r"\boffice hours\b",
            r"силлабус",
            r"\bдәріс\b",
            r"\bлекция\b",
        ),
    ),
    "form": (
        30,
        _rx(
            r"\bapplication form\b",
            r"_{5,}",
            r"\bзаявка на\b",
            r"\bанкета\b",
            r"\b(заполняется|заполните)\b",
            r"толтырыңыз",
        ),
    ),
    "chat": (40, re.compile(r"^\s*\[?\d{1,2}:\d{2}(:\d{2})?\]?\s+[^\s:]{1,30}:", re.MULTILINE)),
    "legal_or_invoice": (
        40,
        _rx(
            r"\bдоговор\b",
            r"\bарендатор\b|\bарендодатель\b",
            r"\bthe parties\b",
            r"\binvoice\b",
            r"счет на оплату|счёт на оплату",
            r"төлем шоты",
            r"\bшарт(ы)?\b",
            r"\bитого\b|\bбарлығы\b",
        ),
    ),
    "business_plan": (35, _rx(r"бизнес-план", r"business plan", r"бизнес-жоспар")),
    "news_or_recipe": (
        30,
        _rx(
            r"\bingredients\b",
            r"\bингредиенты\b",
            r"\bсообщает\b|\bсообщили\b",
            r"\bпресс-служб",
            r"\bрецепт\b",
        ),
    ),
    "third_person": (
        15,
        _rx(
            r"\b(he|she) (has|is|was|worked|showed|demonstrated)\b",
            r"\b(он|она) (работал|работала|зарекомендовал|проявил|показал)",
            r"\bзарекомендовал(а)? себя\b",
            r"\bобучается\b",
            r"\bөзін .{0,20}көрсетті\b",
        ),
    ),
}
_EMAIL_OR_PHONE = re.compile(r"\b(e-?mail|тел(ефон)?|phone|mob(ile)?)\s*[:.]", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(?:19[5-9]\d|20[0-4]\d)(?!\d)")
_NEGATIVE_CAP = 2  # a negative kind counts at most this many times


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


_SEGMENT_SPLIT = re.compile(r"\s+\|\s+|(?<=[.;])\s+(?=[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ])")
_LABEL_END = re.compile(r"\s*[:|—–]")


def _section_hits(lines: list[str]) -> set[str]:
    """Section names found as headings ("EXPERIENCE", "Опыт работы") or as labels
    ("Skills: Python", also inside a line: "Education: BSc. Skills: Excel")."""
    hits: set[str] = set()
    for line in lines:
        segments = _SEGMENT_SPLIT.split(line)
        for segment in segments:
            head = segment.lstrip("•-–—*#0123456789.) ").strip()
            if not head:
                continue
            whole_heading = len(segments) == 1 and len(head.split()) <= 5
            low = head.lower()
            for name, pattern in _SECTIONS.items():
                m = pattern.match(low)
                if not m:
                    continue
                rest = low[m.end() :]
                if rest and rest[0].isalnum():
                    continue  # "Experienced ...", "Profiles": not the heading word
                if _LABEL_END.match(rest) or (whole_heading and not rest.strip(" :")):
                    hits.add(name)
                elif whole_heading and len(head.split()) <= 3:
                    hits.add(name)  # "Work experience in IT" style short headings
    return hits


def detect_resume(text: str) -> ResumeVerdict:
    lines = _lines(text)
    if not lines:
        return ResumeVerdict(confidence=0, signals=("empty",))
    low = text.lower()
    low_lines = [line.lower() for line in lines]
    signals: list[str] = []
    score = 0.0

    sections = _section_hits(lines)
    score += min(len(sections), 5) * 11
    signals.extend(f"section:{s}" for s in sorted(sections))

    contacts = find_contacts(text)
    if contacts.emails:
        score += 7
        signals.append("contact:email")
    if contacts.phones:
        score += 7
        signals.append("contact:phone")
    if contacts.linkedin or contacts.github or contacts.telegram:
        score += 4
        signals.append("contact:profile")

    ranges = len(_DATE_RANGE.findall(low))
    if ranges:
        score += (10, 16, 22)[min(ranges, 3) - 1]
        signals.append(f"date_ranges:{min(ranges, 5)}")

    if any(_RESUME_TITLE.match(line) for line in low_lines[:3]):
        score += 22
        signals.append("title")

    if _EDUCATION_WORDS.search(low):
        score += 7
        signals.append("education_words")
    if _WORK_WORDS.search(low):
        score += 6
        signals.append("work_words")
    if _LANGUAGE_LEVEL.search(low):
        score += 6
        signals.append("language_levels")

    head = "\n".join(lines[:3])
    if _EMAIL_OR_PHONE.search(head) or find_contacts(head).has_any:
        score += 10
        signals.append("contact_in_header")

    statements = sum(1 for pattern in _PROFILE_STATEMENTS if pattern.search(low))
    if statements:
        score += 7 * statements
        signals.append(f"profile_statements:{statements}")
    if _SEEKING.search(low):
        score += 8
        signals.append("seeking")
    years = bool(_EXPERIENCE_YEARS.search(low))
    if years:
        score += 8
        signals.append("experience_years")

    # a few dense lines with a contact, dates and a school are a short resume
    facts = sum(
        (
            bool(contacts.phones or contacts.emails),
            bool(ranges or years or len(_YEAR.findall(text)) >= 2),
            bool(
                _EDUCATION_WORDS.search(low)
                or (years and _LANGUAGE_LEVEL.search(low))
                or (years and _WORK_WORDS.search(low))
            ),
        )
    )
    if facts == 3 and len(lines) <= 8:
        score += 18
        signals.append("dense_profile")

    if len(sections) >= 2 and count_words(text) < 60:
        score += 15  # a compact resume: labelled sections in a few lines
        signals.append("compact")

    penalty = 0.0
    for name, (weight, pattern) in _NEGATIVES.items():
        if name in ("letter_salutation",):
            found = 1 if any(pattern.search(line) for line in low_lines[:4]) else 0
        elif name == "letter_closing":
            found = 1 if any(pattern.search(line) for line in low_lines[-4:]) else 0
        elif name == "chat":
            found = 2 if len(pattern.findall(text)) >= 3 else 0
        else:
            found = len(pattern.findall(low))
        if found:
            penalty += weight * min(found, _NEGATIVE_CAP) * (1.0 if found == 1 else 0.75)
            signals.append(f"not:{name}")
    question_lines = sum(1 for line in lines if line.endswith("?"))
    if question_lines >= 4 and question_lines >= len(lines) * 0.25:
        penalty += 35
        signals.append("not:questions")

    confidence = int(max(0.0, min(100.0, score - penalty)))
    return ResumeVerdict(confidence=confidence, signals=tuple(signals))
