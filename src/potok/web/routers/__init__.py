"""The console's pages, one module per area, as in ``api/routers``."""
