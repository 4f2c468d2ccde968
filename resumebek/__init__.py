"""Resumebek: a Telegram bot that reviews resumes for students in Kazakhstan (kk/ru/en)."""

__version__ = "0.1.0"
