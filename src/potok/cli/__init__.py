"""The command line: administration and bulk work."""
