"""The portal in Chinese and English: the bureau's profile chooses the default, a visitor switches with a link
in the header (kept in a cookie), and the message catalogues are complete and up to date with the templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from openbureau.consent.profiles import Purpose
from openbureau.web import i18n
from openbureau.web.app import create_app
from tests.reports.conftest import ID
from tests.security.helpers import with_settings
from tests.web.factories import sign_in

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "src" / "openbureau" / "web" / "locale"


def html_lang(page) -> str:
    return re.search(r'<html lang="([^"]+)">', page.text).group(1)


def test_a_cn_bureau_answers_in_chinese_until_the_visitor_switches_to_english(portal) -> None:
    client, _, _ = portal
    client.cookies.delete(i18n.LANG_COOKIE)  # a first visit: no choice made yet
    landing = client.get("/")
    assert landing.status_code == 200 and html_lang(landing) == "zh-Hans"
    assert "看得懂的征信机构" in landing.text and "信用报告" in landing.text and "A credit bureau" not in landing.text
    assert 'href="/?lang=en"' in landing.text and 'lang="en"' in landing.text  # the switch, named in English

    switched = client.get("/?lang=en")
    assert html_lang(switched) == "en" and "A credit bureau you can read" in switched.text
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith(f"{i18n.LANG_COOKIE}=en;") and "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
    assert "samesite=lax" in cookie.lower() and "Domain" not in cookie
    # It sticks: the next pages, without the parameter, are English too.
    assert html_lang(client.get("/signin")) == "en" and "Sign in to your file" in client.get("/signin").text

    back = client.get("/signin?lang=zh")
    assert html_lang(back) == "zh-Hans" and "登录查看您的信用档案" in back.text and "居民身份证" in back.text
    assert html_lang(client.get("/")) == "zh-Hans"


@pytest.mark.parametrize("value", ["fr", "EN", "en-US", "zh-Hans", "", "en Secure", "<script>"])
def test_a_bad_language_is_ignored(portal, value) -> None:
    client, _, _ = portal
    client.cookies.delete(i18n.LANG_COOKIE)
    page = client.get("/", params={"lang": value})
    assert page.status_code == 200 and html_lang(page) == "zh-Hans"  # the profile's default, no cookie set
    assert i18n.LANG_COOKIE not in page.headers.get("set-cookie", "")
    client.cookies.set(i18n.LANG_COOKIE, value or "x")  # nor a forged cookie
    assert html_lang(client.get("/")) == "zh-Hans"


def test_a_us_bureau_answers_in_english(portal) -> None:
    _, runtime, _ = portal
    with TestClient(create_app(with_settings(runtime, jurisdiction="US")), base_url="https://testserver") as client:
        landing = client.get("/")
        assert html_lang(landing) == "en" and "A credit bureau you can read" in landing.text
        assert 'href="/?lang=zh"' in landing.text
        assert html_lang(client.get("/?lang=zh")) == "zh-Hans" and html_lang(client.get("/")) == "zh-Hans"


def test_messages_made_in_the_code_and_error_pages_are_translated(portal) -> None:
    client, _, _ = portal
    client.cookies.set(i18n.LANG_COOKIE, "zh")
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "页面不存在。" in missing.text and "操作未成功" in missing.text
    form = client.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    refused = client.post("/signin", data={"csrf": token, "id_type": "NONE", "id_number": ""})
    assert refused.status_code == 422 and "请选择证件类型" in refused.text
    assert "<script>" not in client.get("/", params={"lang": "<script>"}).text
    # The header's link leads back to the page, never to another site (an address of two slashes is one).
    assert 'href="/signin?lang=en"' in client.get("/signin").text
    elsewhere = client.get("https://testserver//evil.example/x")
    assert elsewhere.status_code == 404 and 'href="/?lang=en"' in elsewhere.text and "evil" not in elsewhere.text


def test_a_persons_pages_in_chinese_name_the_purposes_in_chinese(portal) -> None:
    client, runtime, _ = portal
    client.cookies.set(i18n.LANG_COOKIE, "zh")
    sign_in(client, runtime, ID)
    consents = client.get("/me/consents")
    assert "关于您的授权" in consents.text and "贷款审批" in consents.text and "loan origination" not in consents.text
    assert set(i18n.PURPOSE_NAMES) == {p.value for p in Purpose}  # a new purpose needs its name


def _catalogue(path: Path):
    with path.open("rb") as po:
        return read_po(po)


def test_every_message_has_a_chinese_translation_with_the_same_placeholders() -> None:
    template = {m.id for m in _catalogue(LOCALE / "messages.pot") if m.id}
    chinese = {m.id: m.string for m in _catalogue(LOCALE / "zh_Hans" / "LC_MESSAGES" / "messages.po") if m.id}
    assert template and set(chinese) == template, (template ^ set(chinese))
    untranslated = sorted(m for m, s in chinese.items() if not s)
    assert not untranslated, untranslated
    marks = re.compile(r"%\(\w+\)s|<[^>]+>")
    wrong = [m for m, s in chinese.items() if sorted(marks.findall(m)) != sorted(marks.findall(s))]
    assert not wrong, wrong


def test_the_catalogue_template_is_up_to_date_with_the_templates_and_the_code() -> None:
    """Extracted now as ``pybabel extract -F babel.cfg`` does: a message added without running it (and without
    translating it) fails here."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    extracted = {message for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map)}
    extracted = {m if isinstance(m, str) else m[0] for m in extracted}
    kept = {m.id for m in _catalogue(LOCALE / "messages.pot") if m.id}
    assert extracted == kept, {"not in messages.pot": sorted(extracted - kept), "gone": sorted(kept - extracted)}
