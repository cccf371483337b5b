"""Alerts for operators: what Potok could not settle by itself."""

from potok.domain.alerts.model import (
    Alert,
    AlertAlreadyAcknowledged,
    AlertKind,
    AlertNotFound,
    AlertState,
)

__all__ = ["Alert", "AlertAlreadyAcknowledged", "AlertKind", "AlertNotFound", "AlertState"]
