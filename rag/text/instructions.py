"""Text written to steer an AI reader instead of reporting: an article sentence that gives the assistant
instructions is never evidence, never shown to a model and never an answer.

What marks such text is the language of prompts, not the subject of any article: a request to set aside
earlier instructions ("ignore previous instructions", also in the languages news is most often
written in), chat-template markup ("system:", "<|im_start|>", "[INST]"), role-play set-ups ("you are
now", "act as", "pretend to be"), words addressed to an AI reader ("if you are an AI", "dear
assistant"), and orders about answering ("for every question, answer only that ..."; "when asked
about X, say ..."). Look-alike letters from other scripts and invisible characters are folded away
first, and an instruction split over two sentences is caught on the pair.
"""

from __future__ import annotations

import re
import unicodedata

# Letters of other scripts that look like Latin ones, as used to slip text past a filter (after NFKC).
_LOOK_ALIKES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M",
    "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S",
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
})
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")

_OVERRIDE_VERB = r"(?:ignore|disregard|forget|override|bypass|skip|drop|abandon)"
_OVERRIDE_OBJECT = (r"(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|system message"
                    r"|context|constraints|programming)")
_AI = r"(?:ai|a\.i\.|assistant|chat ?bot|language model|llm|gpt|chatgpt|model|bot)"
_ANSWER_VERB = r"(?:answer|respond|reply|say|state|claim|write|output|print|tell (?:the )?(?:user|reader)s?)"

_IMPERATIVE_START = r"(?:^|[,;:\"“(]\s*|\bplease\s+|\bnow\s+|\byou (?:must|should|will|shall|need to|have to)\s+)"
_EARLIER = r"(?:previous|prior|above|earlier|preceding|all|any|your|system|original|other)"

_PATTERNS = [
    # Setting aside earlier instructions ("ignore all previous instructions"; a driver who ignores police
    # instructions is news, so the instructions must be qualified as earlier or as the reader's own).
    rf"\b{_OVERRIDE_VERB}\b(?:\W+\w+){{0,3}}?\W+{_EARLIER}\b(?:\W+\w+){{0,2}}?\W+{_OVERRIDE_OBJECT}\b",
    r"\bnew (?:instructions?|rules|system prompt)\s*:",
    # Chat-template and prompt markup.
    r"(?:^|[\"'“(\[{<])\s*(?:system|assistant|developer)\s*:\s*\S",
    r"<\|[a-z_]+\|>|\[/?inst\]|<<\s*/?sys\s*>>|</?\s*(?:system|instructions?)\s*>|#{2,}\s*(?:instruction|system|response)\b",
    # Role-play set-ups.
    rf"\byou are now (?:an? |the )?(?:{_AI}|dan|unrestricted|unfiltered|jailbroken)\b|\bfrom now on,? you (?:are|will|must|should)\b",
    rf"{_IMPERATIVE_START}(?:act|behave|respond|answer) as (?:if you were |an? |the |though )",
    rf"{_IMPERATIVE_START}pretend (?:to be|you are|that you)\b|\brole-?play as\b",
    # Words addressed to an AI reader.
    rf"\b(?:if|when) you are an? {_AI}\b|\b(?:dear|attention|note to (?:the |any )?|hey|hello),? (?:the )?{_AI}s?\b",
    r"\byou are an? (?:ai|language model|llm|chat ?bot)\b|\bas an ai (?:language model|assistant|model)\b",
    # Orders about answering.
    r"\bfor (?:every|any|all|each)(?: \w+)? (?:questions?|queries|prompts?)\b",
    r"\b(?:whatever|no matter what) (?:the )?(?:question is|(?:user|reader|anyone) asks?)\b",
    rf"\b(?:when|if)(?:ever)? (?:you are |you're )?(?:asked|questioned|prompted)\b(?:\W+\w+){{0,8}}?\s*[,:]\s*"
    rf"(?:always\s+|only\s+|just\s+)?{_ANSWER_VERB}\b",
    rf"{_IMPERATIVE_START}(?:always\s+|only\s+)?(?:answer|respond|reply|output|print)\s+(?:only\s+|always\s+|just\s+)?"
    r"(?:that|with|the following)\b",
    rf"\b(?:please|you (?:must|should|will|shall|need to|have to))\s+(?:always\s+|only\s+)?{_ANSWER_VERB}\b",
    r"\b(?:do not|don't|never) (?:mention|reveal|cite|tell|disclose)\b(?:\W+\w+){0,4}?\W+(?:the user|the reader|these instructions)\b",
    # The same request to set aside instructions in other languages news is often written in.
    r"\b(?:ignora|ignorez|ignoriere|ignorieren|ignoreer|ignoruj)\b(?:\W+\w+){0,4}?\W+(?:instrucciones|instructions"
    r"|anweisungen|istruzioni|instruções|instructies|instrukcje)\b|\bignore (?:toutes )?les instructions\b",
    r"игнорируй|проигнорируй|забудь (?:все )?(?:предыдущие )?инструкции|忽略(?:之前|以上|上述|所有)|无视(?:之前|以上|所有)"
    r"|以前の指示を無視|指示を無視",
]
_STEERING = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.I)


def folded(text: str) -> str:
    """The text as a filter should read it: compatibility forms unified (NFKC), invisible characters
    dropped, look-alike letters of other scripts mapped to the Latin ones, curly quotes straightened."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = text.replace("’", "'").replace("‘", "'")
    return " ".join(text.translate(_LOOK_ALIKES).split())


def steers_the_reader(sentence: str) -> bool:
    """Whether a sentence gives an AI reader instructions instead of reporting anything."""
    return bool(_STEERING.search(folded(sentence)) or _STEERING.search(" ".join(sentence.split())))


def steering_sentences(sentences: list[str]) -> set[int]:
    """Indices of the sentences of one text that steer the reader, alone or joined with the next one
    (an instruction split over two sentences marks both)."""
    found = {i for i, sentence in enumerate(sentences) if steers_the_reader(sentence)}
    for i in range(len(sentences) - 1):
        if i not in found and i + 1 not in found and steers_the_reader(f"{sentences[i]} {sentences[i + 1]}"):
            found |= {i, i + 1}
    return found
