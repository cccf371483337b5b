"""The check a template passes before it is stored: it parses, uses only the variables a
message has (``SAMPLE``'s), stays inside the sandbox and renders against the sample order
into the parts its medium needs. Each fault names a 1-based line and column."""

from __future__ import annotations

import re
from types import TracebackType

from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError

from potok.domain.notifications.templates import MAX_SOURCE, Medium, TemplateFault
from potok.renderers.message_templates import (
    SAMPLE,
    SEPARATOR,
    compiled,
    environment,
    rendered,
)

KNOWN = frozenset(SAMPLE)
_OPENER = re.compile(r"\{[{%#]")
SHORT_MAX = 1000  # characters of a rendered SMS or messenger text


def _line_text(source: str, line: int) -> str:
    lines = source.splitlines()
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def _opener_column(source: str, line: int) -> int:
    """Where the first Jinja tag of a line starts (Jinja reports lines only)."""
    found = _OPENER.search(_line_text(source, line))
    return found.start() + 1 if found else 1


def _name_column(source: str, line: int, name: str) -> int:
    found = re.search(rf"(?<![\w.]){re.escape(name)}\b", _line_text(source, line))
    return found.start() + 1 if found else _opener_column(source, line)


def _template_line(traceback: TracebackType | None) -> int:
    """The template line a rendering failed on (Jinja maps its frames to lines)."""
    line = 1
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _syntax(source: str, error: TemplateSyntaxError) -> TemplateFault:
    line = error.lineno or 1
    return TemplateFault(line, _opener_column(source, line), error.message or str(error), "syntax")


def check_template(source: str, medium: Medium) -> list[TemplateFault]:
    """What is wrong with ``source`` as a template of ``medium``; empty when it may be
    stored."""
    if not source.strip():
        return [TemplateFault(1, 1, "the template is empty", "parts")]
    if len(source) > MAX_SOURCE:
        return [TemplateFault(1, 1, f"longer than {MAX_SOURCE} characters", "parts")]
    env = environment(html=False, strict=True)
    try:
        tree = env.parse(source)
        unknown = set(meta.find_undeclared_variables(tree)) - KNOWN - set(env.globals)
    except TemplateSyntaxError as error:  # also an unknown filter or test
        return [_syntax(source, error)]
    faults: list[TemplateFault] = []
    for node in tree.find_all(nodes.Name):
        if node.name in unknown:
            unknown.discard(node.name)
            faults.append(
                TemplateFault(
                    node.lineno,
                    _name_column(source, node.lineno, node.name),
                    f"unknown variable '{node.name}'; a message has " + ", ".join(sorted(KNOWN)),
                    "unknown-variable",
                )
            )
    if faults:
        return faults
    parts: list[str] = []
    for html in (False, True) if medium is Medium.EMAIL else (False,):
        try:
            compiled(source, html, True)
            parts.append(rendered(source, "", dict(SAMPLE), html=html, strict=True))
        except TemplateSyntaxError as error:  # an unknown filter or test
            return [_syntax(source, error)]
        except TemplateNotFound as error:
            line = _template_line(error.__traceback__)
            where = _opener_column(source, line)
            return [TemplateFault(line, where, f"no template named '{error.name}'", "render")]
        except SecurityError as error:
            line = _template_line(error.__traceback__)
            return [
                TemplateFault(line, _opener_column(source, line), f"not allowed: {error}", "unsafe")
            ]
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as error:
            line = _template_line(error.__traceback__)
            return [TemplateFault(line, _opener_column(source, line), str(error), "render")]
    return _shape(source, medium, parts)


def _shape(source: str, medium: Medium, parts: list[str]) -> list[TemplateFault]:
    last = max(1, len(source.splitlines()))
    if medium is Medium.SMS:
        text = " ".join(parts[0].split())
        if SEPARATOR in text:
            return [TemplateFault(1, 1, f"an SMS is one text: no {SEPARATOR}", "parts")]
        if not text:
            return [TemplateFault(1, 1, "the message is empty", "parts")]
        if len(text) > SHORT_MAX:
            return [TemplateFault(last, 1, f"longer than {SHORT_MAX} characters", "parts")]
        return []
    pieces = parts[0].split(SEPARATOR)
    if len(pieces) != 3 or len(parts[1].split(SEPARATOR)) != 3:
        return [
            TemplateFault(
                last,
                1,
                f"an e-mail needs a subject, a text and an HTML part separated by {SEPARATOR} "
                f'(found {len(pieces)} parts); or extend "<language>/_base.j2"',
                "parts",
            )
        ]
    if not pieces[0].strip():
        return [TemplateFault(1, 1, "the subject is empty", "parts")]
    return []
