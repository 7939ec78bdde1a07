"""Briefings: claims, fact groups, discrepancies, section titles, writer, faithfulness, markdown."""
