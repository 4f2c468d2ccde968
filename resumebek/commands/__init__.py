"""One module per CLI command: `add_arguments(parser)` and `run(args) -> int`.
Heavy imports stay inside `run`, so `resumebek --help` is fast."""
