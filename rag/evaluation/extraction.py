"""Scoring HTML extraction against the labelled test set (rag.evaluation.pages).

Text. Both texts are split into sentences (rag.text.sentences) and each sentence is reduced to its
words: folded quotes and dashes, lower case, only letters and digits (so 'Nyong ' o 's' meets
"Nyong'o's" and spacing around punctuation does not matter). A sentence is *found* in the other text
when its words occur there in a row (across sentence and paragraph breaks), or when one sentence of
the other text matches it closely (difflib ratio >= CLOSE_MATCH over the word sequences: a changed
quote mark or a dropped footnote sign). Recall: share of expected sentences found in the extraction;
precision: share of extracted sentences found in the expected text. Pages with snippets only are
scored on them: every 'must contain' snippet found, no 'must not contain' snippet present.

Metadata. Title: equal word sequence to one of the page's headlines. Date: the same calendar day
(pages stating no date are not counted). Outlet: equal after lower-casing and dropping a leading
'The', a trailing web domain ending ('.com', '.co.uk') and everything but letters and digits.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path

from pydantic import BaseModel

from rag.evaluation.pages import Page
from rag.text.sentences import split_sentences
from rag.text.words import normalise

EVALS_DIR = Path(__file__).resolve().parents[2] / "evals"
CLOSE_MATCH = 0.9
_WORD = re.compile(r"[^\W_]+")
_DOMAIN_END = re.compile(r"\.(com|org|net|co\.uk|com\.au|co)$")

# What an extractor gives back for one page: text and meta (title, date, outlet ...), or raises.
Extractor = Callable[[Page], tuple[str, dict[str, str]]]


class PageScore(BaseModel):
    id: str
    package: str
    split: str
    kind: str
    recall: float | None = None
    precision: float | None = None
    missing: list[str] = []  # expected sentences or snippets not found (the first few)
    extra: list[str] = []  # extracted sentences the expected text lacks, or excluded snippets present
    title_ok: bool = False
    date_ok: bool | None = None  # None: the page states no date
    outlet_ok: bool = False
    title: str = ""
    date: str = ""
    outlet: str = ""
    error: str = ""


class ExtractionReport(BaseModel):
    extractor: str
    pages: list[PageScore]

    def metrics(self, split: str | None = None) -> dict[str, float | None]:
        return summarise([p for p in self.pages if split is None or p.split == split])


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text).casefold())


def sentences(text: str) -> list[list[str]]:
    """The sentences of a text as word lists (sentences without a word are left out)."""
    found = (words(text[s.start:s.end]) for s in split_sentences(text))
    return [w for w in found if w]


def found_share(needles: list[list[str]], text: str, haystack: list[list[str]]) -> tuple[float, list[int]]:
    """Share of `needles` found in `text` (whose sentences are `haystack`), and the indexes not found."""
    if not needles:
        return 1.0, []
    joined = f" {' '.join(words(text))} "
    missing = [i for i, needle in enumerate(needles)
               if f" {' '.join(needle)} " not in joined and not _close(needle, haystack)]
    return (len(needles) - len(missing)) / len(needles), missing


def _close(needle: list[str], haystack: list[list[str]]) -> bool:
    for candidate in haystack:
        matcher = SequenceMatcher(None, needle, candidate, autojunk=False)
        if matcher.real_quick_ratio() >= CLOSE_MATCH and matcher.quick_ratio() >= CLOSE_MATCH \
                and matcher.ratio() >= CLOSE_MATCH:
            return True
    return False


def same_title(got: str, expected: tuple[str, ...]) -> bool:
    return bool(words(got)) and any(words(got) == words(e) for e in expected)


def same_day(got: str, expected: str | None) -> bool | None:
    return None if expected is None else got[:10] == expected[:10]


def _outlet_key(name: str) -> str:
    name = normalise(name).casefold()
    name = _DOMAIN_END.sub("", name.removeprefix("www."))
    name = name.removeprefix("the ")
    return "".join(_WORD.findall(name))


def same_outlet(got: str, expected: tuple[str, ...]) -> bool:
    return bool(_outlet_key(got)) and any(_outlet_key(got) == _outlet_key(e) for e in expected)


def score_page(page: Page, text: str, meta: dict[str, str]) -> PageScore:
    got = sentences(text)
    score = PageScore(id=page.id, package=page.package, split=page.split, kind=page.kind, title=meta.get("title", ""),
                      date=meta.get("date", ""), outlet=meta.get("outlet", ""))
    if page.kind == "full":
        expected = sentences(page.expected)
        score.recall, missing = found_share(expected, text, got)
        score.precision, extra = found_share(got, page.expected, expected)
        score.missing = [" ".join(expected[i]) for i in missing[:5]]
        score.extra = [" ".join(got[i]) for i in extra[:5]]
    else:
        needles = [words(s) for s in page.contains]
        score.recall, missing = found_share(needles, text, got)
        score.missing = [page.contains[i] for i in missing[:5]]
        canon = f" {' '.join(words(text))} "
        score.extra = [s for s in page.excludes if f" {' '.join(words(s))} " in canon]
        score.precision = 1.0 if not score.extra else 0.0 if page.kind == "snippets" else None
    score.title_ok = same_title(score.title, page.titles)
    score.date_ok = same_day(score.date, page.date)
    score.outlet_ok = same_outlet(score.outlet, page.outlets)
    return score


def run(extractor: Extractor, pages: list[Page], name: str) -> ExtractionReport:
    """Every page through one extractor; an extractor's exception is the page's error, scored as nothing found."""
    scores = []
    for page in pages:
        try:
            text, meta = extractor(page)
        except Exception as exc:  # a failure on one page is a result, not the end of the run
            text, meta, error = "", {}, f"{type(exc).__name__}: {exc}"
        else:
            error = ""
        score = score_page(page, text, meta)
        score.error = error
        scores.append(score)
    return ExtractionReport(extractor=name, pages=scores)


def html_reader(page: Page) -> tuple[str, dict[str, str]]:
    """rag's own extractor, the one ingest uses, as an Extractor."""
    from rag.ingest.formats.html import HtmlReader

    [article] = HtmlReader().read(page.html, page.path)
    return article.text, article.meta


def evaluate(cache: Path | None = None) -> ExtractionReport:
    """rag's HtmlReader on every labelled page (fetched into the cache on first use)."""
    from rag.evaluation.pages import load_pages

    return run(html_reader, load_pages(cache), "rag HtmlReader")


SPLITS = {"all": None, "dev": "dev", "held out": "test"}


def rows(report: ExtractionReport) -> list[list[str]]:
    """Each metric with its figure on all pages, the dev pages and the held-out pages."""
    figures = [report.metrics(split) for split in SPLITS.values()]
    return [[metric, *("–" if f[metric] is None else str(round(f[metric], 3)) for f in figures)] for metric in figures[0]]


def summarise(pages: list[PageScore]) -> dict[str, float | None]:
    """Means over the pages: recall and precision of full-text pages, snippet recall of the others,
    the lowest page figures, and the share of pages whose title, date and outlet are right."""
    full = [p for p in pages if p.kind == "full"]
    snippets = [p for p in pages if p.kind != "full"]
    with_precision = [p.precision for p in pages if p.precision is not None]
    dated = [p.date_ok for p in pages if p.date_ok is not None]

    def mean(values: list) -> float | None:
        return round(statistics.mean(values), 3) if values else None

    return {
        "pages": len(pages),
        "sentence_recall": mean([p.recall for p in full]),
        "sentence_precision": mean([p.precision for p in full]),
        "snippet_recall": mean([p.recall for p in snippets]),
        "excluded_snippets_absent": mean([p.precision for p in snippets if p.precision is not None]),
        "lowest_recall": min((p.recall for p in pages), default=None),
        "lowest_precision": min(with_precision, default=None),
        "title": mean([p.title_ok for p in pages]),
        "date": mean(dated),
        "outlet": mean([p.outlet_ok for p in pages]),
    }


def markdown(reports: list[ExtractionReport]) -> str:
    """One table of overall and held-out figures per extractor, then the pages of the first report."""
    columns = ("pages", "sentence_recall", "sentence_precision", "snippet_recall", "excluded_snippets_absent",
               "lowest_recall", "lowest_precision", "title", "date", "outlet")
    lines = ["# Extraction on the labelled news pages", "",
             "| extractor | split | " + " | ".join(c.replace("_", " ") for c in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for report in reports:
        for split in (None, "dev", "test"):
            m = report.metrics(split)
            cells = ("–" if m[c] is None else f"{m[c]:.3f}" if isinstance(m[c], float) else str(m[c]) for c in columns)
            lines.append(f"| {report.extractor} | {split or 'all'} | " + " | ".join(cells) + " |")
    lines += ["", f"## Pages ({reports[0].extractor})", "",
              "| page | split | recall | precision | title | date | outlet | missing / extra |", "|---|---|---|---|---|---|---|---|"]
    for p in reports[0].pages:
        def cell(ok: bool | None, value: str) -> str:
            return "–" if ok is None else ("ok" if ok else f"**{value or 'none'}**").replace("|", "/")
        figure = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
        notes = "; ".join([p.error] + [f"missing: {s[:60]}" for s in p.missing[:2]] + [f"extra: {s[:60]}" for s in p.extra[:2]])
        lines.append(f"| {p.id} | {p.split} | {figure(p.recall)} | {figure(p.precision)} | {cell(p.title_ok, p.title)} "
                     f"| {cell(p.date_ok, p.date)} | {cell(p.outlet_ok, p.outlet)} | {notes.strip('; ').replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def write_reports(reports: list[ExtractionReport], folder: Path | None = None) -> tuple[Path, Path]:
    folder = folder or EVALS_DIR / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "extraction-latest.md", folder / "extraction-latest.json"
    md.write_text(markdown(reports), encoding="utf-8")
    js.write_text("[" + ",\n".join(r.model_dump_json(indent=1) for r in reports) + "]\n", encoding="utf-8")
    return md, js
