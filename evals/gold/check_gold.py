#!/usr/bin/env python3
"""Validate the hand-written gold data in this directory.

Checks questions.yaml and briefing.yaml against the seed articles in ../../seeds/:
schema fields, unique ids, minimum counts per kind, per-article coverage, and that every
quote occurs verbatim in its article (after collapsing runs of whitespace to one space).

Usage: python check_gold.py [--seeds DIR]
Exits 0 if everything passes, 1 otherwise. Needs only the stdlib and PyYAML.
"""
import argparse
import collections
import pathlib
import re
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_SEEDS = HERE.parent.parent / "seeds"

KIND_MINIMUMS = {
    "fact": 30,
    "who_said": 8,
    "multi_article": 6,
    "follow_up": 5,
    "outlets_differ": 5,
    "unanswerable": 12,
}
MIN_QUESTIONS = 66
MIN_ANSWERABLE_PER_ARTICLE = 6
MIN_QUOTE_WORDS = 6
MIN_KEY_FACTS = 12
MIN_DISCREPANCIES = 5
# 002 is a machine translation of the AP report 000: same outlet, never an independent source.
OUTLET_OF = {"000": "AP", "001": "001-site", "002": "AP", "003": "NYT", "004": "NOTUS"}
REQUIRED_KEY_FACTS = [
    "patriot", "energy_pause_30_days", "power_plant_ownership", "power_plant_doubts",
    "putin_demand_aid_intel", "drones_150_overnight", "russia_seven_drones",
    "intercepted_57_drones", "prisoner_swap_175", "saudi_technical_talks",
    "intel_sharing_continues", "black_sea", "red_line_territories", "oval_office_clash",
]
REQUIRED_DISCREPANCIES = [
    "former_president", "could_vs_would", "prisoners_175_vs_hundreds",
    "power_plant_quote_wording", "energy_pause_whose_offer",
]

errors = []
warnings = []


def err(msg):
    errors.append(msg)


def warn(msg):
    warnings.append(msg)


def norm(text):
    return re.sub(r"\s+", " ", text).strip()


def load_articles(seeds):
    arts = {}
    for path in sorted(seeds.glob("*.txt")):
        prefix = path.name[:3]
        if re.fullmatch(r"\d{3}", prefix):
            arts[prefix] = path.read_text(encoding="utf-8")
    return arts


def check_quote(where, passage, arts):
    if not isinstance(passage, dict):
        err(f"{where}: passage is not a mapping: {passage!r}")
        return None
    for key in ("article", "quote"):
        if key not in passage:
            err(f"{where}: passage missing '{key}'")
            return None
    art = passage["article"]
    quote = passage["quote"]
    if not isinstance(art, str) or art not in arts:
        err(f"{where}: unknown article {art!r} (must be a 3-digit string, one of {sorted(arts)})")
        return None
    if not isinstance(quote, str) or not quote.strip():
        err(f"{where}: empty quote")
        return None
    if len(quote.split()) < MIN_QUOTE_WORDS:
        err(f"{where}: quote shorter than {MIN_QUOTE_WORDS} words: {quote!r}")
    if norm(quote) not in norm(arts[art]):
        err(f"{where}: quote not found verbatim in article {art}: {quote!r}")
    return art


def check_alternatives(where, alts):
    if not isinstance(alts, list) or not alts:
        err(f"{where}: must be a non-empty list of strings")
        return []
    good = []
    for alt in alts:
        if not isinstance(alt, str) or not alt.strip():
            err(f"{where}: empty or non-string alternative {alt!r}")
        elif alt != alt.lower() or alt != alt.strip():
            err(f"{where}: alternative must be lowercase and stripped: {alt!r}")
        else:
            good.append(alt)
    return good


def check_questions(path, arts):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        err(f"{path.name}: top level must be a list")
        return
    ids = set()
    texts = set()
    kinds = collections.Counter()
    per_article = collections.Counter()
    per_article_kind = collections.Counter()
    required = ("id", "kind", "question", "history", "answerable", "facts", "passages")
    for i, q in enumerate(data):
        where = f"questions[{i}]"
        if not isinstance(q, dict):
            err(f"{where}: not a mapping")
            continue
        missing = [k for k in required if k not in q]
        if missing:
            err(f"{where} ({q.get('id')}): missing fields {missing}")
            continue
        extra = set(q) - set(required)
        if extra:
            warn(f"{where} ({q['id']}): unexpected fields {sorted(extra)}")
        qid = q["id"]
        where = f"{qid}"
        if not isinstance(qid, str) or not re.fullmatch(r"q\d{2,}", qid):
            err(f"{where}: id must look like q01")
        if qid in ids:
            err(f"{where}: duplicate id")
        ids.add(qid)
        kind = q["kind"]
        if kind not in KIND_MINIMUMS:
            err(f"{where}: unknown kind {kind!r}")
        kinds[kind] += 1
        text = q["question"]
        if not isinstance(text, str) or not text.strip():
            err(f"{where}: empty question")
        else:
            key = re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
            if key in texts:
                err(f"{where}: duplicate question text")
            texts.add(key)
        hist = q["history"]
        if not isinstance(hist, list):
            err(f"{where}: history must be a list")
        elif kind == "follow_up":
            if not hist:
                err(f"{where}: follow_up needs a non-empty history")
            for turn in hist:
                if not (isinstance(turn, dict) and isinstance(turn.get("question"), str)
                        and isinstance(turn.get("answer"), str)
                        and turn["question"].strip() and turn["answer"].strip()):
                    err(f"{where}: history turns need question and answer strings")
        elif hist:
            err(f"{where}: only follow_up questions may have a history")
        answerable = q["answerable"]
        facts = q["facts"]
        passages = q["passages"]
        if not isinstance(answerable, bool):
            err(f"{where}: answerable must be true/false")
        if not isinstance(facts, list) or not isinstance(passages, list):
            err(f"{where}: facts and passages must be lists")
            continue
        if kind == "unanswerable" or answerable is False:
            if kind != "unanswerable" or answerable is not False:
                err(f"{where}: kind unanswerable <=> answerable: false")
            if facts or passages:
                err(f"{where}: unanswerable question must have empty facts and passages")
            continue
        if not facts:
            err(f"{where}: answerable question needs at least one fact")
        if not passages:
            err(f"{where}: answerable question needs at least one passage")
        quotes_text = []
        q_articles = set()
        for j, p in enumerate(passages):
            art = check_quote(f"{where}.passages[{j}]", p, arts)
            if art:
                q_articles.add(art)
                quotes_text.append(norm(p["quote"]).lower())
        for art in q_articles:
            per_article[art] += 1
            per_article_kind[(art, kind)] += 1
        if kind == "multi_article" and len({OUTLET_OF.get(a, a) for a in q_articles}) < 2:
            err(f"{where}: multi_article question needs passages from >= 2 outlets")
        if kind == "outlets_differ" and len({OUTLET_OF.get(a, a) for a in q_articles}) < 2:
            err(f"{where}: outlets_differ question needs passages from >= 2 outlets")
        for k, fact in enumerate(facts):
            alts = check_alternatives(f"{where}.facts[{k}]", fact)
            if alts and not any(a in qt for a in alts for qt in quotes_text):
                warn(f"{where}.facts[{k}] {alts}: no alternative occurs in the gold quotes")

    total = len(data)
    print(f"questions.yaml: {total} questions")
    if total < MIN_QUESTIONS:
        err(f"questions.yaml: need >= {MIN_QUESTIONS} questions, have {total}")
    print("  per kind:    " + ", ".join(f"{k}={kinds[k]} (min {m})" for k, m in KIND_MINIMUMS.items()))
    for k, m in KIND_MINIMUMS.items():
        if kinds[k] < m:
            err(f"questions.yaml: kind {k} has {kinds[k]} < {m}")
    print("  answerable questions per gold article and kind:")
    kinds_answerable = [k for k in KIND_MINIMUMS if k != "unanswerable"]
    print("    article " + " ".join(f"{k:>14}" for k in kinds_answerable) + "  total")
    for a in sorted(arts):
        row = " ".join(f"{per_article_kind[(a, k)]:>14}" for k in kinds_answerable)
        print(f"    {a:>7} {row}  {per_article[a]:>5}")
    print("  answerable questions per gold article: "
          + ", ".join(f"{a}={per_article[a]}" for a in sorted(arts)))
    for a in sorted(arts):
        if per_article[a] < MIN_ANSWERABLE_PER_ARTICLE:
            err(f"questions.yaml: article {a} is gold for only {per_article[a]} answerable questions")


def check_briefing(path, arts):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        err(f"{path.name}: top level must be a mapping")
        return
    key_facts = data.get("key_facts")
    discs = data.get("discrepancies")
    if not isinstance(key_facts, list) or not isinstance(discs, list):
        err(f"{path.name}: needs lists 'key_facts' and 'discrepancies'")
        return
    ids = set()
    for i, kf in enumerate(key_facts):
        where = f"key_facts[{i}]"
        if not isinstance(kf, dict):
            err(f"{where}: not a mapping")
            continue
        missing = [k for k in ("id", "about", "alternatives", "articles", "independent_sources") if k not in kf]
        if missing:
            err(f"{where} ({kf.get('id')}): missing fields {missing}")
            continue
        where = f"key_fact {kf['id']}"
        if kf["id"] in ids:
            err(f"{where}: duplicate id")
        ids.add(kf["id"])
        if not isinstance(kf["about"], str) or not kf["about"].strip():
            err(f"{where}: empty about")
        alts = check_alternatives(f"{where}.alternatives", kf["alternatives"])
        articles = kf["articles"]
        if not isinstance(articles, list) or not articles or any(a not in arts for a in articles):
            err(f"{where}: articles must be a non-empty list of article prefixes, got {articles!r}")
            continue
        if len(set(articles)) != len(articles):
            err(f"{where}: duplicate articles")
        expected = len({OUTLET_OF.get(a, a) for a in articles})
        if kf["independent_sources"] != expected:
            err(f"{where}: independent_sources={kf['independent_sources']!r}, "
                f"expected {expected} for articles {articles} (002 counts with 000)")
        for a in articles:
            if alts and not any(alt in arts[a].lower() for alt in alts):
                warn(f"{where}: no alternative occurs literally in listed article {a}")
        quoted = set()
        for j, p in enumerate(kf.get("passages", []) or []):
            art = check_quote(f"{where}.passages[{j}]", p, arts)
            if art:
                quoted.add(art)
                if art not in articles:
                    err(f"{where}: passage from {art} which is not in its articles list")
        if "passages" in kf and set(articles) - quoted:
            err(f"{where}: no passage given for listed articles {sorted(set(articles) - quoted)}")
    print(f"briefing.yaml: {len(key_facts)} key facts, {len(discs)} discrepancies")
    if len(key_facts) < MIN_KEY_FACTS:
        err(f"briefing.yaml: need >= {MIN_KEY_FACTS} key facts")
    for rid in REQUIRED_KEY_FACTS:
        if rid not in ids:
            err(f"briefing.yaml: required key fact {rid!r} missing")

    dids = set()
    for i, d in enumerate(discs):
        where = f"discrepancies[{i}]"
        if not isinstance(d, dict):
            err(f"{where}: not a mapping")
            continue
        missing = [k for k in ("id", "about", "keywords", "versions") if k not in d]
        if missing:
            err(f"{where} ({d.get('id')}): missing fields {missing}")
            continue
        where = f"discrepancy {d['id']}"
        if d["id"] in dids:
            err(f"{where}: duplicate id")
        dids.add(d["id"])
        check_alternatives(f"{where}.keywords", d["keywords"])
        versions = d["versions"]
        if not isinstance(versions, list) or len(versions) < 2:
            err(f"{where}: needs >= 2 versions")
            continue
        seen = set()
        for j, v in enumerate(versions):
            art = check_quote(f"{where}.versions[{j}]", v, arts)
            if art:
                seen.add(art)
        if len(seen) < 2:
            err(f"{where}: versions must quote at least two different articles")
    if len(discs) < MIN_DISCREPANCIES:
        err(f"briefing.yaml: need >= {MIN_DISCREPANCIES} discrepancies")
    for rid in REQUIRED_DISCREPANCIES:
        if rid not in dids:
            err(f"briefing.yaml: required discrepancy {rid!r} missing")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=pathlib.Path, default=DEFAULT_SEEDS)
    args = ap.parse_args()
    arts = load_articles(args.seeds)
    if not arts:
        print(f"no articles found in {args.seeds}", file=sys.stderr)
        return 1
    for name, fn in (("questions.yaml", check_questions), ("briefing.yaml", check_briefing)):
        path = HERE / name
        if not path.exists():
            err(f"{name} not found")
            continue
        try:
            fn(path, arts)
        except yaml.YAMLError as e:
            err(f"{name}: YAML error: {e}")
    for w in warnings:
        print(f"WARNING: {w}")
    for e in errors:
        print(f"ERROR: {e}")
    print(f"{len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
