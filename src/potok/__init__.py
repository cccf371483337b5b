"""Potok: an order management system for retailers who sell everywhere."""

__version__ = "0.1.0"
