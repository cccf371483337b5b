"""Message templates an administrator may change: each (topic, language, medium) has the
shipped default and, over it, any number of stored versions (the newest in force; one
with no source goes back to the default). A template is checked before it is stored: a
fault names the line and column to fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from potok.domain.errors import Rejected
from potok.domain.notifications.model import Medium

__all__ = ["MAX_SOURCE", "Medium", "TemplateFault", "TemplateRefused", "TemplateVersion"]

MAX_SOURCE = 20_000  # characters of one template


@dataclass(frozen=True, slots=True)
class TemplateFault:
    """One thing wrong with a template: where (1-based line and column) and what."""

    line: int
    column: int
    problem: str
    code: str  # syntax, unknown-variable, unsafe, render, parts

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "column": self.column,
            "problem": self.problem,
            "code": self.code,
        }


@dataclass(frozen=True, slots=True)
class TemplateVersion:
    """One stored version of a template; ``source`` None: back to the shipped default."""

    topic: str
    language: str
    medium: str
    version: int
    source: str | None
    created_at: datetime
    created_by: str

    @property
    def name(self) -> str:
        return f"{self.medium}/{self.language}/{self.topic}"


class TemplateRefused(Rejected):
    """A template that would not render for customers is not stored."""

    code = "template-refused"
    title = "The template is refused"
    template = "{name}: line {line}, column {column}: {problem}"
