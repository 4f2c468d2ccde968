from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from resumebek.config import load_settings
from resumebek.domain.click_token import (
    ClickToken,
    click_event,
    click_key,
    derive_click_key,
    settings_click_key,
    sign_click,
    tracked_photo_url,
    verify_click,
    with_utm,
)
from resumebek.messages import LANGUAGES, Language

KEY = derive_click_key("a-salt-of-sixteen-chars")
BOT_TOKEN = "123456:" + "A" * 35


@pytest.mark.parametrize("lang", [pytest.param(lang, id=lang) for lang in LANGUAGES])
@pytest.mark.parametrize("campaign", [None, "spring_fair", "KazNU-2026"])
def test_a_signed_click_verifies_to_what_was_signed(lang: Language, campaign: str | None) -> None:
    click = ClickToken(user_ref="3f9a1c0b2d4e", language=lang, campaign=campaign)
    token = sign_click(KEY, click)
    assert verify_click(KEY, token) == click
    assert all(c.isalnum() or c in "-_" for c in token)  # safe in a URL path as it is


def test_the_token_does_not_carry_the_raw_user_id_and_refuses_numeric_refs() -> None:
    with pytest.raises(ValueError, match="pseudonym"):
        sign_click(KEY, ClickToken(user_ref="987654321", language="en"))
    token = sign_click(KEY, ClickToken(user_ref="u3f9a1c0b2d4e", language="en"))
    assert b"987654321" not in base64.urlsafe_b64decode(token + "==")


def test_altered_forged_and_foreign_tokens_do_not_verify() -> None:
    token = sign_click(KEY, ClickToken(user_ref="abc123def456", language="ru", campaign="x"))
    flipped = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    other_key = click_key("another-salt-entirely")
    assert verify_click(KEY, flipped) is None
    assert verify_click(other_key, token) is None
    assert verify_click(None, token) is None  # no secret configured: nothing counts
    for junk in ("", "x", "%%%", "A" * 5000, base64.urlsafe_b64encode(b"\x01\x00" * 20).decode()):
        assert verify_click(KEY, junk) is None


def test_campaigns_outside_the_deep_link_alphabet_are_refused() -> None:
    for campaign in ("ҚазҰУ", "a b", "x" * 65, ""):
        with pytest.raises(ValueError, match="campaign"):
            sign_click(KEY, ClickToken(user_ref="abcdef012345", language="en", campaign=campaign))


def test_the_key_comes_from_the_first_secret_given() -> None:
    assert click_key("", "123:bot-token") == click_key("123:bot-token")
    assert click_key("salt", "123:bot-token") != click_key("123:bot-token")
    assert click_key("", "") is None


def test_settings_key_prefers_the_analytics_salt() -> None:
    with_salt = load_settings({"ANALYTICS_SALT": "salt-0123456789ab", "BOT_TOKEN": BOT_TOKEN})
    token_only = load_settings({"BOT_TOKEN": BOT_TOKEN})
    assert settings_click_key(with_salt) == click_key("salt-0123456789ab")
    assert settings_click_key(token_only) == click_key(BOT_TOKEN)
    assert settings_click_key(load_settings({})) is None


def test_utm_parameters_are_added_and_existing_query_kept() -> None:
    url = with_utm(
        "https://t.me/photo_bot?start=abc&utm_source=old&utm_term=x", language="kk", campaign="c1"
    )
    query = parse_qs(urlsplit(url).query)
    assert query == {
        "start": ["abc"],
        "utm_source": ["resumebek"],
        "utm_medium": ["telegram"],
        "utm_campaign": ["c1"],
        "utm_content": ["kk"],
    }
    plain = parse_qs(urlsplit(with_utm("https://x.example/p", language=None, campaign=None)).query)
    assert plain == {
        "utm_source": ["resumebek"],
        "utm_medium": ["telegram"],
        "utm_campaign": ["review"],
    }


def test_tracked_url_points_at_the_click_endpoint() -> None:
    url = tracked_photo_url(
        "https://bot.example.kz/", key=KEY, user_ref="abcdef012345", language="en", campaign="fair"
    )
    assert url.startswith("https://bot.example.kz/r/")
    token = url.rsplit("/", 1)[1]
    assert verify_click(KEY, token) == ClickToken(
        user_ref="abcdef012345", language="en", campaign="fair"
    )


def test_click_event_is_a_cta_clicked_event_without_a_raw_user() -> None:
    ev = click_event(ClickToken(user_ref="abcdef012345", language="ru", campaign=None), at=1.0e9)
    assert ev.name == "cta_clicked" and ev.user is None
    assert dict(ev.fields) == {"language": "ru", "campaign": None}  # not a pseudonym: left out


def test_a_pseudonym_ref_travels_so_the_click_joins_its_user() -> None:
    ref = "0123456789abcdef"  # privacy.pseudonym's shape: 16 lowercase hex
    ev = click_event(ClickToken(user_ref=ref, language="kk", campaign="fair"), at=1.0e9)
    assert ev.user is None
    assert dict(ev.fields) == {"language": "kk", "campaign": "fair", "user_ref": ref}
