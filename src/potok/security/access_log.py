"""Logs without customers' phones and e-mails.

The access log prints query strings, and a search for a customer puts their phone or
e-mail there (``GET /api/v1/orders?q=%2B79161234567``). :class:`PersonalDataFilter`
masks phone-like runs of 7 or more digits (separators and URL escapes allowed between
them) and e-mail addresses (``@`` or ``%40``) in every line of the logger it guards.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
MASK = "***"

_EMAIL = re.compile(r"[\w.+%-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_SEPARATOR = r"(?:[ ()+-]|%20|%2B|%28|%29)"
_PHONE = re.compile(rf"(?:\+|%2B)?\d(?:{_SEPARATOR}*\d){{6,}}", re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    return text if _DATE.fullmatch(text) else MASK  # a date in a filter is not a phone


def mask_personal_data(text: str) -> str:
    """``text`` with e-mail addresses and phone-like digit runs replaced by ``***``."""
    return _PHONE.sub(_phone, _EMAIL.sub(MASK, text))


class PersonalDataFilter(logging.Filter):
    """Masks phones and e-mails in a log record's message and arguments; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_personal_data(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_personal_data(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif isinstance(record.args, dict):
            record.args = {
                key: mask_personal_data(arg) if isinstance(arg, str) else arg
                for key, arg in record.args.items()
            }
        return True


def mask_access_log(logger_name: str = ACCESS_LOGGER) -> None:
    """Install :class:`PersonalDataFilter` on the logger (once, however often called)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, PersonalDataFilter) for f in logger.filters):
        logger.addFilter(PersonalDataFilter())
