"""Answering a question: condense, context, answerability gate, sentence selection, citations, answerer, render."""
