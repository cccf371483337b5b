"""Administrators' message templates: the one in force for a topic, language and medium
(the newest stored version, else the shipped default), saving a new version after its
check against the sample order, previews of a draft, and the history of changes."""

from __future__ import annotations

from dataclasses import dataclass

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.notifications import Language, Topic
from potok.domain.notifications.templates import (
    MAX_SOURCE,
    Medium,
    TemplateRefused,
    TemplateVersion,
)
from potok.renderers.message_templates import (
    SAMPLE,
    default_source,
    render,
    render_short,
)
from potok.renderers.template_checks import check_template
from potok.services.unit_of_work import UnitOfWork, atomically, reading


@dataclass(frozen=True, slots=True)
class TemplateInForce:
    """What a topic, language and medium sends with now."""

    topic: Topic
    language: Language
    medium: Medium
    source: str
    stored: TemplateVersion | None  # None: the shipped default

    @property
    def overridden(self) -> bool:
        return self.stored is not None and self.stored.source is not None


@dataclass(frozen=True, slots=True)
class Preview:
    subject: str
    text: str
    html: str


def parse_key(topic: str, language: str, medium: str = "email") -> tuple[Topic, Language, Medium]:
    """The template's key, or what to fix."""
    errors = []
    if topic not in {t.value for t in Topic}:
        errors.append(
            FieldError("topic", "one of " + ", ".join(t.value for t in Topic), "unknown-topic")
        )
    if language not in {v.value for v in Language}:
        errors.append(FieldError("language", "ru or en", "unknown-language"))
    if medium not in {m.value for m in Medium}:
        errors.append(FieldError("medium", "email or sms", "unknown-medium"))
    if errors:
        raise InvalidInput(errors)
    return Topic(topic), Language(language), Medium(medium)


def _in_force(uow: UnitOfWork, topic: Topic, language: Language, medium: Medium) -> TemplateInForce:
    stored = uow.notification_templates.current(topic.value, language.value, medium.value)
    source = (
        stored.source
        if stored is not None and stored.source is not None
        else default_source(topic, language, medium)
    )
    return TemplateInForce(topic, language, medium, source, stored)


def stored_source(uow: UnitOfWork, topic: Topic, language: Language, medium: Medium) -> str | None:
    """The administrator's template in force (None: the shipped one), inside the caller's
    transaction."""
    stored = uow.notification_templates.current(topic.value, language.value, medium.value)
    return stored.source if stored is not None else None


def template_in_force(
    uow: UnitOfWork, topic: Topic, language: Language, medium: Medium = Medium.EMAIL
) -> TemplateInForce:
    return reading(uow, lambda uow: _in_force(uow, topic, language, medium))


def list_templates(uow: UnitOfWork) -> list[TemplateInForce]:
    """Every topic, language and medium with the template it sends with."""

    def work(uow: UnitOfWork) -> list[TemplateInForce]:
        stored = {
            (v.topic, v.language, v.medium): v for v in uow.notification_templates.all_current()
        }
        found = []
        for medium in Medium:
            for topic in Topic:
                for language in Language:
                    version = stored.get((topic.value, language.value, medium.value))
                    source = (
                        version.source
                        if version is not None and version.source is not None
                        else default_source(topic, language, medium)
                    )
                    found.append(TemplateInForce(topic, language, medium, source, version))
        return found

    return reading(uow, work)


def check(topic: Topic, language: Language, medium: Medium, source: str) -> None:
    """Refuse a template that would not render for customers, naming the first fault's
    line and column (every fault is listed)."""
    if len(source) > MAX_SOURCE:
        raise InvalidInput([FieldError("source", f"at most {MAX_SOURCE} characters", "too-long")])
    faults = check_template(source, medium)
    if faults:
        first = faults[0]
        raise TemplateRefused(
            name=f"{medium.value}/{language.value}/{topic.value}",
            line=first.line,
            column=first.column,
            problem=first.problem,
            faults=[f.as_dict() for f in faults],
        )


def save_template(
    uow: UnitOfWork,
    topic: Topic,
    language: Language,
    medium: Medium,
    source: str | None,
    actor: Actor,
    *,
    clock: Clock = utc_now,
) -> TemplateInForce:
    """Store a new version (``source`` None: back to the shipped default) once it passes
    its check; the older versions stay in the history."""
    if source is not None:
        check(topic, language, medium, source)

    def work(uow: UnitOfWork) -> TemplateInForce:
        before = uow.notification_templates.current(topic.value, language.value, medium.value)
        uow.notification_templates.add(
            TemplateVersion(
                topic=topic.value,
                language=language.value,
                medium=medium.value,
                version=(before.version if before else 0) + 1,
                source=source,
                created_at=clock(),
                created_by=str(actor),
            )
        )
        return _in_force(uow, topic, language, medium)

    return atomically(uow, work)


def template_history(
    uow: UnitOfWork, topic: Topic, language: Language, medium: Medium
) -> list[TemplateVersion]:
    """Every stored version, newest first (none: the shipped default was never changed)."""
    return reading(
        uow,
        lambda uow: uow.notification_templates.history(topic.value, language.value, medium.value),
    )


def preview_source(topic: Topic, language: Language, medium: Medium, source: str) -> Preview:
    """A draft rendered against the sample order, after the same check a save makes."""
    check(topic, language, medium, source)
    return _render(topic, language, medium, source)


def preview_in_force(
    uow: UnitOfWork, topic: Topic, language: Language, medium: Medium = Medium.EMAIL
) -> Preview:
    """The template in force rendered against the sample order."""
    found = template_in_force(uow, topic, language, medium)
    return _render(topic, language, medium, found.source if found.overridden else None)


def _render(topic: Topic, language: Language, medium: Medium, source: str | None) -> Preview:
    if medium is Medium.SMS:
        return Preview("", render_short(topic, language, SAMPLE, source=source) + "\n", "")
    return Preview(*render(topic, language, SAMPLE, source=source))
