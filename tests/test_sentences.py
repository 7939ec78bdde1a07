from rag.text.sentences import split_sentences


def texts(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_splits_on_terminal_punctuation_and_keeps_offsets():
    text = "First one here. Second “quoted.” Third?\nHeadline line\nLast."
    assert texts(text) == ["First one here.", "Second “quoted.”", "Third?", "Headline line", "Last."]


def test_does_not_split_after_abbreviations_or_initials():
    text = "Former U.S. President Donald Trump spoke. Mr. Zelensky and Vladimir V. Putin replied."
    assert texts(text) == ["Former U.S. President Donald Trump spoke.", "Mr. Zelensky and Vladimir V. Putin replied."]


def test_lowercase_after_period_is_not_a_boundary():
    assert texts("The U.S could help. Yes.") == ["The U.S could help.", "Yes."]
