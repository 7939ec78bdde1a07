"""Small documents in each format rag reads, written here by hand so tests need no fixture files:
RSS and Atom feeds, JSON Lines, and PDFs with a real text layer (or none)."""

from __future__ import annotations

import io
import json
from html import escape


def rss(items: list[dict], title: str = "Harbour Gazette", link: str = "https://gazette.example/",
        language: str = "en-gb") -> bytes:
    """An RSS 2.0 feed; item keys: title, link, guid, date (RFC 822), author, summary, content (HTML)."""
    entries = []
    for item in items:
        parts = [f"<title>{escape(item['title'])}</title>" if "title" in item else "",
                 f"<link>{escape(item['link'])}</link>" if "link" in item else "",
                 f"<guid>{escape(item['guid'])}</guid>" if "guid" in item else "",
                 f"<pubDate>{item['date']}</pubDate>" if "date" in item else "",
                 f"<dc:creator>{escape(item['author'])}</dc:creator>" if "author" in item else "",
                 f"<description>{escape(item['summary'])}</description>" if "summary" in item else "",
                 f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>" if "content" in item else ""]
        entries.append("<item>" + "".join(parts) + "</item>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{escape(title)}</title><link>{link}</link><language>{language}</language>\n"
            + "\n".join(entries) + "\n</channel></rss>\n").encode("utf-8")


def atom(entries: list[dict], title: str = "Valley Courier") -> bytes:
    """An Atom feed; entry keys: title, id, link, published, updated, author, summary, content (HTML)."""
    out = []
    for e in entries:
        parts = [f"<title>{escape(e['title'])}</title>", f"<id>{escape(e['id'])}</id>",
                 f'<link rel="alternate" href="{escape(e["link"])}"/>' if "link" in e else "",
                 f"<published>{e['published']}</published>" if "published" in e else "",
                 f"<updated>{e.get('updated', e.get('published', '2025-01-01T00:00:00Z'))}</updated>",
                 f"<author><name>{escape(e['author'])}</name></author>" if "author" in e else "",
                 f"<summary>{escape(e['summary'])}</summary>" if "summary" in e else "",
                 f'<content type="html">{escape(e["content"])}</content>' if "content" in e else ""]
        out.append("<entry>" + "".join(parts) + "</entry>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>urn:courier</id><updated>2025-03-20T10:00:00Z</updated>\n"
            + "\n".join(out) + "\n</feed>\n").encode("utf-8")


def jsonl(records: list[object]) -> bytes:
    """One JSON value per line (a str is written as it is, to make a broken line)."""
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode("utf-8")


def pdf(pages: list[list[str]], info: dict[str, str] | None = None) -> bytes:
    """A PDF with a Helvetica text line per string on each page (an empty page has no text layer) and
    the given document information (/Title, /Author, /CreationDate ... without the slash)."""
    objects = {1: "<< /Type /Catalog /Pages 2 0 R >>", 3: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    kids, number = [], 4
    for lines in pages:
        shown = " ".join(f"({_pdf_string(line)}) Tj T*" for line in lines)
        stream = f"BT /F1 11 Tf 72 740 Td 14 TL {shown} ET" if lines else ""
        objects[number] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                           f"/Resources << /Font << /F1 3 0 R >> >> /Contents {number + 1} 0 R >>")
        objects[number + 1] = f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream"
        kids.append(f"{number} 0 R")
        number += 2
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    info_ref = ""
    if info:
        objects[number] = "<< " + " ".join(f"/{k} ({_pdf_string(v)})" for k, v in info.items()) + " >>"
        info_ref = f" /Info {number} 0 R"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = {}
    for n in sorted(objects):
        offsets[n] = out.tell()
        out.write(f"{n} 0 obj\n{objects[n]}\nendobj\n".encode("latin-1"))
    xref, size = out.tell(), max(objects) + 1
    out.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
    out.write("".join(f"{offsets[n]:010d} 00000 n \n" for n in range(1, size)).encode())
    out.write(f"trailer\n<< /Size {size} /Root 1 0 R{info_ref} >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def encrypted(document: bytes, password: str = "secret") -> bytes:
    """The PDF encrypted with a user password (pypdf's writer)."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(document)))
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
