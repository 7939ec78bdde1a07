"""Text toolkit shared by every stage: sentences, tokens, words."""
