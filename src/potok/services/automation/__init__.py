"""Automation rules: written and versioned (``rules.py``), run on order events after
commit (``running.py``), tried without effect (``dry_run.py``)."""
