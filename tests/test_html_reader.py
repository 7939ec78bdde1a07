"""HtmlReader on hand-made pages: article only, metadata from the page, a clear refusal for pages without one."""

from __future__ import annotations

import time

import pytest

from rag.errors import InputError
from rag.ingest.formats.html import MAX_PARSE_BYTES, HtmlReader

BODY = [
    "The city council voted on Tuesday to close the old harbour bridge to cars from next spring, ending a decade of "
    "debate about the crumbling structure that links the two halves of the town.",
    "Engineers told the council that the bridge could carry pedestrians and bicycles for another twenty years, but "
    "that heavy traffic was widening the cracks found in its supports during last year's inspection.",
    "Shop owners on the north bank said they feared losing customers, while residents of the south bank welcomed "
    "an end to the queues that form every morning at the bridge's narrow entrance.",
]


def page(body: str = "", head: str = "", charset: str = "utf-8") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY)
    return f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="{charset}">
<title>Harbour bridge to close to cars | The Riverside Gazette</title>
<meta property="og:site_name" content="The Riverside Gazette">
<link rel="canonical" href="https://www.riverside-gazette.example/news/harbour-bridge">
<meta property="article:published_time" content="2024-03-05T09:30:00Z">
<meta property="article:modified_time" content="2024-03-06T11:00:00Z">{head}</head>
<body><nav><ul><li><a href="/">Home</a></li><li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies?</div>
<article><h1>Harbour bridge to close to cars</h1><p class="byline">By Jane Miller</p>{body or paragraphs}</article>
<aside class="related"><h2>Related stories</h2><ul><li><a href="/a">Council raises parking fees</a></li>
<li><a href="/b">New ferry timetable announced</a></li></ul></aside>
<footer><p>© 2024 Riverside Gazette Ltd. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer></body></html>"""


def read(html: str | bytes, source: str = "page.html"):
    data = html.encode("utf-8") if isinstance(html, str) else html
    [article] = HtmlReader().read(data, source)
    return article


def test_the_article_body_only_in_paragraphs():
    article = read(page())
    assert article.text.split("\n\n") == BODY
    for noise in ("Home", "cookies", "Related stories", "parking fees", "Privacy", "All rights reserved"):
        assert noise not in article.text


def test_metadata_stated_by_the_page():
    meta = read(page()).meta
    assert meta["title"] == "Harbour bridge to close to cars"
    assert meta["date"] == "2024-03-05" and meta["updated"] == "2024-03-06"
    assert meta["outlet"] == "The Riverside Gazette"
    assert meta["url"] == "https://www.riverside-gazette.example/news/harbour-bridge"
    assert meta["language"] == "en"


def test_outlet_from_json_ld_publisher_and_else_the_domain():
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "publisher": {"name": "Gazette Media"}}</script>'
    assert read(page(head=ld)).meta["outlet"] == "Gazette Media"
    bare = page().replace('<meta property="og:site_name" content="The Riverside Gazette">', "").replace(
        "<title>Harbour bridge to close to cars | The Riverside Gazette</title>", "<title>Harbour bridge</title>")
    assert read(bare).meta["outlet"] == "riverside-gazette.example"


@pytest.mark.parametrize("html", [
    "<html><head><title>404 Not Found</title></head><body><h1>Page not found</h1>"
    "<p>Sorry, the page you are looking for does not exist.</p><nav><a href='/'>Home</a></nav></body></html>",
    "<html><head><title>Sign in</title></head><body><form><label>Email</label><input name='email'>"
    "<label>Password</label><input type='password'><button>Log in</button></form>"
    "<p>Forgot your password?</p></body></html>",
    "<html><body></body></html>",
])
def test_a_page_without_an_article_is_refused_in_one_line(html):
    with pytest.raises(InputError) as caught:
        read(html)
    assert "\n" not in str(caught.value) and "no article" in str(caught.value)


def test_a_declared_legacy_charset_is_honoured():
    html = page(body="".join(f"<p>{p} Café crème à Zürich.</p>" for p in BODY), charset="iso-8859-1")
    assert "Café crème à Zürich." in read(html.encode("latin-1")).text


def test_sniffs_html_by_suffix_or_content_but_not_a_feed():
    reader = HtmlReader()
    assert reader.sniff("", ".htm") and reader.sniff("<!doctype html><html>", "")
    assert not reader.sniff('<?xml version="1.0"?><rss version="2.0"><channel>', ".xml")


def test_a_50_mb_page_is_read_from_its_first_megabytes_in_bounded_time():
    filler = "<div><span>filler text in a table cell</span></div>\n" * (50_000_000 // 52)
    huge = page().replace("</footer>", "</footer>" + filler).encode()
    assert len(huge) > 10 * MAX_PARSE_BYTES
    started = time.perf_counter()
    article = read(huge)
    assert time.perf_counter() - started < 60
    assert article.text.split("\n\n") == BODY
