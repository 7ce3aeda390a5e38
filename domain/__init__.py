"""Pure domain logic: no I/O, safe to import from workflows (deterministic) and activities alike."""
