"""A briefing as markdown for people: headline, key points, sections, differences, then every quote."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.types import Citation
from rag.llm.prompts import mark

if TYPE_CHECKING:
    from rag.briefing.model import Briefing, Point


def _marks(citations: list[Citation]) -> str:
    return "".join(mark(c.n) for c in citations)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _who(point: Point) -> str:
    return f"{', '.join(point.outlets)}; {_count(point.independent_sources, 'independent source')}"


def _point(point: Point) -> list[str]:
    return [f"- {point.text} {_marks(point.citations)}  ", f"  *{_who(point)}*"]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def to_markdown(briefing: Briefing) -> str:
    lines = [f"# {briefing.headline}", ""]
    outlets = [s.outlet or s.article_id for s in briefing.sources if s.derived_from is None]
    dates = sorted(s.date[:10] for s in briefing.sources if s.date)
    span = f", {dates[0]}" + (f" to {dates[-1]}" if dates[-1] != dates[0] else "") if dates else ""
    about = f" on “{briefing.topic}”" if briefing.topic else ""
    lines += [f"*A briefing{about} from {_count(len(briefing.sources), 'article')} by "
              f"{_count(briefing.independent_sources, 'independent source')} ({', '.join(outlets)}){span}. Each [n] "
              f"is a verbatim quote, listed under Sources; a derived copy (a translation) is never counted as a "
              f"separate source.*", ""]
    if briefing.points:
        lines += ["## Key points", ""]
        for point in briefing.points:
            lines += _point(point)
        lines.append("")
    for section in briefing.sections:
        lines += [f"## {section.title}", ""]
        for point in section.points:
            lines += _point(point)
        lines.append("")
    if briefing.discrepancies:
        lines += ["## Where the reports differ", ""]
        for d in briefing.discrepancies:
            lines += [f"**{d.about}**", ""]
            for v in d.versions:
                said = "" if d.kind == "single_source" else f" — *{_one_line(v.text)}*"
                lines += [f"- {v.outlet or v.article_id}{said} {mark(v.n) if v.n else ''}  ",
                          f"  > {_one_line(v.quote)}"]
            lines.append("")
    lines += _sources(briefing)
    if briefing.notes:
        lines += ["", *[f"*Note: {n}*" for n in briefing.notes]]
    return "\n".join(lines).rstrip() + "\n"


def _sources(briefing: Briefing) -> list[str]:
    cited: dict[int, Citation] = {}
    for point in briefing.all_points():
        for c in point.citations:
            cited[c.n] = c
    by_article: dict[str, list[Citation]] = {}
    for c in sorted(cited.values(), key=lambda c: c.n):
        by_article.setdefault(c.article_id, []).append(c)
    for d in briefing.discrepancies:
        for v in d.versions:
            if v.n is not None and v.n not in cited:
                c = Citation(n=v.n, article_id=v.article_id, outlet=v.outlet, quote=v.quote, start=v.start, end=v.end,
                             also_in=v.also_in)
                cited[v.n] = c
                by_article.setdefault(v.article_id, []).append(c)
    names = {s.article_id: s.outlet or s.article_id for s in briefing.sources}
    lines = ["## Sources", ""]
    for source in briefing.sources:
        title = f" “{source.title}”" if source.title else ""
        date = f", {source.date[:10]}" if source.date else ""
        derived = (f" — a derived copy of {names.get(source.derived_from, source.derived_from)}, not a separate "
                   f"source" if source.derived_from else "")
        lines.append(f"- **{source.outlet or 'unknown outlet'}**{title}{date} · `{source.article_id}`{derived}")
        for c in sorted(by_article.get(source.article_id, []), key=lambda c: c.n):
            also = f" (also in {', '.join(names.get(a, a) for a in c.also_in)})" if c.also_in else ""
            lines.append(f"  - [{c.n}] “{_one_line(c.quote)}” chars {c.start}–{c.end}{also}")
    return lines
