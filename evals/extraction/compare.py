"""Compare HTML extractors on the labelled pages; the table goes into docs/extraction.md.

    PYTHONPATH=. python evals/extraction/compare.py [NAME ...]

Candidates: rag's HtmlReader; trafilatura 2.x with its defaults, favor_precision, favor_recall and
without tables; the selectolax extractor rag used before (`rag.ingest.reading.html_to_text`, no
metadata); readability-lxml when it is importable (install it outside rag's venv, e.g.
`pip install --target /tmp/cmp-site readability-lxml` and add /tmp/cmp-site to PYTHONPATH).
"""

from __future__ import annotations

import sys
import time

from rag.evaluation.extraction import html_reader, markdown, run, write_reports
from rag.evaluation.pages import Page, load_pages, expected_text
from rag.ingest.formats.html import decode_html, paragraphs
from rag.ingest.formats.html_meta import page_meta


def trafilatura_with(**options):
    def extract(page: Page):
        import trafilatura

        html = decode_html(page.html)
        document = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, **options)
        if document is None or document.body is None:
            return "", {}
        return paragraphs(document.body), page_meta(document, html, None)
    return extract


def selectolax(page: Page):
    from rag.ingest.reading import html_to_text

    return html_to_text(decode_html(page.html)), {}


def readability_lxml(page: Page):
    from readability import Document

    document = Document(decode_html(page.html))
    return expected_text(document.summary(html_partial=True)), {"title": document.short_title()}


CANDIDATES = {
    "rag HtmlReader": html_reader,
    "trafilatura default": trafilatura_with(),
    "trafilatura favor_precision": trafilatura_with(favor_precision=True),
    "trafilatura favor_recall": trafilatura_with(favor_recall=True),
    "trafilatura no tables": trafilatura_with(include_tables=False),
    "trafilatura fast (no fallback)": trafilatura_with(fast=True),
    "trafilatura favor_recall fast": trafilatura_with(favor_recall=True, fast=True),
    "selectolax html_to_text": selectolax,
    "readability-lxml": readability_lxml,
}


def main(names: list[str]) -> None:
    pages = load_pages()
    reports = []
    for name in names or list(CANDIDATES):
        started = time.perf_counter()
        try:
            reports.append(run(CANDIDATES[name], pages, name))
        except ImportError as exc:
            print(f"{name}: skipped ({exc})", file=sys.stderr)
            continue
        print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    write_reports(reports)
    print(markdown(reports))


if __name__ == "__main__":
    main(sys.argv[1:])
