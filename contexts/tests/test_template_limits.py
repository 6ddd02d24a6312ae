"""Templates cannot cost the portal memory or time: expansions are refused before they are
computed, loops and work are budgeted, output is capped, and only harmless filters and methods
are there. Each refusal is a plain validation message at save time and a RenderError at launch."""

import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexts.render import RenderError, render
from contexts.sandbox import MAX_SECONDS
from contexts.templating import (
    TemplateProblem,
    check_templates,
    evaluate,
    parse_variables,
    sample_variables,
)

EXPANSIONS = {
    "text times a billion": "{{ 'a' * 10**9 }}",
    "a billion times text": "{{ 10**9 * 'a' }}",
    "a list times a billion": "{{ [1, 2] * 10**9 }}",
    "a list of big texts": "{{ ['a' * 200000] * 200000 }}",
    "a huge power": "{{ 7 ** (10 ** 7) > 1 }}",
    "a huge product of numbers": "{% set n = 2 ** 4000 %}{{ n * n * n * n > 1 }}",
    "a printf width": "{{ '%999999999d' % 1 }}",
    "a printf precision": "{{ '%.999999999f' % 1 }}",
    "a printf star width": "{{ '%*d' % (999999999, 1) }}",
    "many printf widths": "{{ ('%200000s' * 10) % ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j') }}",
    "a printf key repeated": "{{ ('%(a)s' * 1000) % {'a': 'x' * 100000} }}",
    "the format filter": "{{ '%999999999d' | format(1) }}",
    "text plus text": "{% set a = 'a' * 200000 %}{{ a + a }}",
    "concatenation": "{% set a = 'a' * 200000 %}{{ a ~ a }}",
    "nested concatenation": (
        "{% set a = 'aaaaaaaaaa' %}{% set b = a~a~a~a~a~a~a~a~a~a %}{% set c = b~b~b~b~b~b~b~b~b~b %}"
        "{% set d = c~c~c~c~c~c~c~c~c~c %}{% set e = d~d~d~d~d~d~d~d~d~d %}"
        "{% set f = e~e~e~e~e~e~e~e~e~e %}{% set g = f~f~f~f~f~f~f~f~f~f %}{{ g ~ g }}"
    ),
    "center": "{{ 'a' | center(10**9) }}",
    "indent": "{{ 'a\nb' | indent(10**9) }}",
    "replace": "{{ ('a' * 1000) | replace('a', 'b' * 100000) }}",
    "replace the empty text": "{{ ('a' * 1000) | replace('', 'b' * 1000) }}",
    "join": "{{ range(100000) | join('x' * 1000) }}",
    "wordwrap": "{{ ('a ' * 1000) | wordwrap(1, wrapstring='x' * 100000) }}",
    "the replace method": "{{ ('a' * 1000).replace('a', 'b' * 100000) }}",
    "the join method": "{{ ('x' * 100000).join(['a', 'b', 'c', 'd']) }}",
    "a huge range": "{{ range(10**9) | list }}",
    "nested loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "a loop's output": "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
    "a loop over a filter of many items": "{% for i in range(100000) %}{{ range(100000) | max }}{% endfor %}",
    "a loop over a method of a big text": (
        "{% set big = 'x' * 200000 %}{% for i in range(100000) %}{{ big.count('y') }}{% endfor %}"
    ),
    "a map of big texts": "{{ range(100000) | map('string') | map('center', 200000) | list | length }}",
    "a slice into a billion parts": "{{ [1] | slice(10**9) | list | length }}",
}

REFUSED = {
    "a macro": "{% macro m(n) %}{{ m(n) }}{{ m(n) }}{% endmacro %}{{ m(1) }}",
    "a call block": "{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}x{% endcall %}",
    "include": "{% include 'x' %}",
    "import": "{% import 'x' as y %}",
    "extends": "{% extends 'x' %}",
    "a set block": "{% set x %}{{ 'a' }}{% endset %}{{ x }}",
    "a filter block": "{% filter upper %}a{% endfilter %}",
    "a recursive loop": "{% for a in [[1]] recursive %}{{ loop(a) }}{% endfor %}",
    "a namespace": "{% set ns = namespace(a=1) %}{{ ns.a }}",
    "random": "{{ [1, 2] | random }}",
    "lipsum": "{{ lipsum(1000) }}",
    "str.format": "{{ '{:999999999}'.format(1) }}",
    "str.format_map": "{{ '{a}'.format_map({'a': 1}) }}",
    "str.ljust": "{{ 'a'.ljust(10**9) }}",
    "str.zfill": "{{ 'a'.zfill(10**9) }}",
    "a method reference": "{{ 'a'.ljust }}",
    "cycler": "{{ cycler(1, 2).next() }}",
}

REAL_TEMPLATES = {
    "{{ cluster.name }}-{{ role.name }}-{{ instance.index }}": "demo-node-0",
    "{{ roles.worker.addresses | join(',') }}": "192.0.2.10,192.0.2.11",
    "{% for a in roles.worker.addresses %}{{ a }} {% endfor %}": "192.0.2.10 192.0.2.11 ",
    "{% if instance.index == 0 %}first{% else %}other{% endif %}": "first",
    "{{ instance.index + 1 }}": "1",
    "{{ '%02d' % instance.index }}": "00",
    "{{ '%s-%s' % (cluster.name, instance.index) }}": "demo-0",
    "{{ cluster.name | upper }}": "DEMO",
    "{{ cluster.nickname | default('y') }}": "y",
    "{{ cluster.name.upper() }}": "DEMO",
    "{{ cluster.name ~ '-' ~ role.name }}": "demo-node",
    "{{ cluster.name.replace('e', 'E').split('m') | join('/') }}": "dE/o",
    "{{ roles.worker.get('address') }}": "192.0.2.10",
    "{% for k, v in cluster.items() | sort %}{{ k }} {% endfor %}": "id name secret ",
    "{% for i in range(3) %}{{ loop.index }}{{ loop.cycle('a', 'b') }}{% endfor %}": "1a2b3a",
    "{{ roles.worker.addresses | map('upper') | select('string') | list | length }}": "2",
    "{{ 'x' * 3 }}{{ [1] * 2 }}{{ 2 ** 10 }}{{ 7 % 3 }}": "xxx[1, 1]10241",
    "{% set n = instance.index * 2 %}{{ n }}": "0",
    "{{ 'a\nb' | indent(2, first=True) }}": "  a\n  b",
    "{{ 'abc' | center(7) }}": "  abc  ",
    "{{ ['b', 'a'] | sort | join(' ') | title }}": "A B",
    "${#array[@]} {{ cluster.name }}": "${#array[@]} demo",
}


def peak_memory(function) -> int:
    tracemalloc.start()
    try:
        function()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("source", EXPANSIONS.values(), ids=EXPANSIONS.keys())
def test_an_expansion_is_a_validation_error_found_fast_without_allocating(source):
    document = {"schema": 1, "env": {"X": source}}
    started = time.process_time()  # CPU time: a busy machine does not inflate it
    problems = check_templates(document)
    assert time.process_time() - started < 1
    assert len(problems) == 1
    assert problems[0].startswith("env.X: ")
    assert "limit" in problems[0]
    assert peak_memory(lambda: check_templates(document)) < 20 * 1024 * 1024


@pytest.mark.parametrize("source", REFUSED.values(), ids=REFUSED.keys())
def test_what_profile_templates_do_not_need_is_refused(source):
    with pytest.raises(TemplateProblem) as caught:
        evaluate(source, sample_variables(), "env.X")
    assert "not available in templates" in caught.value.message


@pytest.mark.parametrize(("source", "expected"), REAL_TEMPLATES.items())
def test_what_real_profiles_use_still_works(source, expected):
    assert evaluate(source, sample_variables()) == expected


def test_the_messages_say_what_was_refused():
    def message(source):
        with pytest.raises(TemplateProblem) as caught:
            evaluate(source, sample_variables())
        return caught.value.message

    assert (
        message("{{ 'a' * 10**9 }}") == "the result would be 1,000,000,000 characters; the limit is 262,144"
    )
    assert message("{{ [1] | random }}") == "the filter 'random' is not available in templates"
    assert message("{{ 'a'.ljust(3) }}") == "the method str.ljust is not available in templates"
    assert message("{% macro m() %}{% endmacro %}") == "{% macro %} is not available in templates"
    assert message("{{ [[1], [2]] | sum(start=[]) }}") == "the filter 'sum' adds numbers only"
    assert message("{{ 2 ** 5000 }}") == "the number would be over the limit of 4,096 bits"
    assert message("{% for i in range(100000) %}{% for j in range(3) %}{% endfor %}{% endfor %}") == (
        "the templates run over the limit of 100,000 loop iterations"
    )
    assert message("{% for i in range(100000) %}xxxxxxxxxxxx{% endfor %}") == (
        "the output would be over the limit of 262,144 characters"
    )


def test_a_loop_whose_body_costs_time_is_stopped_after_a_second():
    slicing = "{% set big = 'x' * 200000 %}{% for i in range(100000) %}{% set y = big[::-1] %}{% endfor %}"
    started = time.process_time()  # CPU time: a busy machine does not inflate it
    with pytest.raises(TemplateProblem) as caught:
        evaluate(slicing, sample_variables())
    assert time.process_time() - started < 2
    assert caught.value.message == "the templates take over the limit of 1 second to evaluate"


def test_a_document_shares_one_budget_and_stops_at_the_first_overrun():
    heavy = "{% for i in range(90000) %}{% endfor %}"
    document = {"schema": 1, "env": {f"X{i}": heavy + f"{i}" for i in range(200)}}
    started = time.process_time()  # CPU time: a busy machine does not inflate it
    problems = check_templates(document)
    assert time.process_time() - started < 2
    assert len(problems) == 1
    assert problems == ["env.X1: the templates run over the limit of 100,000 loop iterations"]


def test_each_value_is_checked_on_its_own_budget_when_evaluated_alone():
    heavy = "{% for i in range(90000) %}{% endfor %}done"
    assert evaluate(heavy, sample_variables()) == "done"
    assert evaluate(heavy, sample_variables()) == "done"


def test_a_limit_met_at_launch_is_a_render_error():
    document = {"schema": 1, "env": {"HOSTS": "{{ roles.worker.addresses | join(',') * 1000 }}"}}
    assert check_templates(document) == []
    variables = parse_variables(
        {"cluster.name": "c", "role.name": "worker", "instance.index": "0",
         "roles.worker.addresses": ",".join(f"10.0.{i // 250}.{i % 250}" for i in range(1000))}
    )  # fmt: skip
    with pytest.raises(RenderError) as caught:
        render(document, variables, "shell", salt_seed=b"x")
    assert "env.HOSTS: the result would be" in str(caught.value)


ATOMS = st.sampled_from(["'ab'", "[1, 2]", "3", "1000", "10**6", "'%5d'", "'x' * 1000", "range(50)"])
OPERATORS = st.sampled_from([" * ", " + ", " ** ", " % ", " ~ "])
FILTERS = st.sampled_from(
    ["", "|center(100000)", "|join('--')", "|replace('a', 'aaaa')", "|list", "|indent(1000)", "|string"]
)


@st.composite
def expressions(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        return draw(ATOMS)
    left, right = draw(expressions(depth - 1)), draw(expressions(depth - 1))
    return f"({left}{draw(OPERATORS)}{right}){draw(FILTERS)}"


@settings(max_examples=200, deadline=None)
@given(expressions())
def test_any_expression_evaluates_within_the_limits_or_is_refused(expression):
    started = time.process_time()  # CPU time: a busy machine does not inflate it
    try:
        output = evaluate("{{ " + expression + " }}", sample_variables())
    except TemplateProblem:
        pass
    else:
        assert len(output) <= 262_144
    # Its evaluation stops at MAX_SECONDS (1 s) at the latest, as the loop tests above allow for.
    assert time.process_time() - started < 2 * MAX_SECONDS
