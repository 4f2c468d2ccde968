"""Localized answers (kk/ru/en) for documents that get no review, each saying what to do
instead. Telegram HTML; nothing user-supplied is interpolated, so nothing needs escaping."""

from __future__ import annotations

from resumebek.messages import Language, RejectReason

_TEXTS: dict[RejectReason, dict[Language, str]] = {
    "too_large": {
        "en": "📄 <b>The file is too large.</b> Please send a resume of up to {max_mb} MB: export it "
        "to PDF or DOCX, compress the images, or paste the text into the chat.",
        "ru": "📄 <b>Файл слишком большой.</b> Пришлите резюме до {max_mb} МБ: сохраните его в PDF "
        "или DOCX, сожмите картинки или вставьте текст прямо в чат.",
        "kk": "📄 <b>Файл тым үлкен.</b> Түйіндемені {max_mb} МБ-қа дейін жіберіңіз: PDF не DOCX "
        "форматында сақтаңыз, суреттерді кішірейтіңіз немесе мәтінді чатқа қойыңыз.",
    },
    "too_many_pages": {
        "en": "📚 <b>This looks longer than a resume.</b> A resume is usually 1–2 pages. "
        "Please send just your resume (PDF or DOCX), or paste its text into the chat.",
        "ru": "📚 <b>Это больше похоже не на резюме, а на длинный документ.</b> Резюме обычно "
        "занимает 1–2 страницы. Пришлите только резюме (PDF или DOCX) или вставьте его текст в чат.",
        "kk": "📚 <b>Бұл түйіндемеден әлдеқайда ұзын құжат сияқты.</b> Түйіндеме әдетте 1–2 бет "
        "болады. Тек түйіндемені (PDF не DOCX) жіберіңіз немесе мәтінін чатқа қойыңыз.",
    },
    "unsupported_format": {
        "en": "📎 <b>I can't read this file format.</b> Please send your resume as PDF, DOCX "
        "or TXT, or paste the text into the chat.",
        "ru": "📎 <b>Этот формат файла я не читаю.</b> Пришлите резюме в PDF, DOCX или TXT "
        "или вставьте текст прямо в чат.",
        "kk": "📎 <b>Бұл файл форматын оқи алмаймын.</b> Түйіндемені PDF, DOCX не TXT "
        "форматында жіберіңіз немесе мәтінді чатқа қойыңыз.",
    },
    "encrypted": {
        "en": "🔒 <b>This PDF is password-protected.</b> Please export it again without a "
        "password (or send DOCX). Don't send the password here.",
        "ru": "🔒 <b>PDF защищён паролем.</b> Сохраните его заново без пароля (или пришлите "
        "DOCX). Пароль присылать не нужно.",
        "kk": "🔒 <b>PDF құпия сөзбен қорғалған.</b> Оны құпия сөзсіз қайта сақтаңыз (немесе "
        "DOCX жіберіңіз). Құпия сөзді мұнда жібермеңіз.",
    },
    "no_text": {
        "en": "🖼 <b>I can't find readable text in this file</b> — it looks like a scan or a "
        "photo, or its fonts don't map to letters. Please send the original DOCX/PDF "
        "exported from your editor, or paste the text into the chat.",
        "ru": "🖼 <b>В этом файле нет читаемого текста</b> — похоже на скан или фото, либо "
        "шрифты не распознаются. Пришлите исходный DOCX/PDF из редактора или вставьте текст в чат.",
        "kk": "🖼 <b>Бұл файлдан оқылатын мәтін табылмады</b> — скан не фото сияқты, әлде "
        "қаріптері танылмайды. Редактордан сақталған DOCX/PDF жіберіңіз немесе мәтінді чатқа қойыңыз.",
    },
    "corrupt": {
        "en": "⚠️ <b>The file seems damaged or incomplete.</b> Please save it again and "
        "re-send it (PDF or DOCX), or paste the text into the chat.",
        "ru": "⚠️ <b>Файл, похоже, повреждён или загрузился не полностью.</b> Сохраните его "
        "заново и пришлите ещё раз (PDF или DOCX) или вставьте текст в чат.",
        "kk": "⚠️ <b>Файл бүлінген немесе толық жүктелмеген сияқты.</b> Оны қайта сақтап, "
        "қайта жіберіңіз (PDF не DOCX) немесе мәтінді чатқа қойыңыз.",
    },
    "timeout": {
        "en": "⏱ <b>Reading this file took too long.</b> Please export a simpler PDF or "
        "DOCX (fewer images), or paste the text into the chat.",
        "ru": "⏱ <b>Файл читался слишком долго.</b> Сохраните более простой PDF или DOCX "
        "(меньше картинок) или вставьте текст в чат.",
        "kk": "⏱ <b>Файлды оқу тым ұзаққа созылды.</b> Қарапайымырақ PDF не DOCX (суреттері "
        "азырақ) жіберіңіз немесе мәтінді чатқа қойыңыз.",
    },
    "too_short": {
        "en": "✏️ <b>This is too short for a review.</b> Send the whole resume — education, "
        "experience, skills and contacts — as a file or as text.",
        "ru": "✏️ <b>Слишком мало текста для разбора.</b> Пришлите резюме целиком — "
        "образование, опыт, навыки и контакты — файлом или текстом.",
        "kk": "✏️ <b>Талдау үшін мәтін тым қысқа.</b> Түйіндемені толығымен — білімі, "
        "тәжірибесі, дағдылары және байланыс деректері — файлмен не мәтінмен жіберіңіз.",
    },
    "not_resume": {
        "en": "🤔 <b>This doesn't look like a resume</b> (it may be a letter, a posting or "
        "another document). Send your resume, or press the button if it is one.",
        "ru": "🤔 <b>Это не похоже на резюме</b> (возможно, это письмо, вакансия или другой "
        "документ). Пришлите резюме или нажмите кнопку, если это всё-таки оно.",
        "kk": "🤔 <b>Бұл түйіндемеге ұқсамайды</b> (хат, хабарландыру не басқа құжат болуы "
        "мүмкін). Түйіндемеңізді жіберіңіз немесе бұл түйіндеме болса, батырманы басыңыз.",
    },
}

# Format-specific answers for unsupported_format: what exactly to do with that file.
_FORMATS: dict[str, dict[Language, str]] = {
    "doc": {
        "en": "📎 <b>This is the old .doc format.</b> Please open it in Word or Google Docs, "
        "save it as <b>.docx</b> or <b>PDF</b>, and send it again.",
        "ru": "📎 <b>Это старый формат .doc.</b> Откройте файл в Word или Google Docs, "
        "сохраните как <b>.docx</b> или <b>PDF</b> и пришлите снова.",
        "kk": "📎 <b>Бұл ескі .doc форматы.</b> Файлды Word не Google Docs-та ашып, "
        "<b>.docx</b> не <b>PDF</b> ретінде сақтап, қайта жіберіңіз.",
    },
    "rtf": {
        "en": "📎 <b>This is an RTF file.</b> Please save it as <b>.docx</b> or <b>PDF</b> and send it again.",
        "ru": "📎 <b>Это файл RTF.</b> Сохраните его как <b>.docx</b> или <b>PDF</b> и пришлите снова.",
        "kk": "📎 <b>Бұл RTF файлы.</b> Оны <b>.docx</b> не <b>PDF</b> ретінде сақтап, қайта жіберіңіз.",
    },
    "odt": {
        "en": "📎 <b>This is an OpenDocument file.</b> Please export it as <b>.docx</b> or <b>PDF</b>.",
        "ru": "📎 <b>Это файл OpenDocument.</b> Экспортируйте его в <b>.docx</b> или <b>PDF</b>.",
        "kk": "📎 <b>Бұл OpenDocument файлы.</b> Оны <b>.docx</b> не <b>PDF</b> форматына экспорттаңыз.",
    },
    "pages": {
        "en": "📎 <b>This is an Apple Pages file.</b> In Pages choose File → Export To → PDF or Word.",
        "ru": "📎 <b>Это файл Apple Pages.</b> В Pages выберите Файл → Экспортировать → PDF или Word.",
        "kk": "📎 <b>Бұл Apple Pages файлы.</b> Pages-те Файл → Экспорттау → PDF не Word таңдаңыз.",
    },
    "image": {
        "en": "🖼 <b>This is a picture, and I read only text.</b> Please send the resume as "
        "PDF or DOCX, or paste its text into the chat.",
        "ru": "🖼 <b>Это картинка, а я читаю только текст.</b> Пришлите резюме в PDF или DOCX "
        "или вставьте текст в чат.",
        "kk": "🖼 <b>Бұл сурет, ал мен тек мәтінді оқимын.</b> Түйіндемені PDF не DOCX "
        "форматында жіберіңіз немесе мәтінін чатқа қойыңыз.",
    },
    "docm": {
        "en": "📎 <b>This is a macro-enabled Word file.</b> Please save it as a regular "
        "<b>.docx</b> or <b>PDF</b> and send it again.",
        "ru": "📎 <b>Это документ Word с макросами.</b> Сохраните его как обычный <b>.docx</b> "
        "или <b>PDF</b> и пришлите снова.",
        "kk": "📎 <b>Бұл макростары бар Word құжаты.</b> Оны кәдімгі <b>.docx</b> не <b>PDF</b> "
        "ретінде сақтап, қайта жіберіңіз.",
    },
    "lockfile": {
        "en": "📎 <b>This is Word's temporary lock file (~$…), not your document.</b> Please "
        "send the resume file itself.",
        "ru": "📎 <b>Это временный служебный файл Word (~$…), а не сам документ.</b> Пришлите "
        "файл резюме.",
        "kk": "📎 <b>Бұл Word-тың уақытша қызметтік файлы (~$…), құжаттың өзі емес.</b> "
        "Түйіндеме файлын жіберіңіз.",
    },
}
_FORMATS["html"] = {
    "en": "📎 <b>This is a web page, not a PDF.</b> Open it in a browser and use Print → "
    "Save as PDF, or paste the text into the chat.",
    "ru": "📎 <b>Это веб-страница, а не PDF.</b> Откройте её в браузере и выберите Печать → "
    "Сохранить как PDF или вставьте текст в чат.",
    "kk": "📎 <b>Бұл PDF емес, веб-бет.</b> Оны браузерде ашып, Басып шығару → PDF ретінде "
    "сақтау таңдаңыз немесе мәтінді чатқа қойыңыз.",
}
for _archive in ("zip", "archive"):
    _FORMATS[_archive] = {
        "en": "🗜 <b>This is an archive.</b> Please send the resume file itself (PDF or DOCX), not a zip.",
        "ru": "🗜 <b>Это архив.</b> Пришлите сам файл резюме (PDF или DOCX), а не архив.",
        "kk": "🗜 <b>Бұл архив.</b> Архивті емес, түйіндеме файлының өзін (PDF не DOCX) жіберіңіз.",
    }
for _sheet in ("xlsx", "pptx"):
    _FORMATS[_sheet] = {
        "en": "📎 <b>This is a spreadsheet or a presentation.</b> Please send the resume as "
        "PDF or DOCX, or paste its text.",
        "ru": "📎 <b>Это таблица или презентация.</b> Пришлите резюме в PDF или DOCX или вставьте текст.",
        "kk": "📎 <b>Бұл кесте не презентация.</b> Түйіндемені PDF не DOCX форматында жіберіңіз "
        "немесе мәтінін қойыңыз.",
    }

_ENCRYPTED_DOCX: dict[Language, str] = {
    "en": "🔒 <b>This Word file is password-protected.</b> Please save it again without a "
    "password (or export it to PDF). Don't send the password here.",
    "ru": "🔒 <b>Файл Word защищён паролем.</b> Сохраните его заново без пароля (или в PDF). "
    "Пароль присылать не нужно.",
    "kk": "🔒 <b>Word файлы құпия сөзбен қорғалған.</b> Оны құпия сөзсіз қайта сақтаңыз (немесе "
    "PDF-ке экспорттаңыз). Құпия сөзді мұнда жібермеңіз.",
}

_ANYWAY_LABEL: dict[Language, str] = {
    "en": "Analyze anyway",
    "ru": "Всё равно разобрать",
    "kk": "Бәрібір талдау",
}
_DOWNLOAD_FAILED: dict[Language, str] = {
    "en": "📥 <b>I couldn't download the file.</b> Please try sending it again.",
    "ru": "📥 <b>Не удалось скачать файл.</b> Пожалуйста, отправьте его ещё раз.",
    "kk": "📥 <b>Файлды жүктеп алу мүмкін болмады.</b> Оны қайта жіберіп көріңіз.",
}
_ANYWAY_EXPIRED: dict[Language, str] = {
    "en": "⌛ <b>I no longer have that document.</b> Please send the file again.",
    "ru": "⌛ <b>Этот документ у меня уже не сохранился.</b> Пожалуйста, отправьте файл ещё раз.",
    "kk": "⌛ <b>Бұл құжат менде енді сақталмаған.</b> Файлды қайта жіберіңіз.",
}


def rejection_html(
    reason: RejectReason, lang: Language, *, format: str | None = None, max_mb: float = 10
) -> str:
    """The answer for a document that gets no review, in `lang`. With `format` (the
    sniffed format), an unsupported file gets instructions for that format; `max_mb` is
    the size limit a too-large file is told about (MAX_FILE_MB)."""
    if reason == "unsupported_format" and format in _FORMATS:
        return _FORMATS[format][lang]
    if reason == "encrypted" and format == "docx":
        return _ENCRYPTED_DOCX[lang]
    text = _TEXTS[reason][lang]
    if reason == "too_large":
        text = text.replace("{max_mb}", f"{max_mb:g}")
    return text


def analyze_anyway_label(lang: Language) -> str:
    """Text of the button under a not-a-resume answer."""
    return _ANYWAY_LABEL[lang]


def download_failed_html(lang: Language) -> str:
    return _DOWNLOAD_FAILED[lang]


def anyway_expired_html(lang: Language) -> str:
    """The "analyze anyway" button was pressed after the kept text expired."""
    return _ANYWAY_EXPIRED[lang]
