"""Request and response bodies of the HTTP API; never shared with tables or domain classes."""
