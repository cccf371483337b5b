"""Simulators of outside systems as real local HTTP servers speaking their published formats."""
