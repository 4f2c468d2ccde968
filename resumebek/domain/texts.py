"""Every text the bot itself writes, in Kazakh, Russian and English.

`t(key, lang, **params)` returns Telegram HTML: the templates may use <b>/<i>, and every
parameter is escaped here, so a value can never inject markup. Pure: no I/O.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from resumebek.messages import LANGUAGES, Language

LANGUAGE_NAMES: Mapping[Language, str] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}

# Command menu: (command, description) per language, registered at start-up.
COMMANDS: tuple[str, ...] = ("start", "help", "language", "privacy", "stop", "delete")

_TEXTS: dict[str, dict[Language, str]] = {
    # ------------------------------------------------------------ /start
    "welcome": {
        "kk": (
            "Сәлем! Мен <b>Resumebek</b>-пін: түйіндемеңізді тексеріп, оны қалай күшейтуге "
            "болатынын айтамын.\n\n"
            "Түйіндемеңізді <b>PDF</b> немесе <b>DOCX</b> файлымен жіберіңіз, не мәтінін осында "
            "қоя салыңыз. Бір минут ішінде оның күшті жақтарын, нені жақсарту керегін және "
            "10 балдық бағасын аласыз."
        ),
        "ru": (
            "Привет! Я <b>Resumebek</b> — проверяю резюме и подсказываю, как сделать его "
            "сильнее.\n\n"
            "Пришлите резюме файлом <b>PDF</b> или <b>DOCX</b> или просто вставьте его текст "
            "сюда. Через минуту получите сильные стороны, что стоит исправить, и оценку из 10."
        ),
        "en": (
            "Hi! I'm <b>Resumebek</b>: I review your resume and tell you how to make it "
            "stronger.\n\n"
            "Send your resume as a <b>PDF</b> or <b>DOCX</b> file, or paste its text here. "
            "Within a minute you get its strengths, what to fix, and a score out of 10."
        ),
    },
    "privacy_summary": {
        "kk": (
            "🔒 Файлыңыз тек жадта өңделеді, ешқайда сақталмайды.\n"
            "Тек анонимді статистика жиналады; /delete бәрін өшіреді, /privacy — толығырақ."
        ),
        "ru": (
            "🔒 Файл обрабатывается только в памяти и нигде не хранится.\n"
            "Собираем лишь обезличенную статистику; /delete удалит всё, /privacy — подробнее."
        ),
        "en": (
            "🔒 Your file is processed in memory only and never stored.\n"
            "We keep only anonymous statistics; /delete erases everything, /privacy has details."
        ),
    },
    # ------------------------------------------------------------ /help
    "help": {
        "kk": (
            "<b>Қалай пайдалану керек</b>\n"
            "• Түйіндемені PDF немесе DOCX файлымен жіберіңіз (ең көбі {max_mb} МБ), "
            "не мәтінін хабарламаға қойыңыз.\n"
            "• Талдау түйіндеменің тілінде немесе /language арқылы таңдаған тіліңізде келеді.\n"
            "• Күніне {limit} тексеруге дейін.\n\n"
            "/language — тілді таңдау\n"
            "/privacy — деректеріңіз туралы\n"
            "/stop — еске салғыштарды өшіру\n"
            "/delete — мен туралы деректерімді өшіру"
        ),
        "ru": (
            "<b>Как пользоваться</b>\n"
            "• Пришлите резюме файлом PDF или DOCX (до {max_mb} МБ) или вставьте текст "
            "сообщением.\n"
            "• Отзыв придёт на языке резюме или на языке, выбранном через /language.\n"
            "• До {limit} проверок в день.\n\n"
            "/language — выбрать язык\n"
            "/privacy — о ваших данных\n"
            "/stop — отключить напоминания\n"
            "/delete — удалить мои данные"
        ),
        "en": (
            "<b>How to use me</b>\n"
            "• Send your resume as a PDF or DOCX file (up to {max_mb} MB), or paste the text "
            "as a message.\n"
            "• The review comes in your resume's language, or the one you pick with /language.\n"
            "• Up to {limit} reviews a day.\n\n"
            "/language — choose the language\n"
            "/privacy — about your data\n"
            "/stop — turn off reminders\n"
            "/delete — erase my data"
        ),
    },
    # ------------------------------------------------------------ /language
    "language_prompt": {
        "kk": "Қай тілде жауап берейін?",
        "ru": "На каком языке отвечать?",
        "en": "Which language should I answer in?",
    },
    "language_set": {
        "kk": "Жарайды, енді қазақша жауап беремін.",
        "ru": "Хорошо, теперь отвечаю по-русски.",
        "en": "Done, I'll answer in English from now on.",
    },
    # ------------------------------------------------------------ /privacy
    "privacy": {
        "kk": (
            "<b>Деректеріңіз туралы</b>\n"
            "• Түйіндеме файлы мен мәтіні тек жадта өңделеді: дискіге де, логтарға да "
            "жазылмайды.\n"
            "• Мәтін талдау дайындау үшін ғана тілдік модельге жіберіледі.\n"
            "• Атыңыз, телефоныңыз, поштаңыз сақталмайды. Статистикада тек бүркеншік "
            "идентификатор мен оқиғалар (мысалы, «талдау жіберілді») бар, {days} күннен кейін "
            "өшіріледі.\n"
            "• Тіл таңдауыңыз бен еске салғыш баптауы сақталады.\n\n"
            "/stop — еске салғыштарды өшіру, /delete — мен туралы бәрін өшіру."
        ),
        "ru": (
            "<b>О ваших данных</b>\n"
            "• Файл и текст резюме обрабатываются только в памяти: ни на диск, ни в логи "
            "они не попадают.\n"
            "• Текст отправляется языковой модели только для подготовки отзыва.\n"
            "• Имя, телефон и почта не сохраняются. В статистике — только псевдоним и события "
            "(например, «отзыв доставлен»); она удаляется через {days} дней.\n"
            "• Хранятся выбранный язык и настройка напоминаний.\n\n"
            "/stop — отключить напоминания, /delete — удалить всё обо мне."
        ),
        "en": (
            "<b>About your data</b>\n"
            "• Your resume file and text are processed in memory only: never written to disk "
            "or logs.\n"
            "• The text goes to a language model only to prepare your review.\n"
            "• Your name, phone and email are not kept. Statistics hold only a pseudonym and "
            "events (such as \u201creview delivered\u201d) and are deleted after {days} days.\n"
            "• We keep your language choice and reminder setting.\n\n"
            "/stop turns off reminders, /delete erases everything about you."
        ),
    },
    # ------------------------------------------------------------ /delete, /stop
    "delete_done": {
        "kk": (
            "🗑 Дайын: тіл таңдауыңыз, баптауларыңыз және жоспарланған еске салғыштар өшірілді. "
            "Қайта бастау үшін /start жіберіңіз."
        ),
        "ru": (
            "🗑 Готово: выбранный язык, настройки и запланированные напоминания удалены. "
            "Чтобы начать заново, отправьте /start."
        ),
        "en": (
            "🗑 Done: your language choice, settings and scheduled reminders are erased. "
            "Send /start to begin again."
        ),
    },
    "stop_done": {
        "kk": "🔕 Жарайды, енді еске салғыш жібермеймін. Түйіндеме тексеру бұрынғыдай жұмыс істейді.",
        "ru": "🔕 Хорошо, больше не буду присылать напоминания. Проверка резюме работает как прежде.",
        "en": "🔕 OK, no more reminders from me. Resume reviews still work as before.",
    },
    # ------------------------------------------------------------ hints and refusals
    "short_text_hint": {
        "kk": (
            "Бұл мәтін түйіндеме үшін тым қысқа. Түйіндемеңізді PDF немесе DOCX файлымен "
            "жіберіңіз не толық мәтінін қойыңыз. Көмек: /help"
        ),
        "ru": (
            "Для резюме это слишком коротко. Пришлите резюме файлом PDF или DOCX или "
            "вставьте его полный текст. Помощь: /help"
        ),
        "en": (
            "That's too short for a resume. Send your resume as a PDF or DOCX file, or paste "
            "its full text. Help: /help"
        ),
    },
    "send_resume_hint": {
        "kk": (
            "👋 Сәлем! Мен түйіндемелерді тексеремін. Өзіңіздікін <b>PDF</b> немесе <b>DOCX</b> "
            "файлымен жіберіңіз не бүкіл мәтінін бір хабарламамен қойыңыз — оны қалай "
            "күшейтуге болатынын айтамын. Толығырақ: /help"
        ),
        "ru": (
            "👋 Привет! Я проверяю резюме. Пришлите своё файлом <b>PDF</b> или <b>DOCX</b> "
            "или вставьте весь его текст одним сообщением — и я подскажу, как его усилить. "
            "Подробнее: /help"
        ),
        "en": (
            "👋 Hi! I review resumes. Send me yours as a <b>PDF</b> or <b>DOCX</b> file, or "
            "paste its whole text in one message, and I'll tell you how to make it stronger. "
            "More: /help"
        ),
    },
    "send_document": {
        "kk": (
            "Суреттен, дауыстан не стикерден түйіндемені оқи алмаймын. Оны <b>PDF</b> немесе "
            "<b>DOCX</b> файлымен жіберіңіз немесе мәтінін хабарламаға қойыңыз."
        ),
        "ru": (
            "Из фото, голосового или стикера я не могу прочитать резюме. Пришлите его файлом "
            "<b>PDF</b> или <b>DOCX</b> или вставьте текст сообщением."
        ),
        "en": (
            "I can't read a resume from a photo, voice message or sticker. Send it as a "
            "<b>PDF</b> or <b>DOCX</b> file, or paste the text as a message."
        ),
    },
    "too_large": {
        "kk": (
            "Файл тым үлкен ({size_mb} МБ). Түйіндеме әдетте 1–2 МБ болады; {max_mb} МБ-тан "
            "кіші PDF не DOCX жіберіңіз."
        ),
        "ru": (
            "Файл слишком большой ({size_mb} МБ). Обычно резюме весит 1–2 МБ; пришлите PDF "
            "или DOCX меньше {max_mb} МБ."
        ),
        "en": (
            "That file is too large ({size_mb} MB). A resume is usually 1–2 MB; please send "
            "a PDF or DOCX under {max_mb} MB."
        ),
    },
    "quota_reached": {
        "kk": (
            "Бүгінгі тексеру лимиті ({limit}) таусылды. Түйіндемені жақсартып, ертең қайта "
            "жіберіңіз — тағы тексеремін!"
        ),
        "ru": (
            "Лимит на сегодня ({limit} проверок) исчерпан. Доработайте резюме и пришлите "
            "завтра — проверю снова!"
        ),
        "en": (
            "You've used today's {limit} reviews. Polish your resume and send it again "
            "tomorrow — I'll review it again!"
        ),
    },
    "analyzing": {
        "kk": "⏳ Түйіндемеңізді талдап жатырмын…",
        "ru": "⏳ Анализирую ваше резюме…",
        "en": "⏳ Analyzing your resume…",
    },
    "queue_position": {
        "kk": "Кезектегі орныңыз: {n}. Жауап сәл кешірек келеді.",
        "ru": "Вы {n}-й в очереди, ответ придёт чуть позже.",
        "en": "You are number {n} in the queue; the answer will take a little longer.",
    },
    "error_generic": {
        "kk": "😕 Бірдеңе дұрыс болмады. Өтінеміз, сәлден кейін қайта жіберіп көріңіз.",
        "ru": "😕 Что-то пошло не так. Пожалуйста, попробуйте отправить ещё раз чуть позже.",
        "en": "😕 Something went wrong. Please try sending it again in a moment.",
    },
    "unknown_command": {
        "kk": "Мұндай команданы білмеймін. Командалар тізімі: /help",
        "ru": "Не знаю такой команды. Список команд: /help",
        "en": "I don't know that command. See /help for the list.",
    },
    "private_only": {
        "kk": "Мен тек жеке чатта жұмыс істеймін: маған жеке хабарлама жазыңыз.",
        "ru": "Я работаю только в личных сообщениях: напишите мне лично.",
        "en": "I only work in private chats: please message me directly.",
    },
    # ------------------------------------------------------------ under the review
    "rate_prompt": {
        "kk": "Талдау пайдалы болды ма?",
        "ru": "Отзыв был полезен?",
        "en": "Was this useful?",
    },
    "rate_thanks": {
        "kk": "Бағалағаныңызға рақмет! Бұл ботты жақсартуға көмектеседі.",
        "ru": "Спасибо! Ваш отзыв помогает нам стать лучше.",
        "en": "Thank you! Your feedback helps us improve.",
    },
    "photo_button": {
        "kk": "📸 Түйіндемеге кәсіби фото",
        "ru": "📸 Профессиональное фото для резюме",
        "en": "📸 A professional photo for your resume",
    },
    "anyway_button": {
        "kk": "Бәрібір талдау",
        "ru": "Всё равно проанализировать",
        "en": "Analyze anyway",
    },
    "anyway_expired": {
        "kk": "Бұл мәтін енді жадта жоқ. Түйіндемені қайта жіберіңіз.",
        "ru": "Этот текст уже не в памяти. Пришлите резюме ещё раз.",
        "en": "That text is no longer in memory. Please send the resume again.",
    },
    "stats_failed": {
        "kk": "Статистиканы оқу мүмкін болмады: {reason}. Сервердегі DATA_DIR/analytics "
        "қалтасын тексеріңіз.",
        "ru": "Не удалось прочитать статистику: {reason}. Проверьте папку DATA_DIR/analytics "
        "на сервере.",
        "en": "Could not read the statistics: {reason}. Check DATA_DIR/analytics on the server.",
    },
    "stats_unavailable": {
        "kk": "Статистика бұл нұсқада әлі қосылмаған.",
        "ru": "Статистика в этой сборке пока недоступна.",
        "en": "Statistics are not available in this build yet.",
    },
    # ------------------------------------------------------------ command menu
    "cmd_start": {"kk": "Бастау", "ru": "Начать", "en": "Start"},
    "cmd_help": {"kk": "Қалай пайдалану", "ru": "Как пользоваться", "en": "How to use"},
    "cmd_language": {"kk": "Тілді таңдау", "ru": "Выбрать язык", "en": "Choose language"},
    "cmd_privacy": {"kk": "Деректер туралы", "ru": "О данных", "en": "About your data"},
    "cmd_stop": {
        "kk": "Еске салғыштарды өшіру",
        "ru": "Отключить напоминания",
        "en": "Turn off reminders",
    },
    "cmd_delete": {
        "kk": "Деректерімді өшіру",
        "ru": "Удалить мои данные",
        "en": "Erase my data",
    },
}

TEXT_KEYS: frozenset[str] = frozenset(_TEXTS)


def t(key: str, lang: Language, **params: object) -> str:
    """The text `key` in `lang` as Telegram HTML; parameters are HTML-escaped."""
    template = _TEXTS[key][lang]
    if not params:
        return template
    return template.format(**{k: html.escape(str(v)) for k, v in params.items()})


def as_language(value: object) -> Language | None:
    """`value` when it is exactly one of our language codes (typed as such), else None."""
    for lang in LANGUAGES:
        if value == lang:
            return lang
    return None


def pick_language(code: str | None, default: Language = "en") -> Language:
    """Telegram's client language code ("ru", "kk", "en-US") → one of ours, else `default`."""
    if code:
        found = as_language(code.split("-")[0].strip().lower())
        if found is not None:
            return found
    return default


def command_menu() -> dict[Language, list[tuple[str, str]]]:
    """The per-language bot command menu (BotCommandScopeDefault + language_code)."""
    return {lang: [(cmd, t(f"cmd_{cmd}", lang)) for cmd in COMMANDS] for lang in LANGUAGES}
