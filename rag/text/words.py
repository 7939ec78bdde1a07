"""The one text toolkit: folding, words, stems, names, numbers and the English word lists behind them.

Every module that compares words goes through here, so no two of them can disagree about whether
'prisoners' meets 'prisoner', whether 'Trump’s' names Trump, or whether 'said' is a content word.
The lists are English, not the seed articles: a word belongs here because of what it does in any
news sentence.
"""

from __future__ import annotations

import functools

import re

# --- Folding -------------------------------------------------------------------------------------
# Typographic variants that must compare equal: curly quotes, guillemets, dashes, no-break spaces.
_FOLD = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'",
                       "–": "-", "—": "-", "\u00a0": " "})


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Folded, whitespace-collapsed text and, per folded character, its index in `text`."""
    chars: list[str] = []
    index: list[int] = []
    previous_space = False
    for i, ch in enumerate(text.translate(_FOLD)):
        if ch.isspace():
            if previous_space:
                continue
            ch, previous_space = " ", True
        else:
            previous_space = False
        chars.append(ch)
        index.append(i)
    return "".join(chars), index


def normalise(text: str) -> str:
    """The text with quote marks and dashes folded and runs of whitespace made one space."""
    return fold_with_map(text)[0].strip()


# --- Word lists ----------------------------------------------------------------------------------
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")

# English reporting verbs: those that attribute a statement to someone ("Zelenskyy said", "..., he added"),
# in the forms news writes them (past tense, third person, base). The list is the reporting verbs of
# English grammars (say, tell, add, claim, deny, insist ...), not the verbs of any one article.
_REPORTING = ("say tell state add write claim accuse argue call describe report insist warn post announce confirm "
              "underscore underline stress emphasize emphasise urge note ask request reply respond answer admit "
              "acknowledge assert contend declare maintain mention observe remark repeat reiterate explain "
              "deny reveal disclose allege complain concede tweet testify comment conclude").split()
_IRREGULAR_PAST = {"say": "said", "tell": "told", "write": "wrote", "admit": "admitted"}


def _past(verb: str) -> str:
    """The past tense of a regular (or listed irregular) English verb."""
    if verb in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[verb]
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + ("d" if verb.endswith("e") else "ed")


# Past tenses (news reports speech in the past), and 'say'/'tell' in the present: the base and -s forms of
# most reporting verbs are nouns as often ('a call', 'the report', 'comments'), so they are left out.
SPEECH_VERBS = frozenset({_past(verb) for verb in _REPORTING} | {"say", "says", "tell", "tells"})
SPEECH_VERB = "(?:" + "|".join(sorted(SPEECH_VERBS)) + ")"  # one of them, for a regex

# Words that deny or hedge a statement: a rewrite that drops one says something else.
NEGATIONS = frozenset({"not", "no", "never", "n't", "without", "none", "nothing", "neither", "nor", "cannot"})
# Hedging devices of English: modal verbs, epistemic adverbs and adjectives, conditionals, and the verbs and
# nouns that present something as a possibility or a proposal rather than a fact.
HEDGES = frozenset(
    "could may might would should can possibly probably perhaps maybe likely unlikely apparently allegedly "
    "reportedly seemingly potentially presumably if whether unless suggest suggested suggests suggesting "
    "propose proposed proposes proposing proposal float floated floating idea plan plans planned possibility "
    "possible consider considered considering expect expected hope hoped".split()
)

# Words that carry no topic: articles, pronouns, auxiliaries, prepositions, conjunctions, question words,
# quantifiers, honorifics and the commonest speech verbs. Two sentences sharing them share nothing.
STOP_WORDS = frozenset(
    "a an the and or but so than then while not no "
    "i we us our he him his she her it its they them their this that these those there "
    "what which who whom when where why how "
    "be been being is are was were do does did has have had will would could can may might should "
    "as at by for from in into of on to with about after over "
    "also just very more most such other any all some each both one two only own same too "
    "mr mrs ms said says say told".split()
)

# Capitalised words that open sentences without naming anyone ('During the call, ...', 'Besides, ...'):
# English prepositions, conjunctions, conjunctive adverbs, determiners and quantifiers, and titles.
SENTENCE_STARTERS = frozenset((
    "aboard about above across after against along amid among around as at before behind below beneath beside "
    "besides between beyond by despite down during except following for from in inside into like near of off "
    "on onto opposite outside over past per since through throughout till to toward towards under underneath "
    "unlike until up upon via with within without according apart "
    "and but or nor so yet although though because unless whereas while when whenever where wherever whether "
    "if once than that "
    "also however meanwhile moreover furthermore nevertheless nonetheless otherwise still then therefore thus "
    "hence instead indeed likewise similarly consequently accordingly finally first second third last next "
    "later earlier now today yesterday tomorrow yes no "
    "whose which what who whom how why both all some many most much more few several each every either neither "
    "any another other such one two three four five "
    "mr mrs ms dr president prime minister"
).split())
# Capitalised words that name no one: stop words, sentence starters and the calendar ('on Wednesday').
NOT_NAMES = STOP_WORDS | SENTENCE_STARTERS | frozenset(MONTHS) | frozenset(WEEKDAYS)

# Number words and the digits they stand for; a quantity written in words counts like one in digits.
_CARDINALS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
              "sixteen seventeen eighteen nineteen twenty").split()
NUMBER_WORDS = ({word: str(value) for value, word in enumerate(_CARDINALS)}
                | {word: str(10 * tens) for tens, word in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)}
                | {"hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000",
                   "trillion": "1000000000000", "dozen": "12"})
# Amounts without a figure: 'hundreds of prisoners'. The plurals of number words also answer 'how many'.
ROUND_AMOUNTS = ("dozens", "hundreds", "thousands", "millions", "billions")
VAGUE_AMOUNTS = ROUND_AMOUNTS + ("several", "numerous", "scores")

# --- Words and stems -----------------------------------------------------------------------------
_WORD = re.compile(r"[a-z0-9]+")
_STEM_WORD = re.compile(r"[a-z][a-z0-9]*")
_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])", re.I)


def words(text: str) -> set[str]:
    """Lower-case words and numbers of the folded text ('Crimean' -> 'crimean', '1,200' -> '1', '200')."""
    return set(_WORD.findall(normalise(text).lower()))


def join_hyphens(text: str) -> str:
    """Hyphenated words written as one ('cease-fire' is 'ceasefire'), as outlets disagree on the hyphen."""
    return _HYPHEN.sub("", text)


def stem(word: str) -> str:
    """A crude suffix strip, enough for 'exchanged' to meet 'exchanges' and 'prisoners' 'prisoner'."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _content_words(text: str) -> list[str]:
    """Lowercase words of a text without stop words or words under three letters, hyphenated words
    joined ('cease-fire' is 'ceasefire'), possessives dropped."""
    folded = re.sub(r"'s\b", "", join_hyphens(normalise(text).lower()))
    return [w for w in _STEM_WORD.findall(folded) if w not in STOP_WORDS and len(w) > 2]


def stems(text: str) -> frozenset[str]:
    """The content words of a text, stemmed so 'prisoners' meets 'prisoner' (see `stem`)."""
    return frozenset(stem(w) for w in _content_words(text))


@functools.lru_cache(maxsize=1)
def _snowball():
    import Stemmer  # PyStemmer: the Snowball (Porter 2) English stemmer, in C

    return Stemmer.Stemmer("english")


def root_stems(text: str) -> frozenset[str]:
    """The content words of a text reduced to their Snowball roots: 'capitulated' and 'capitulate' meet,
    as do 'agreed' and 'agree'. Sentence selection and the briefing still use `stems`, on which their
    weights were calibrated; moving them to roots needs a recalibration on every corpus's dev split."""
    return frozenset(_snowball().stemWords(_content_words(text)))


# --- Names and numbers ---------------------------------------------------------------------------
# A capitalised word with a lower-case letter: 'Zelenskyy', 'Trump’s', 'McDonald' (not 'NATO' or 'U.S.').
NAME = r"[A-Z][\w’'-]*[a-z]"
_NAME = re.compile(rf"\b{NAME}")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WRITTEN_WORD = re.compile(r"[A-Za-z][\w.’'-]*[\w]|[A-Za-z]")


def names(text: str) -> set[str]:
    """Lower-cased capitalised words that name people, places or bodies (not sentence starters like
    'During' or days like 'Wednesday'), without a possessive 's."""
    found = {re.sub(r"[’']s$", "", m.group(0).lower()) for m in _NAME.finditer(text)}
    return found - NOT_NAMES


def tokens(text: str) -> list[str]:
    """Words as written, abbreviations ("U.S.") kept whole."""
    return _WRITTEN_WORD.findall(normalise(text))


def names_in(text: str) -> set[str]:
    """Lower-cased tokens written with a capital inside a sentence (names and titles: 'President')."""
    folded = normalise(text)
    out = set()
    for match in _WRITTEN_WORD.finditer(folded):
        before = folded[: match.start()].rstrip(" \"'“‘(")
        if match.group(0)[0].isupper() and before and before[-1] not in ".!?:":
            out.add(match.group(0).lower())
    return out


def name_words(text: str) -> list[tuple[int, str]]:
    """(offset, word) of each capitalised word as written, possessive kept ('Trump’s')."""
    return [(m.start(), m.group(0)) for m in _NAME.finditer(text)]


def mentioned(name: str, known: set[str]) -> bool:
    """Whether a name occurs among words, a prefix counting either way ('Crimea' ~ 'Crimean')."""
    return any(w.startswith(name) or (name.startswith(w) and len(w) >= 4) for w in known)


def numbers(text: str) -> set[str]:
    """Figures in a text, thousands separators dropped ('1,200' -> '1200')."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


# --- Quotations and datelines ------------------------------------------------------------------
_QUOTED = re.compile(r"“([^“”]{12,}?)”|\"([^\"]{12,}?)\"")


def quotations(text: str) -> list[str]:
    """Quoted passages: curly quotes pair with each other, straight quotes in order."""
    return [a or b for a, b in _QUOTED.findall(text)]


# A wire dateline before the lede: "KYIV, Ukraine (AP) — " or "date 2025-03-19 (AP) — ".
DATELINE = re.compile(r"^\s*[^\n—–]{0,80}?\((?P<wire>[A-Z][A-Za-z]{1,10})\)\s*[—–-]+\s*")
