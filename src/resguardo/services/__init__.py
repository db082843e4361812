"""Use cases: load, ask the domain, append events, all in the caller's unit of work."""
