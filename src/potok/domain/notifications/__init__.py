"""Customer notifications: topics, messages and their outcomes."""

from potok.domain.notifications.model import (
    EVENT_TOPICS,
    RULE_NOTICE,
    Language,
    Medium,
    Message,
    Outcome,
    Topic,
    topic_for,
)

__all__ = [
    "EVENT_TOPICS",
    "RULE_NOTICE",
    "Language",
    "Medium",
    "Message",
    "Outcome",
    "Topic",
    "topic_for",
]
