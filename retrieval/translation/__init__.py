"""Translations drafted by the language model, scored, and handed to review as a draft version."""
