"""Pure Python domain: entities, state machines, rules and errors; no framework imports."""
