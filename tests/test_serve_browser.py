"""The page at `/`, driven in headless Chromium (Debian's chromium and chromium-driver, which setup installs):
a question typed, the streamed answer seen, a citation opened by click and by keyboard, an abstention, the
briefing, the article list with an upload. Article text holding markup is shown as text. Saves the
screenshots the README shows (docs/screenshots/)."""

from __future__ import annotations

import os
import shutil

import httpx
import pytest

from rag.llm.prompts import NOT_IN_ARTICLES
from rag.settings import Settings

from serving import copy_store, running_server
from support import ROOT

SHOTS = ROOT / "docs" / "screenshots"
MARKUP = ('<img src=x onerror="window.pwned=1">Springfield <b>parks</b> plan\n\n'
          'The mayor of Springfield said on Monday that the city will build 12 new parks by 2027 at a cost of '
          '$40 million. <script>window.pwned=2</script> The council approved the bond last year.')


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def browser():
    found = _chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are missing: scripts/setup.sh installs them")
        pytest.skip("chromium and chromium-driver are not installed (scripts/setup.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,860", "--force-device-scale-factor=1", "--lang=en-US"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=found[1]))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def page(seeded_store, embeddings, tmp_path_factory):
    data = copy_store(seeded_store, tmp_path_factory.mktemp("browser") / "data")
    with running_server(Settings(data_dir=data), embeddings) as running:
        yield running.url


def _wait(driver, condition, seconds: float = 60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(condition)


def _ask(driver, question: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before = len(driver.find_elements(By.CSS_SELECTOR, "li.answer"))
    box = driver.find_element(By.ID, "question")
    box.send_keys(question, Keys.ENTER)
    answer = _wait(driver, lambda d: (found := d.find_elements(By.CSS_SELECTOR, "li.answer"))[before:] and found[before])
    _wait(driver, lambda d: answer.get_attribute("aria-busy") == "false")
    return answer


def test_chat_streams_a_cited_answer_and_opens_its_citations(browser, page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(page + "/")
    _wait(browser, lambda d: "5 articles" in d.find_element(By.ID, "status").text)
    answer = _ask(browser, "What did Zelenskyy ask Trump for?")
    assert "Patriot" in answer.find_element(By.CSS_SELECTOR, ".answer-text").text
    assert int(answer.get_attribute("data-chunks")) > 1  # the answer arrived in pieces over the stream
    cites = answer.find_elements(By.CSS_SELECTOR, "button.cite")
    assert len(cites) >= 2
    card = browser.find_element(By.ID, "citation-card")
    cites[0].click()
    _wait(browser, lambda d: card.is_displayed())
    assert "Associated Press" in card.text and "2025-03-19" in card.text and "Patriot" in card.text
    assert cites[0].get_attribute("aria-expanded") == "true"
    browser.switch_to.active_element.send_keys(Keys.TAB)  # the keyboard moves to the next citation
    _wait(browser, lambda d: card.text.startswith("[2]"))
    assert cites[1].get_attribute("aria-expanded") == "true"
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    _wait(browser, lambda d: not card.is_displayed())

    unanswerable = _ask(browser, "Who won the 2024 Super Bowl?")
    assert "abstained" in unanswerable.get_attribute("class")
    assert "not in the articles" in unanswerable.text.lower() and NOT_IN_ARTICLES in unanswerable.text
    assert not unanswerable.find_elements(By.CSS_SELECTOR, "button.cite")
    cites[0].click()
    _wait(browser, lambda d: card.is_displayed())
    browser.save_screenshot(str(SHOTS / "serve.png"))


def test_the_briefing_view_shows_corroboration_and_differences(browser, page):
    from selenium.webdriver.common.by import By

    browser.get(page + "/")
    browser.find_element(By.CSS_SELECTOR, ".tab[data-view='briefing']").click()
    browser.find_element(By.ID, "brief-button").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#briefing h2"), 300)
    briefing = browser.find_element(By.ID, "briefing")
    assert "independent source" in briefing.find_element(By.CSS_SELECTOR, ".corroboration").text
    assert "Where the reports differ" in briefing.text
    assert len(briefing.find_elements(By.CSS_SELECTOR, ".differ .side")) >= 2
    browser.find_element(By.CSS_SELECTOR, "#briefing button.cite").click()
    _wait(browser, lambda d: d.find_element(By.ID, "citation-card").is_displayed())
    browser.execute_script("document.getElementById('differences').scrollIntoView()")
    browser.save_screenshot(str(SHOTS / "serve-briefing.png"))


def test_articles_list_upload_and_markup_shown_as_text(browser, page, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(page + "/")
    browser.find_element(By.CSS_SELECTOR, ".tab[data-view='articles']").click()
    rows = lambda d: d.find_elements(By.CSS_SELECTOR, "#article-table tbody tr")  # noqa: E731
    _wait(browser, lambda d: len(rows(d)) == 5)
    assert browser.find_elements(By.CSS_SELECTOR, "#article-table a[href^='#article-']")  # a derived copy's link
    upload = tmp_path / "springfield.txt"
    upload.write_text(MARKUP, encoding="utf-8")
    browser.find_element(By.ID, "files").send_keys(str(upload))
    browser.find_element(By.CSS_SELECTOR, "#upload-form button[type='submit']").click()
    _wait(browser, lambda d: len(rows(d)) == 6, 120)
    assert "new chunks" in browser.find_element(By.ID, "jobs").text
    assert "<b>parks</b>" in browser.find_element(By.ID, "article-table").text  # the headline, as written

    browser.find_element(By.CSS_SELECTOR, ".tab[data-view='chat']").click()
    answer = _ask(browser, "How many parks will Springfield build?")
    answer.find_element(By.CSS_SELECTOR, "button.cite").click()
    card = browser.find_element(By.ID, "citation-card")
    _wait(browser, lambda d: card.is_displayed())
    assert "<b>parks</b>" in card.text  # markup in an article is text on the page ...
    assert not browser.find_elements(By.CSS_SELECTOR, "#citation-card b, #article-table b, main img")
    assert browser.execute_script("return window.pwned") is None  # ... and never runs
    listed = httpx.get(f"{page}/articles").json()
    assert any(row["title"] and "<b>parks</b>" in row["title"] for row in listed)
