"""Background work: timed jobs such as the expiry of unpaid orders and of timed holds."""
