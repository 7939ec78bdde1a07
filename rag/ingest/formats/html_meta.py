"""What a web page states about its article: headline, authors, dates, outlet, canonical URL, language.

trafilatura reads most of it; what it gets wrong on news pages is decided here from the page itself.
The headline is the <h1> that the page's <title> or og:title confirms (a title is often 'Headline |
Outlet'), else that title without the segments naming the site. The outlet is the JSON-LD publisher,
else og:site_name, else the site segment of the <title>, else the domain of the canonical URL.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from rag.text.words import normalise

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")
# How titles join a headline and a site name: 'Headline | Site', 'Headline - Site', 'Site :: Headline'.
_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|::|«|»|·)\s+|\s*\[(?=[^\]]+\]$)|\]$")


def words(text: str) -> list[str]:
    """Lower-case words of a text, quotes and dashes folded: what two forms of a headline share."""
    return _WORD.findall(normalise(text).casefold())


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def page_meta(document, html: str, url: str | None) -> dict[str, str]:
    """What the page states about its article, under ArticleMeta's field names; absent keys are unknown.
    `document` is trafilatura's reading of the page (None when it found no article)."""
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(html) if html.strip() else lxml_html.fromstring("<html></html>")
    canonical = _url(tree) or getattr(document, "url", None) or url or ""
    titles = _titles(tree)
    site = outlet(tree, getattr(document, "sitename", None), titles, canonical)
    meta = {
        "title": headline(tree, titles, site) or getattr(document, "title", None) or "",
        "byline": getattr(document, "author", None) or "",
        "date": _declared(tree, _PUBLISHED, "datePublished") or getattr(document, "date", None) or "",
        "updated": _declared(tree, _MODIFIED, "dateModified"),
        "outlet": site,
        "url": canonical,
        "language": _language(tree),
    }
    if meta["updated"] and meta["updated"][:10] <= meta["date"][:10]:
        meta["updated"] = ""  # the same day is no update
    return {key: _collapse(value) for key, value in meta.items() if value and value.strip()}


def _titles(tree) -> list[str]:
    """The page's titles, the social-media one first (it rarely carries the site's name)."""
    found = tree.xpath("//meta[@property='og:title' or @name='twitter:title']/@content | //title//text()")
    ordered = sorted(found, key=lambda t: not t.getparent().tag == "meta" if hasattr(t, "getparent") else False)
    return [t for t in (_collapse(str(v)) for v in ordered) if t]


def _segments(title: str) -> list[str]:
    return [s.strip() for s in _SEPARATOR.split(title) if s and s.strip()]


def headline(tree, titles: list[str], site: str) -> str:
    """The <h1> that a title confirms (equal to the whole title or to one of its segments), else the
    first title without its segments naming the site."""
    segments = {" ".join(words(part)) for title in titles for part in [title, *_segments(title)]}
    for h1 in tree.xpath("//h1"):
        text = _collapse(h1.text_content())
        if words(text) and " ".join(words(text)) in segments and not _names_site(text, site):
            return text
    for title in titles:
        kept = [part for part in _segments(title) if not _names_site(part, site)]
        if len(kept) == 1:
            return kept[0]
    return titles[0] if titles else ""


def _key(name: str) -> str:
    """A site name reduced for comparison: 'The Washington Post', 'washingtonpost.com' -> 'washingtonpost'."""
    name = re.sub(r"^(https?://)?(www\.)?", "", normalise(name).casefold())
    name = re.sub(r"\.(com|org|net|co\.uk|com\.au|co)(/.*)?$", "", name).removeprefix("the ")
    return "".join(_WORD.findall(name))


def _names_site(text: str, site: str) -> bool:
    return bool(site) and _key(text) == _key(site)


def outlet(tree, sitename: str | None, titles: list[str], canonical: str) -> str:
    """The outlet's name: the JSON-LD publisher, else og:site_name (as trafilatura read it; a URL there
    becomes its domain), else the last segment of the <title> when it names the site's domain or the
    title has a headline segment confirmed by an <h1>, else the domain of the canonical URL."""
    name = _publisher(tree) or (sitename or "").strip()
    if re.match(r"https?://", name):
        name = _domain(name)
    if name:
        return name
    h1s = {" ".join(words(h.text_content())) for h in tree.xpath("//h1")}
    for title in tree.xpath("//title//text()"):
        parts = _segments(_collapse(title))
        if len(parts) > 1 and (" ".join(words(parts[0])) in h1s or _key(parts[-1]) in _key(canonical)):
            return parts[-1]
    return _domain(canonical) or _copyright_holder(tree)


# '© 2005-2015 WebMD, LLC.', 'Copyright 2011 The Associated Press': the holder's name, without the
# years and the legal form.
_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright)\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*)?"
                        r"([A-Z][\w.&'!]*(?:\s+[A-Z][\w.&'!]*){0,3})", re.I)
_LEGAL_FORM = re.compile(r",?\s+(inc|llc|ltd|co|corp|corporation|company|plc|gmbh)\.?$", re.I)


def _copyright_holder(tree) -> str:
    """The holder named in the page's last copyright notice (the site's footer)."""
    notices = [t for t in tree.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]")
               if _COPYRIGHT.search(t)]
    if not notices:
        return ""
    holder = _COPYRIGHT.search(notices[-1]).group(1).strip(" .,")
    return _LEGAL_FORM.sub("", holder.rstrip(",")).strip(" .,")


def _url(tree) -> str:
    for href in tree.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"):
        if href.strip().startswith(("http://", "https://")):
            return href.strip()
    return ""


def _publisher(tree) -> str:
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        for item in _items(data):
            publisher = item.get("publisher")
            if isinstance(publisher, list):
                publisher = publisher[0] if publisher else None
            if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
                return publisher["name"]
    return ""


def _items(data) -> list[dict]:
    """The objects of a JSON-LD block: one, a list of them, or an @graph."""
    items = data if isinstance(data, list) else [data]
    items = [i for i in items if isinstance(i, dict)]
    return items + [g for i in items for g in i.get("@graph", []) if isinstance(g, dict)]


# Where pages declare when an article was published and modified: Open Graph, schema.org microdata.
_PUBLISHED = ("//meta[@property='article:published_time' or @property='og:article:published_time']/@content",
              "//meta[@itemprop='datePublished']/@content", "//*[@itemprop='datePublished']/@datetime")
_MODIFIED = ("//meta[@property='article:modified_time' or @property='og:article:modified_time']/@content",
             "//meta[@itemprop='dateModified']/@content", "//*[@itemprop='dateModified']/@datetime")
_ISO_DAY = re.compile(r"\d{4}-\d\d-\d\d")


def _declared(tree, xpaths: tuple[str, ...], key: str) -> str:
    """The first ISO date a page declares for `key` (JSON-LD datePublished/dateModified, or the same in
    Open Graph and microdata): a statement of the date, preferred to a date found by searching the page."""
    found = []
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            found += [i[key] for i in _items(json.loads(script)) if isinstance(i.get(key), str)]
        except ValueError:
            continue
    found += [v for xpath in xpaths for v in tree.xpath(xpath)]
    iso = [v.strip() for v in found if _ISO_DAY.match(v.strip())]
    return iso[0][:10] if iso else ""


def _language(tree) -> str:
    values = tree.xpath("/html/@lang | //meta[@http-equiv='content-language']/@content "
                        "| //meta[@property='og:locale']/@content")
    for value in values:
        code = re.match(r"[a-zA-Z]{2,3}(?![a-zA-Z])", value.strip())
        if code:
            return code.group().lower()
    return ""


def _domain(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")
