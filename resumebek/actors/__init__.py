"""One module per actor; each exposes `run(...)`, started by the supervisor."""
