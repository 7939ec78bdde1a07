"""Fetching pages by URL against a real HTTP server on 127.0.0.1: limits, errors, the page cache, URL
lists and feeds."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rag.errors import InputError
from rag.ingest.fetching import fetch
from rag.ingest.page_cache import cached_pages, page_key, pages_dir
from rag.ingest.urls import check_url, feed_entry_urls, is_url, looks_like_feed, read_url_list
from rag.settings import FetchSettings, Settings

PAGE = b"<html><head><title>Storm</title></head><body><p>The storm reached the coast.</p></body></html>"
FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Local News</title><link>http://example.test/</link>
<item><title>One</title><link>/page</link></item>
<item><title>Two</title><link>/hop1</link></item>
<item><title>One again</title><link>/page#comments</link></item>
<item><title>Mail</title><link>mailto:desk@example.test</link></item>
</channel></rss>"""
ATOM = b"""<?xml version="1.0"?><!-- generated --><feed xmlns="http://www.w3.org/2005/Atom"><title>W</title>
<entry><title>A</title><link rel="alternate" href="https://example.test/a"/><id>urn:a</id></entry></feed>"""


class Site:
    """What the server saw: requests per path, User-Agent headers, and whether a big body was cut off."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.agents: list[str] = []
        self.aborted = threading.Event()
        self.stop = threading.Event()
        self.url = ""


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    redirects = {"/hop1": "/hop2", "/hop2": "http://127.0.0.1:{port}/hop3", "/hop3": "/page",
                 "/loop-a": "/loop-b", "/loop-b": "/loop-a", "/to-ftp": "ftp://127.0.0.1/file"}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            site.hits[self.path] += 1
            site.agents.append(self.headers.get("User-Agent", ""))
            port = self.server.server_address[1]
            if self.path in redirects:
                self.send_response(302)
                self.send_header("Location", redirects[self.path].format(port=port))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/page":
                self.send(200, PAGE)
            elif self.path == "/counter":
                self.send(200, f"<p>visit {site.hits['/counter']}</p>".encode())
            elif self.path == "/feed.xml":
                self.send(200, FEED, "text/xml")
            elif self.path == "/image.png":
                self.send(200, b"\x89PNG\r\n\x1a\n", "image/png")
            elif self.path == "/broken":
                self.send(500, b"<h1>oops</h1>")
            elif self.path == "/slow":
                site.stop.wait(5)
                self.send(200, PAGE)
            elif self.path == "/drip":
                self.drip()
            elif self.path == "/huge":
                self.huge()
            elif self.path == "/declared-huge":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "50000000")
                self.end_headers()
            else:
                self.send(404, b"<h1>Not here</h1>")

        def drip(self) -> None:
            """Headers at once, then a byte every 0.2 s: each read is quick, the whole takes 5 s."""
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(25):  # 5 s at most, so a missing deadline fails the test instead of hanging it
                    if site.stop.wait(0.2):
                        break
                    self.wfile.write(b"x")
                    self.wfile.flush()
            except OSError:
                pass

        def huge(self) -> None:
            """50 MB without a Content-Length: only reading it shows how big it is."""
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(800):
                    self.wfile.write(b"a" * 65536)
            except OSError:
                site.aborted.set()

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    """A local HTTP server in a thread, stopped after the test."""
    state = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    state.stop.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data",
                    fetch=FetchSettings(timeout=0.5, deadline=1.5, max_mb=0.5, max_redirects=3))


def _refused(url: str, settings: Settings) -> InputError:
    with pytest.raises(InputError) as caught:
        fetch(url, settings)
    return caught.value


def test_a_page_is_fetched_with_its_type_and_a_user_agent_naming_rag(site, settings):
    page = fetch(f"{site.url}/page", settings)
    assert page.data == PAGE and page.media_type == "text/html" and page.content_type.endswith("charset=utf-8")
    assert page.final_url == page.url == f"{site.url}/page" and not page.from_cache
    assert page.fetched_at.tzinfo is not None
    assert site.agents == [FetchSettings().user_agent] and site.agents[0].startswith("rag/")


def test_the_user_agent_is_configurable(site, settings):
    settings.fetch.user_agent = "newsdesk-bot/2 (+mailto:desk@example.test)"
    fetch(f"{site.url}/page", settings)
    assert site.agents == ["newsdesk-bot/2 (+mailto:desk@example.test)"]


def test_a_redirect_chain_ends_at_the_final_url(site, settings):
    page = fetch(f"{site.url}/hop1", settings)
    assert page.data == PAGE and page.url == f"{site.url}/hop1" and page.final_url == f"{site.url}/page"
    assert [site.hits[p] for p in ("/hop1", "/hop2", "/hop3", "/page")] == [1, 1, 1, 1]


def test_more_redirects_than_allowed_are_refused(site, settings):
    settings.fetch.max_redirects = 2
    error = _refused(f"{site.url}/hop1", settings)
    assert "more than 2 redirects" in error.message and site.hits["/page"] == 0


def test_a_redirect_loop_is_named(site, settings):
    error = _refused(f"{site.url}/loop-a", settings)
    assert error.message.startswith("redirect loop: back to ") and error.message.count("/loop-a") == 1
    assert site.hits["/loop-a"] == 1 and site.hits["/loop-b"] == 1


def test_a_redirect_to_another_scheme_is_refused(site, settings):
    assert "redirected to a ftp: URL" in _refused(f"{site.url}/to-ftp", settings).message


@pytest.mark.parametrize(("path", "reason", "retryable"), [
    ("/missing", "HTTP 404 Not Found", False), ("/broken", "HTTP 500 Internal Server Error", True)])
def test_an_http_error_is_one_line_with_its_status(site, settings, path, reason, retryable):
    error = _refused(site.url + path, settings)
    assert error.message == reason and error.retryable is retryable
    assert cached_pages(settings.data_dir) == []  # an error page is not kept


def test_a_slow_server_times_out(site, settings):
    started = time.monotonic()
    error = _refused(f"{site.url}/slow", settings)
    assert error.message == "timed out after 0.5 s waiting for 127.0.0.1" and error.retryable
    assert time.monotonic() - started < 2


def test_a_body_that_never_ends_meets_the_overall_deadline(site, settings):
    started = time.monotonic()
    error = _refused(f"{site.url}/drip", settings)
    assert error.message == "timed out after 1.5 s" and time.monotonic() - started < 2.5


def test_a_body_over_the_size_cap_is_cut_off_while_streaming(site, settings):
    error = _refused(f"{site.url}/huge", settings)
    assert error.message.startswith("page is over the 0.5 MB limit; stopped reading after 0.")
    assert "RAG_FETCH__MAX_MB" in error.hint
    assert site.aborted.wait(5)  # the server could not send the rest: the client hung up, it did not read 50 MB


def test_a_declared_length_over_the_cap_is_refused_before_reading(site, settings):
    assert _refused(f"{site.url}/declared-huge", settings).message == "page is 50.0 MB, over the 0.5 MB limit"


def test_a_content_type_without_a_reader_is_refused_by_name(site, settings):
    assert "content type image/png is not a page rag reads" in _refused(f"{site.url}/image.png", settings).message


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/story.html", "file:///etc/passwd", "javascript:alert(1)"])
def test_other_schemes_are_refused_without_a_request(site, settings, url):
    error = _refused(url, settings)
    assert error.message.endswith("URLs are not fetched, only http and https") and "\n" not in error.message
    assert not site.hits


def test_a_closed_port_is_connection_refused(settings):
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = _refused(f"http://127.0.0.1:{port}/story", settings)
    assert error.message == "connection refused by 127.0.0.1" and error.retryable



def test_https_to_a_server_without_tls_is_a_tls_error(site, settings):
    error = _refused(site.url.replace("http:", "https:") + "/page", settings)
    assert error.message.startswith("TLS error with 127.0.0.1 (") and site.hits["/page"] == 0


def test_a_host_that_does_not_resolve_is_named(settings, monkeypatch):
    def no_such_host(*args, **kwargs):  # no DNS here: the resolver's answer for an unknown name
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    error = _refused("https://news.invalid/story", settings)
    assert error.message == "could not resolve host news.invalid" and error.retryable

def test_a_second_fetch_comes_from_the_cache_without_a_request(site, settings):
    first = fetch(f"{site.url}/hop1", settings)
    second = fetch(f"{site.url}/hop1#top", settings)  # a fragment is never sent: the same page
    assert site.hits["/page"] == 1 and second.from_cache and not first.from_cache
    assert (second.data, second.final_url, second.content_type) == (first.data, first.final_url, first.content_type)
    [record] = cached_pages(settings.data_dir)
    assert record.url == f"{site.url}/hop1" and record.final_url == f"{site.url}/page"
    assert record.sha256 == first.sha256 and record.size == len(PAGE)
    folder = pages_dir(settings.data_dir)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{page_key(record.url)}{s}" for s in (".body", ".json"))


def test_refresh_fetches_again_and_replaces_the_cached_copy(site, settings):
    url = f"{site.url}/counter"
    assert fetch(url, settings).data == b"<p>visit 1</p>"
    assert fetch(url, settings).data == b"<p>visit 1</p>"
    fresh = fetch(url, settings, refresh=True)
    assert fresh.data == b"<p>visit 2</p>" and not fresh.from_cache and site.hits["/counter"] == 2
    assert fetch(url, settings).data == b"<p>visit 2</p>"
    assert [r.sha256 for r in cached_pages(settings.data_dir)] == [fresh.sha256]


def test_a_damaged_cached_body_is_fetched_again(site, settings):
    url = f"{site.url}/page"
    fetch(url, settings)
    (pages_dir(settings.data_dir) / f"{page_key(url)}.body").write_bytes(b"<html>trunc")
    again = fetch(url, settings)
    assert again.data == PAGE and not again.from_cache and site.hits["/page"] == 2


def test_a_feed_url_gives_its_entries_pages(site, settings):
    feed = fetch(f"{site.url}/feed.xml", settings)
    assert looks_like_feed(feed.data, feed.content_type)
    urls = feed_entry_urls(feed.data, base_url=feed.final_url)
    assert urls == [f"{site.url}/page", f"{site.url}/hop1"]
    assert [fetch(u, settings).data for u in urls] == [PAGE, PAGE]


def test_feed_entry_links_of_atom_and_what_is_not_a_feed():
    assert feed_entry_urls(ATOM) == ["https://example.test/a"]
    assert looks_like_feed(ATOM, "application/xml") and looks_like_feed(b"", "application/atom+xml")
    assert not looks_like_feed(PAGE, "text/html") and not looks_like_feed(b"%PDF-1.7", "application/pdf")
    with pytest.raises(InputError, match="not an RSS or Atom feed"):
        feed_entry_urls(b"just some words")


def test_a_url_list_skips_comments_blanks_and_duplicates(tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text("\ufeff# morning reading\n\nhttps://a.example/story\n  http://b.example/x?id=2  # wire copy\n"
                       "https://A.example/story#comments\nhttps://c.example/\n", encoding="utf-8")
    assert read_url_list(listing) == ["https://a.example/story", "http://b.example/x?id=2", "https://c.example/"]


def test_a_url_list_names_its_bad_lines(tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text("https://a.example/story\nwww.b.example/story\n\nftp://c.example/f\nhttps://\n")
    with pytest.raises(InputError) as caught:
        read_url_list(listing)
    message = caught.value.message
    assert message.startswith(f"{listing}: line 2: 'www.b.example/story' is not a URL; line 4: ftp: ")
    assert "line 5: 'https://' names no host" in message and "line 1" not in message
    with pytest.raises(InputError, match="no such file"):
        read_url_list(tmp_path / "missing.txt")


def test_urls_are_told_from_paths():
    assert is_url("https://example.test/a") and is_url("ftp://x") and not is_url("seeds/ap.txt")
    assert not is_url("C:\\news\\a.html") and check_url("  https://example.test/a \n") == "https://example.test/a"
