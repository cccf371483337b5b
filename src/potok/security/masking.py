"""Personal data shown to those who may not see it: enough to recognise, not to use."""

from __future__ import annotations

MASK = "***"


def mask_name(name: str | None) -> str | None:
    """'Анна Смирнова' -> 'А*** С***'."""
    if not name:
        return name
    return " ".join(word[0] + MASK for word in name.split() if word)


def mask_phone(phone: str | None) -> str | None:
    """'+79161234567' -> '+7916*****67': the country and operator codes and the last two."""
    if not phone:
        return phone
    keep_head, keep_tail = min(5, max(1, len(phone) - 4)), 2
    hidden = len(phone) - keep_head - keep_tail
    if hidden <= 0:
        return MASK
    return phone[:keep_head] + "*" * hidden + phone[-keep_tail:]


def mask_email(email: str | None) -> str | None:
    """'anna@example.ru' -> 'a***@example.ru'."""
    if not email:
        return email
    local, at, domain = email.partition("@")
    if not at:
        return MASK
    return (local[:1] + MASK) + "@" + domain


def mask_text(text: str | None) -> str | None:
    """Free text that may identify someone (an address line): hidden entirely."""
    if not text:
        return text
    return MASK
