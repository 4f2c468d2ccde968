"""Pure functions: detection, language, contacts, rule-based review, rendering, texts, stats.
Nothing here does I/O."""
