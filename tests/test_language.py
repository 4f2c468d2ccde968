"""Language detection: kk / ru / en for documents and short texts, deterministic."""

from __future__ import annotations

import pytest

from resumebek.domain.language import detect_language

CASES: list[tuple[str, str]] = [
    # Kazakh with its letters, and short Kazakh
    ("Менің атым Тест. Python білемін.", "kk"),
    ("Сәлем! Маған түйіндеме жазуға көмектесе аласың ба?", "kk"),
    ("Білімі: Қарағанды техникалық университеті, 2016–2020. Жұмыс тәжірибесі: инженер", "kk"),
    # Kazakh typed without its special letters (a Russian keyboard)
    (
        "Менин атым Айгерим. Университетти битирдим жане банкте жумыс истедим, казир менеджер болып иститеймин.",
        "kk",
    ),
    ("Озим туралы: мен жауапты жане тиянакты адаммын, командада жумыс истеуди унатамын", "kk"),
    # Kazakh in the Latin alphabet
    ("Bilimi: Äl-Farabi atyndağy QazŪU, 2018–2022. Jūmys täjiribesi: redaktor, 2022 – qazir", "kk"),
    ("Tilder: qazaq tili – ana tili, orys tili – erkin. Dagdylar: Excel, 1C jane Word", "kk"),
    ("Bilimi: Á. Bóketov atyndaǵy Qaraǵandy memlekettik ýnıversıteti, 2019–2023", "kk"),
    ("Men Almaty qalasynda turamyn jane IT salasynda jumys isteimin", "kk"),
    # Kazakh with Russian loanwords stays Kazakh
    ("Бүгін складқа келген товардың накладнойын тексердім, поставщикпен созвонилмін.", "kk"),
    # Russian, including one full of Kazakh proper names
    ("Опыт работы: стажировка в IT-отделе, 2024 (3 месяца)", "ru"),
    (
        "Образование: Әл-Фараби атындағы ҚазҰУ, г. Алматы. Опыт работы: ТОО «Қарағанды Көмір», "
        "г. Қарағанды, инженер; АО «Өскемен Титан», г. Өскемен, мастер участка с 2019 года.",
        "ru",
    ),
    (
        "ТҮЙІНДЕМЕ\nБІЛІМІ\nЖҰМЫС ТӘЖІРИБЕСІ\nРаботала менеджером по туризму в компании, вела клиентов и готовила договоры с отелями.",
        "ru",
    ),
    (
        "Құрметті әріптестер! Сообщаем, что в пятницу в актовом зале пройдёт собрание коллектива, явка обязательна для всех сотрудников.",
        "ru",
    ),
    # English, including Cyrillic name lines
    (
        "Фамилия, имя: Петренко Виталий\nАдрес: г. Павлодар\nProfessional experience: I have worked as a mechanical engineer for five years at a power plant.",
        "en",
    ),
    (
        "Welcome to our new colleagues: Айжан Төлеубекова (Finance) and Ерлан Сапаров (IT). Please say hello to them in the kitchen.",
        "en",
    ),
    ("Sorry for the late reply — I'll update my resume and send it back tomorrow morning.", "en"),
    ("Skills: Java, Git, teamwork", "en"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_language(text: str, expected: str) -> None:
    assert detect_language(text).language == expected


def test_latin_cyrillic_homoglyphs_do_not_flip_the_result() -> None:
    # Latin a, e, o, p, c, x typed inside Russian words (and Cyrillic inside English ones)
    ru = "Oпыт paбoты: мeнeджep пo пpoдaжaм, вeл клиeнтoв и гoтoвил oтчeты для pукoвoдствa"
    assert detect_language(ru).language == "ru"
    en = "Ехреrienсе: sales mаnаgеr at а rеtаil соmраny, I lеd а tеаm of fivе pеoplе"
    assert detect_language(en).language == "en"


def test_confidence_is_higher_for_clear_long_text() -> None:
    short = detect_language("Python")
    long = detect_language(
        "Мен 2020 жылы университетті бітірдім және содан бері банкте жұмыс істеймін. "
        "Қазақ және орыс тілдерін еркін білемін, ағылшын тілін оқып жүрмін."
    )
    assert long.language == "kk" and long.confidence > 0.7
    assert short.confidence < long.confidence
    assert 0.0 <= short.confidence <= 1.0


def test_deterministic() -> None:
    text = "Түйіндеме / Резюме\nОпыт работы: стажировка; Дағдылар: Python"
    results = {detect_language(text) for _ in range(20)}
    assert len(results) == 1


def test_empty_text_has_zero_confidence() -> None:
    guess = detect_language("12345 — 2020")
    assert guess.confidence == 0.0
