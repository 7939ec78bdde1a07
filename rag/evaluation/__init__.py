"""Scoring answers and briefings against gold facts."""
