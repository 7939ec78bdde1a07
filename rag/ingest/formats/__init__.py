"""Readers of article formats: each turns the bytes of one file or fetched page into articles."""
