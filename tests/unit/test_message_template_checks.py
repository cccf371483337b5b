"""The check an administrator's template passes before it is stored: syntax errors and
unknown variables named by line and column, the sandbox holding, the parts a medium
needs, and the HTML part escaping what a customer typed."""

from __future__ import annotations

from potok.domain.notifications import Language, Topic
from potok.domain.notifications.templates import Medium, TemplateFault
from potok.renderers.message_templates import SAMPLE, default_source, render, render_short
from potok.renderers.template_checks import check_template

CHILD = (
    '{% extends "en/_base.j2" %}\n'
    "{% block subject %}Parcel {{ order_id }}{% endblock %}\n"
    "{% block body %}Hi again, {{ first_name }}.{% endblock %}\n"
    "{% block html_body %}<p>Hi again, <b>{{ first_name }}</b>.</p>{% endblock %}\n"
)


def test_every_shipped_template_passes_the_check() -> None:
    for medium in Medium:
        for topic in Topic:
            for language in Language:
                source = default_source(topic, language, medium)
                assert check_template(source, medium) == [], (medium, topic, language)


def test_a_syntax_error_names_its_line_and_the_tag_there() -> None:
    assert check_template("Hello\n  {{ order_id }\n", Medium.SMS) == [
        TemplateFault(2, 3, "unexpected '}'", "syntax")
    ]
    (unclosed,) = check_template("Hi\n{% if order_id %}\nthere", Medium.SMS)
    assert (unclosed.line, unclosed.code) == (3, "syntax")
    assert "endif" in unclosed.problem
    (no_filter,) = check_template("Hi\n\n{{ first_name|shout }}", Medium.SMS)
    assert (no_filter.line, no_filter.column, no_filter.code) == (3, 1, "syntax")


def test_unknown_variables_are_named_each_with_line_and_column() -> None:
    faults = check_template(
        "Order {{ order_id }}\n  for {{ frist_name }} {% if vip %}!{% endif %}", Medium.SMS
    )
    assert [(f.line, f.column, f.code) for f in faults] == [
        (2, 10, "unknown-variable"),
        (2, 30, "unknown-variable"),
    ]
    assert faults[0].problem.startswith("unknown variable 'frist_name'; a message has carrier")
    # names the template sets itself are not unknown
    assert check_template("{% set n = order_id %}{{ n }}", Medium.SMS) == []


def test_the_sandbox_refuses_reaching_outside_the_values_given() -> None:
    (unsafe,) = check_template("Hi\n{{ order_id.__class__.__mro__ }}", Medium.SMS)
    assert (unsafe.line, unsafe.code) == (2, "unsafe")
    (too_big,) = check_template("{{ range(10**7)|list }}", Medium.SMS)
    assert too_big.code == "render"
    (elsewhere,) = check_template('{% include "/etc/passwd" %}', Medium.SMS)
    assert elsewhere.code == "render"
    assert "/work" not in elsewhere.problem
    assert "messages" not in elsewhere.problem


def test_an_email_needs_its_three_parts_and_a_subject() -> None:
    (flat,) = check_template("Hi {{ first_name }}", Medium.EMAIL)
    assert flat.code == "parts"
    (no_subject,) = check_template('{% extends "en/_base.j2" %}', Medium.EMAIL)
    assert (no_subject.code, no_subject.problem) == ("parts", "the subject is empty")
    assert check_template(CHILD, Medium.EMAIL) == []
    (split,) = check_template("a ---8<--- b", Medium.SMS)
    assert split.code == "parts"


def test_a_stored_template_renders_the_html_part_escaped() -> None:
    context = {**SAMPLE, "first_name": "<script>x</script>"}
    subject, text, html = render(Topic.ORDER_SHIPPED, Language.EN, context, source=CHILD)
    assert subject == "Parcel 1042"
    assert "Hi again, <script>x</script>." in text  # plain text is not HTML
    assert "<b>&lt;script&gt;x&lt;/script&gt;</b>" in html
    assert "<script>" not in html


def test_a_stored_template_failing_for_one_order_gives_way_to_the_shipped_one() -> None:
    broken = "{{ 100 // total }}"  # passes with the sample's text, not with a zero
    context = {**SAMPLE, "total": 0}
    assert render_short(Topic.ORDER_ACCEPTED, Language.EN, context, source=broken) == (
        "Potok: order 1042 is accepted, 0 RUB. https://shop.example/track/sample"
    )
