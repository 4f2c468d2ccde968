"""Localized sentences of the rule-based reviewer and the review layout (kk, ru, en).

Each entry is a `str.format` template; parameters are named in the template itself. A test
checks every key exists in all three languages with the same parameters.
"""

from __future__ import annotations

from resumebek.messages import Language

Texts = dict[str, dict[Language, str]]

TEXTS: Texts = {
    # ------------------------------------------------------------ strengths
    "s_contacts_full": {
        "en": "Complete contact details: email, phone and a profile link, so a recruiter can reach you in one click.",
        "ru": "Полные контакты: email, телефон и ссылка на профиль — рекрутер свяжется с вами в один клик.",
        "kk": "Байланыс деректері толық: email, телефон және профиль сілтемесі — рекрутер сізбен бірден байланыса алады.",
    },
    "s_contacts": {
        "en": "Email and phone are both given, so an employer can contact you easily.",
        "ru": "Указаны и email, и телефон — работодателю легко с вами связаться.",
        "kk": "Email де, телефон да көрсетілген — жұмыс берушіге сізбен байланысу оңай.",
    },
    "s_sections": {
        "en": "Clear structure with standard sections ({sections}), so the resume is easy to scan.",
        "ru": "Понятная структура со стандартными разделами ({sections}) — резюме легко просмотреть.",
        "kk": "Құрылымы түсінікті, стандартты бөлімдері бар ({sections}) — түйіндемені оқу жеңіл.",
    },
    "s_length": {
        "en": "The length suits your career stage: it can be read in about a minute.",
        "ru": "Объём соответствует вашему опыту: резюме читается примерно за минуту.",
        "kk": "Көлемі тәжірибеңізге сай: түйіндемені бір минутта оқып шығуға болады.",
    },
    "s_structure": {
        "en": "Bullets and short lines instead of long paragraphs make it easy to skim.",
        "ru": "Списки и короткие строки вместо длинных абзацев — текст легко пробежать глазами.",
        "kk": "Ұзын абзацтардың орнына тізім мен қысқа жолдар — мәтінді тез шолуға болады.",
    },
    "s_quantified": {
        "en": "Results are backed by numbers ({count} found): this is what recruiters look for.",
        "ru": "Результаты подкреплены цифрами (найдено: {count}) — именно это ищут рекрутеры.",
        "kk": "Нәтижелер сандармен дәлелденген ({count} табылды) — рекрутерлер дәл осыны іздейді.",
    },
    "s_action_verbs": {
        "en": "Experience is described with action verbs, showing what you did rather than listing duties.",
        "ru": "Опыт описан глаголами действия: видно, что вы сделали, а не просто перечень обязанностей.",
        "kk": "Тәжірибе іс-әрекет етістіктерімен сипатталған: міндеттер тізімі емес, не істегеніңіз көрінеді.",
    },
    "s_dates": {
        "en": "Dates are given and in a consistent order, so your timeline is easy to follow.",
        "ru": "Даты указаны и идут последовательно — вашу хронологию легко проследить.",
        "kk": "Күндер көрсетілген және реті дұрыс — хронологияңызды түсіну оңай.",
    },
    "s_oversharing": {
        "en": "No unnecessary personal data (IIN, marital status, home address): good for your privacy.",
        "ru": "Нет лишних личных данных (ИИН, семейное положение, домашний адрес) — это правильно.",
        "kk": "Артық жеке деректер жоқ (ЖСН, отбасылық жағдай, үй мекенжайы) — бұл дұрыс.",
    },
    "s_has_experience": {
        "en": "You describe real work or internship experience, which is the core of any resume.",
        "ru": "Вы описываете реальный опыт работы или стажировок — это основа любого резюме.",
        "kk": "Нақты жұмыс немесе тағылымдама тәжірибеңіз сипатталған — бұл кез келген түйіндеменің негізі.",
    },
    "s_has_education": {
        "en": "Your education is stated, which matters a lot at the start of a career.",
        "ru": "Указано образование — в начале карьеры это особенно важно.",
        "kk": "Біліміңіз көрсетілген — мансаптың басында бұл өте маңызды.",
    },
    "s_has_education_any": {
        "en": "Your education is stated, so an employer sees your qualification.",
        "ru": "Указано образование — работодатель видит вашу квалификацию.",
        "kk": "Біліміңіз көрсетілген — жұмыс беруші біліктілігіңізді көреді.",
    },
    "s_has_skills": {
        "en": "Your skills and tools are listed, which helps match you to vacancies.",
        "ru": "Перечислены навыки и инструменты — это помогает сопоставить вас с вакансиями.",
        "kk": "Дағдылар мен құралдар аталған — бұл сізді бос орындарға сәйкестендіруге көмектеседі.",
    },
    "s_has_languages": {
        "en": "You list your languages: a real advantage on Kazakhstan's job market.",
        "ru": "Указаны языки — это реальное преимущество на рынке труда Казахстана.",
        "kk": "Тілдер көрсетілген — бұл Қазақстан еңбек нарығында нақты артықшылық.",
    },
    "s_concise": {
        "en": "It is short and to the point: a good base to build on.",
        "ru": "Резюме краткое и по делу — хорошая основа, чтобы его развить.",
        "kk": "Түйіндеме қысқа әрі нақты — оны дамытуға жақсы негіз.",
    },
    "s_basis": {
        "en": "The key facts about you are in one place, a solid starting point.",
        "ru": "Ключевые факты о вас собраны в одном месте — хорошая отправная точка.",
        "kk": "Сіз туралы негізгі мәліметтер бір жерге жиналған — жақсы бастама.",
    },
    "s_readable": {
        "en": "The text is plain and readable, so applicant-tracking systems can parse it.",
        "ru": "Текст простой и читаемый — системы отбора резюме (ATS) смогут его разобрать.",
        "kk": "Мәтін қарапайым әрі оңай оқылады — түйіндемелерді іріктеу жүйелері (ATS) оны дұрыс таниды.",
    },
    "s_no_hidden": {
        "en": "No hidden text or instructions to AI reviewers: what a recruiter reads is all there is.",
        "ru": "Нет скрытого текста и «инструкций» для ИИ — рекрутер видит всё, что написано.",
        "kk": "Жасырын мәтін де, ЖИ-ге арналған «нұсқаулар» да жоқ — рекрутер бәрін көреді.",
    },
    "s_start": {
        "en": "Asking for feedback before applying is a good step: the points below show what a recruiter expects to find.",
        "ru": "Проверить текст до отправки — верный шаг: ниже написано, что рекрутер ожидает увидеть в резюме.",
        "kk": "Жібермес бұрын тексеру — дұрыс қадам: рекрутер түйіндемеден не күтетіні төменде жазылған.",
    },
    # ------------------------------------------------------------ improvements
    "i_contacts": {
        "en": "Add {missing} at the top, next to your name, so a recruiter can reach you.",
        "ru": "Добавьте {missing} в начало, рядом с именем, чтобы рекрутер мог с вами связаться.",
        "kk": "Рекрутер сізбен байланыса алуы үшін басына, атыңыздың қасына {missing} қосыңыз.",
    },
    "i_profile_link": {
        "en": "If you have one, add a LinkedIn, GitHub or portfolio link next to your contacts: in your field recruiters often check it.",
        "ru": "Если есть, добавьте к контактам ссылку на LinkedIn, GitHub или портфолио — в вашей сфере рекрутеры часто её смотрят.",
        "kk": "Егер бар болса, байланыс деректеріне LinkedIn, GitHub немесе портфолио сілтемесін қосыңыз — сіздің салада рекрутерлер оны жиі қарайды.",
    },
    "i_sections": {
        "en": "Add a section with a clear heading: {missing}.",
        "ru": "Добавьте раздел с понятным заголовком: {missing}.",
        "kk": "Анық тақырыбы бар бөлім қосыңыз: {missing}.",
    },
    "i_headings": {
        "en": "Put clear headings above your content ({inferred}) so it can be scanned in seconds.",
        "ru": "Поставьте над содержанием понятные заголовки ({inferred}), чтобы резюме можно было просмотреть за секунды.",
        "kk": "Мазмұнның үстіне анық тақырыптар қойыңыз ({inferred}) — сонда түйіндемені бірнеше секундта шолуға болады.",
    },
    "i_length_short": {
        "en": "Add more detail (about {words} words now): for each job, internship or study project, give 2–3 lines on what you did and what came of it.",
        "ru": "Добавьте подробностей (сейчас около {words} слов): для каждой работы, стажировки или учебного проекта — 2–3 строки о том, что вы сделали и к чему это привело.",
        "kk": "Толығырақ жазыңыз (қазір шамамен {words} сөз): әр жұмыс, тағылымдама немесе оқу жобасы үшін не істегеніңіз және нәтижесі туралы 2–3 жол қосыңыз.",
    },
    "i_length_long": {
        "en": "Shorten it (about {words} words now) to {pages}: keep the most relevant roles and cut repetition.",
        "ru": "Сократите резюме (сейчас около {words} слов) до {pages}: оставьте самое релевантное и уберите повторы.",
        "kk": "Түйіндемені қысқартыңыз (қазір шамамен {words} сөз) — {pages} жеткілікті: ең маңыздысын қалдырып, қайталауларды алып тастаңыз.",
    },
    "i_structure": {
        "en": "Break long paragraphs into 3–5 bullet points per role, each starting with an action verb.",
        "ru": "Разбейте длинные абзацы на 3–5 пунктов для каждого места работы, каждый — с глагола действия.",
        "kk": "Ұзын абзацтарды әр жұмыс орны үшін 3–5 тармаққа бөліңіз, әрқайсысын іс-әрекет етістігінен бастаңыз.",
    },
    "i_quantified": {
        "en": "Add numbers to your results: how many, how much, by what % (e.g. \u201cserved 40 customers a day\u201d, \u201ccut errors by 15%\u201d).",
        "ru": "Добавьте цифры к результатам: сколько, какой объём, на сколько % (например, «обслуживал(а) 40 клиентов в день», «сократил(а) ошибки на 15%»).",
        "kk": "Нәтижелерге сандар қосыңыз: қанша, қандай көлемде, неше пайызға (мысалы, «күніне 40 клиентке қызмет көрсеттім», «қателерді 15%-ға азайттым»).",
    },
    "i_quantified_more": {
        "en": "Only one of your results has a number: give the others one too \u2014 how many, how much, by what % (e.g. \u201cserved 40 customers a day\u201d).",
        "ru": "Цифра есть только в одном результате — добавьте цифры и к остальным: сколько, какой объём, на сколько % (например, «обслуживал(а) 40 клиентов в день»).",
        "kk": "Сан тек бір нәтижеде бар — қалғандарына да қосыңыз: қанша, қандай көлемде, неше пайызға (мысалы, «күніне 40 клиентке қызмет көрсеттім»).",
    },
    "i_action_verbs": {
        "en": "Replace duty phrases such as \u201c{example}\u201d with action verbs (led, built, organised, improved) followed by the result.",
        "ru": "Замените формулировки-обязанности вроде «{example}» глаголами действия (организовал(а), внедрил(а), улучшил(а)) и добавьте результат.",
        "kk": "«{example}» сияқты міндет тіркестерінің орнына іс-әрекет етістіктерін (ұйымдастырдым, енгіздім, жақсарттым) жазып, нәтижесін қосыңыз.",
    },
    "i_dates_missing": {
        "en": "Add dates (month and year) to every job, internship and period of study.",
        "ru": "Укажите даты (месяц и год) для каждой работы, стажировки и периода учёбы.",
        "kk": "Әр жұмыс, тағылымдама және оқу кезеңі үшін күнін (айы мен жылы) көрсетіңіз.",
    },
    "i_dates_order": {
        "en": "Check your dates: {count} range(s) end before they start. List roles newest first.",
        "ru": "Проверьте даты: {count} период(а) заканчиваются раньше, чем начинаются. Указывайте места работы от последнего к первому.",
        "kk": "Күндерді тексеріңіз: {count} кезең басталмай жатып аяқталған. Жұмыс орындарын соңғысынан бастап жазыңыз.",
    },
    "i_oversharing": {
        "en": "Remove {items}: employers do not need this, and it exposes you to discrimination and fraud.",
        "ru": "Уберите {items}: работодателю это не нужно, а вас это делает уязвимым для дискриминации и мошенников.",
        "kk": "{items} алып тастаңыз: бұл жұмыс берушіге қажет емес, ал сізді кемсітушілік пен алаяқтыққа осал етеді.",
    },
    "i_projects": {
        "en": "Add a Projects section: coursework, hackathons or volunteering show your skills while work experience is short.",
        "ru": "Добавьте раздел «Проекты»: учебные работы, хакатоны или волонтёрство покажут навыки, пока опыта работы мало.",
        "kk": "«Жобалар» бөлімін қосыңыз: оқу жұмыстары, хакатондар немесе еріктілік жұмыс тәжірибесі аз кезде дағдыларыңызды көрсетеді.",
    },
    "i_photo": {
        "en": "For local employers, add a neat professional photo (plain background, business attire); for international companies, it can be left out.",
        "ru": "Для местных работодателей добавьте аккуратное деловое фото (нейтральный фон, деловая одежда); для международных компаний фото можно не ставить.",
        "kk": "Жергілікті жұмыс берушілер үшін ұқыпты іскерлік фото қосыңыз (бір түсті фон, іскерлік киім); халықаралық компанияларға фотосыз да болады.",
    },
    "i_tailor": {
        "en": "Tailor the resume to each vacancy: repeat 3–5 key words from the job posting in your skills and experience.",
        "ru": "Адаптируйте резюме под каждую вакансию: используйте 3–5 ключевых слов из описания вакансии в навыках и опыте.",
        "kk": "Түйіндемені әр бос орынға бейімдеңіз: вакансия сипаттамасындағы 3–5 негізгі сөзді дағдылар мен тәжірибе бөлімдерінде қолданыңыз.",
    },
    "i_proofread": {
        "en": "Before sending, proofread it, keep one date format and one font, and save it as a PDF named like Name_Surname_CV.pdf.",
        "ru": "Перед отправкой вычитайте текст, используйте один формат дат и один шрифт, сохраните в PDF с именем вида Имя_Фамилия_CV.pdf.",
        "kk": "Жібермес бұрын мәтінді тексеріңіз, күн форматы мен қаріпті бірдей қолданыңыз, PDF ретінде Аты_Жөні_CV.pdf түрінде сақтаңыз.",
    },
    "i_injection": {
        "en": "Remove hidden or instruction-like text (such as notes addressed to AI reviewers): recruiters and screening systems treat it as a red flag.",
        "ru": "Уберите скрытый текст и «инструкции» (например, обращения к ИИ-проверяющим): рекрутеры и системы отбора считают это тревожным сигналом.",
        "kk": "Жасырын мәтінді және «нұсқауларды» (мысалы, ЖИ-тексерушіге арналған жазбаларды) алып тастаңыз: рекрутерлер мен іріктеу жүйелері мұны күдікті белгі деп санайды.",
    },
    # ------------------------------------------------------------ summary
    "summary": {
        "en": "{stage}. {passed} of {total} checks passed. Main focus: {focus}.",
        "ru": "{stage}. Пройдено проверок: {passed} из {total}. Главное: {focus}.",
        "kk": "{stage}. Сәтті өткен тексерістер: {passed} / {total}. Ең алдымен назар аударыңыз: {focus}.",
    },
    "summary_good": {
        "en": "{stage}. {passed} of {total} checks passed: a solid resume that needs only polishing.",
        "ru": "{stage}. Пройдено проверок: {passed} из {total} — крепкое резюме, нужна только шлифовка.",
        "kk": "{stage}. Сәтті өткен тексерістер: {passed} / {total} — жақсы түйіндеме, тек аздап жетілдіру керек.",
    },
    "summary_atypical": {
        "en": "This text does not look like a typical resume, so this review covers only what is there: {passed} of {total} checks passed. Main focus: {focus}.",
        "ru": "Этот текст не похож на обычное резюме, поэтому разбираем только то, что в нём есть. Пройдено проверок: {passed} из {total}. Главное: {focus}.",
        "kk": "Бұл мәтін әдеттегі түйіндемеге ұқсамайды, сондықтан тек бар мазмұнды талдадық. Сәтті өткен тексерістер: {passed} / {total}. Ең алдымен назар аударыңыз: {focus}.",
    },
    "stage_general": {"en": "Resume", "ru": "Резюме", "kk": "Түйіндеме"},
    "stage_student": {
        "en": "Student or early-career resume",
        "ru": "Резюме студента или начинающего специалиста",
        "kk": "Студенттің немесе жас маманның түйіндемесі",
    },
    "stage_experienced": {
        "en": "Resume of an experienced specialist",
        "ru": "Резюме опытного специалиста",
        "kk": "Тәжірибелі маманның түйіндемесі",
    },
    "focus_contacts": {"en": "contact details", "ru": "контакты", "kk": "байланыс деректері"},
    "focus_sections": {
        "en": "structure and sections",
        "ru": "структура и разделы",
        "kk": "құрылым мен бөлімдер",
    },
    "focus_length": {"en": "length", "ru": "объём", "kk": "көлемі"},
    "focus_structure": {"en": "readability", "ru": "читаемость", "kk": "оқылуы"},
    "focus_quantified": {
        "en": "measurable results",
        "ru": "измеримые результаты",
        "kk": "өлшенетін нәтижелер",
    },
    "focus_action_verbs": {
        "en": "wording of achievements",
        "ru": "формулировки достижений",
        "kk": "жетістіктердің тұжырымы",
    },
    "focus_dates": {"en": "dates", "ru": "даты", "kk": "күндер"},
    "focus_oversharing": {"en": "personal data", "ru": "личные данные", "kk": "жеке деректер"},
    "focus_injection": {"en": "hidden text", "ru": "скрытый текст", "kk": "жасырын мәтін"},
    # ------------------------------------------------------------ names used in lists
    "contact_email": {"en": "an email address", "ru": "email", "kk": "email"},
    "contact_phone": {"en": "a phone number", "ru": "номер телефона", "kk": "телефон нөмірін"},
    "contact_link": {
        "en": "a LinkedIn or GitHub/portfolio link",
        "ru": "ссылку на LinkedIn или GitHub/портфолио",
        "kk": "LinkedIn немесе GitHub/портфолио сілтемесін",
    },
    "section_summary": {"en": "Summary", "ru": "О себе", "kk": "Өзім туралы"},
    "section_experience": {"en": "Experience", "ru": "Опыт работы", "kk": "Жұмыс тәжірибесі"},
    "section_education": {"en": "Education", "ru": "Образование", "kk": "Білімі"},
    "section_skills": {"en": "Skills", "ru": "Навыки", "kk": "Дағдылар"},
    "section_languages": {"en": "Languages", "ru": "Языки", "kk": "Тілдер"},
    "section_projects": {"en": "Projects", "ru": "Проекты", "kk": "Жобалар"},
    "overshare_iin": {"en": "your IIN", "ru": "ИИН", "kk": "ЖСН-ді"},
    "overshare_marital": {
        "en": "marital status",
        "ru": "семейное положение",
        "kk": "отбасылық жағдайды",
    },
    "overshare_birth_date": {
        "en": "your full date of birth",
        "ru": "полную дату рождения",
        "kk": "толық туған күніңізді",
    },
    "overshare_address": {"en": "your home address", "ru": "домашний адрес", "kk": "үй мекенжайын"},
    "pages_one": {"en": "one page", "ru": "одной страницы", "kk": "бір бет"},
    "pages_two": {"en": "two pages", "ru": "двух страниц", "kk": "екі бет"},
    "list_and": {"en": " and ", "ru": " и ", "kk": " және "},
    # ------------------------------------------------------------ text suggestions
    "reason_weak": {
        "en": "\u201c{phrase}\u201d describes a duty, not a result: start with an action verb and say what changed.",
        "ru": "«{phrase}» описывает обязанность, а не результат: начните с глагола действия и покажите, что изменилось.",
        "kk": "«{phrase}» нәтижені емес, міндетті сипаттайды: іс-әрекет етістігін қолданып, не өзгергенін көрсетіңіз.",
    },
    "reason_weak_number": {
        "en": "\u201c{phrase}\u201d describes a duty, not a result: start with an action verb and add a number.",
        "ru": "«{phrase}» описывает обязанность, а не результат: начните с глагола действия и добавьте цифру.",
        "kk": "«{phrase}» нәтижені емес, міндетті сипаттайды: іс-әрекет етістігін қолданып, сан қосыңыз.",
    },
    # ------------------------------------------------------------ layout (render.py)
    "title": {"en": "Resume analysis", "ru": "Анализ резюме", "kk": "Түйіндеме талдауы"},
    "strengths": {"en": "Strengths", "ru": "Сильные стороны", "kk": "Күшті жақтары"},
    "improvements": {
        "en": "Areas to improve",
        "ru": "Что улучшить",
        "kk": "Жақсартуға болатын тұстар",
    },
    "suggestions": {
        "en": "Text suggestions",
        "ru": "Предложения по тексту",
        "kk": "Мәтін бойынша ұсыныстар",
    },
    "reason": {"en": "Why", "ru": "Почему", "kk": "Неге"},
    "score": {"en": "Overall score", "ru": "Общая оценка", "kk": "Жалпы баға"},
    "rules_note": {
        "en": "Quick automatic review by Resumebek's built-in checks.",
        "ru": "Быстрая автоматическая проверка встроенными правилами Resumebek.",
        "kk": "Resumebek-тің кіріктірілген ережелерімен жасалған жылдам автоматты тексеріс.",
    },
    "photo_offer": {
        "en": "📸 A professional photo makes your resume stand out. Get one with our AI photo service: tap the button below.",
        "ru": "📸 Профессиональное фото выделит ваше резюме. Сделайте его в нашем ИИ-фотосервисе — нажмите кнопку ниже.",
        "kk": "📸 Кәсіби фото түйіндемеңізді ерекшелейді. Оны біздің ЖИ-фотосервисте жасаңыз — төмендегі батырманы басыңыз.",
    },
}


def text(key: str, lang: Language, **params: object) -> str:
    template = TEXTS[key][lang]
    return template.format(**params) if params else template


def join_list(items: list[str], lang: Language) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + text("list_and", lang) + items[-1]
