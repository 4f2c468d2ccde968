"""Contacts: emails, KZ/RU/international phones, LinkedIn, GitHub, Telegram, IINs."""

from __future__ import annotations

import pytest

from resumebek.domain.contacts import find_contacts, iin_is_valid


def _iin(prefix11: str) -> str:
    """Complete an 11-digit prefix with its check digit (the same algorithm, spelled out)."""
    digits = [int(c) for c in prefix11]
    check = sum(d * w for d, w in zip(digits, range(1, 12), strict=True)) % 11
    if check == 10:
        check = (
            sum(d * w for d, w in zip(digits, (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), strict=True))
            % 11
        )
    assert check != 10
    return prefix11 + str(check)


def test_emails() -> None:
    c = find_contacts("Email: aruzhan.test+cv@example.kz, почта: test_user@mail.ru.")
    assert c.emails == ("aruzhan.test+cv@example.kz", "test_user@mail.ru")


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("+7 701 123 45 67", "+77011234567"),
        ("+7 (701) 123-45-67", "+77011234567"),
        ("8 701 123 45 67", "+77011234567"),
        ("8(7212)41-22-33", "+77212412233"),
        ("тел.: +77011234567", "+77011234567"),
        ("+7 916 123-45-67", "+79161234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+90 532 123 45 67", "+905321234567"),
    ],
)
def test_phones(text: str, normalized: str) -> None:
    assert find_contacts(f"Контакты: {text}\nОпыт работы").phones == (normalized,)


@pytest.mark.parametrize(
    "text",
    ["2019–2023", "ИИН 900101300123", "GPA 3.6 / 4.0", "+7 701 123", "12.05.2023 — 15.06.2024"],
)
def test_not_phones(text: str) -> None:
    assert find_contacts(text).phones == ()


def test_a_phone_does_not_swallow_the_next_line() -> None:
    assert find_contacts("+7 778 000 45 13\n5 years on offshore projects").phones == (
        "+77780004513",
    )


def test_profiles_and_telegram() -> None:
    c = find_contacts(
        "linkedin.com/in/aruzhan-test · https://github.com/aruzhan-dev · t.me/aruzhan_cv\n"
        "Telegram: @aruzhan_test · email aruzhan@example.kz"
    )
    assert c.linkedin == ("linkedin.com/in/aruzhan-test",)
    assert c.github == ("https://github.com/aruzhan-dev",)
    assert set(c.telegram) == {"@aruzhan_cv", "@aruzhan_test"}
    assert c.has_any and not c.sensitive


def test_email_is_not_a_telegram_handle() -> None:
    assert find_contacts("aruzhan@example.kz").telegram == ()


def test_iin_check_digit() -> None:
    valid = _iin("90010130012")
    assert iin_is_valid(valid)
    wrong = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert not iin_is_valid(wrong)
    assert not iin_is_valid("12345")


def test_valid_iin_is_reported_as_sensitive() -> None:
    valid = _iin("95071240056")
    c = find_contacts(f"ИИН: {valid}\nЖСН {valid[:-1]}{(int(valid[-1]) + 1) % 10}")
    assert c.iins == (valid,)
    assert c.sensitive and c.presence()["iin"] is True
    assert c.phones == ()  # an IIN is not a phone number


def test_presence_has_no_values() -> None:
    presence = find_contacts("aruzhan@example.kz +7 701 123 45 67").presence()
    assert presence == {
        "email": True,
        "phone": True,
        "linkedin": False,
        "github": False,
        "telegram": False,
        "iin": False,
    }
