"""Cryptography Potok relies on: password hashing, tokens, personal-data encryption."""
