import pytest

from contexts.templating import VariableError, evaluate, parse_variables, preview_variables


def test_dotted_vars_become_nested_variables():
    variables = parse_variables(["cluster.name=demo", "instance.index=3", "roles.master.address=10.0.0.5"])
    assert variables["cluster"] == {"name": "demo"}
    assert variables["instance"] == {"index": 3}
    assert variables["roles"]["master"] == {"address": "10.0.0.5", "addresses": ["10.0.0.5"]}


def test_role_addresses_take_a_comma_separated_list_and_fill_in_address():
    variables = parse_variables(["roles.worker.addresses=10.0.0.6, 10.0.0.7"])
    assert variables["roles"]["worker"] == {"addresses": ["10.0.0.6", "10.0.0.7"], "address": "10.0.0.6"}


@pytest.mark.parametrize("pair", ["novalue", "=x", "a..b=1", "cluster=x"])
def test_malformed_vars_are_refused(pair):
    with pytest.raises(VariableError):
        parse_variables(["cluster.name=demo", pair] if pair == "cluster=x" else [pair])


def test_evaluate_keeps_trailing_newlines_of_file_content():
    assert evaluate("name={{ cluster.name }}\n", {"cluster": {"name": "x"}}) == "name=x\n"


def test_preview_variables_name_every_role_the_document_uses():
    document = {"schema": 1, "hostname": "{{ roles.master.address }}",
                "services": {"mpi": {"roles": ["worker"]}}}  # fmt: skip
    dotted = preview_variables(document, "http://portal")
    assert "roles.master.addresses" in dotted and "roles.worker.addresses" in dotted
    variables = parse_variables(dotted)
    assert evaluate(document["hostname"], variables) == variables["roles"]["master"]["address"]
