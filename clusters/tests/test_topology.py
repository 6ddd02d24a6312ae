import xml.etree.ElementTree as ET

import pytest

from clusters.topology import DefinitionError, RoleShape, launch_levels, problems, svg

CONDOR = [
    RoleShape("worker", 20, ["master"], "large", {"master"}),
    RoleShape("master", 1, [], "medium"),
    RoleShape("submit", 1, ["master"], "small"),
]


def test_roles_launch_in_dependency_order():
    assert launch_levels(CONDOR) == [["master"], ["submit", "worker"]]


def test_a_three_level_chain():
    roles = [RoleShape("c", depends_on=["b"]), RoleShape("b", depends_on=["a"]), RoleShape("a")]
    assert launch_levels(roles) == [["a"], ["b"], ["c"]]


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ([RoleShape("a", depends_on=["b"]), RoleShape("b", depends_on=["a"])], "circle: a → b → a"),
        ([RoleShape("a", depends_on=["ghost"])], "depends on 'ghost', which is not a role"),
        ([RoleShape("a", depends_on=["a"])], "depends on itself"),
        ([RoleShape("a"), RoleShape("a")], "defined twice"),
        ([RoleShape("Master")], "use lower-case letters"),
        ([RoleShape("worker", needs_roles={"master"})], "its profile uses roles.master, which is not a role"),
        ([], "at least one role"),
    ],
)
def test_bad_definitions_are_explained(roles, message):
    found = problems(roles)
    assert any(message in p for p in found), found
    with pytest.raises(DefinitionError):
        launch_levels(roles)


def test_the_picture_has_a_box_per_role_and_an_arrow_per_dependency():
    picture = ET.fromstring(svg(CONDOR))
    ns = {"s": "http://www.w3.org/2000/svg"}
    boxes = {g.get("data-role") for g in picture.findall("s:g", ns)}
    arrows = {(line.get("data-from"), line.get("data-to")) for line in picture.findall("s:line", ns)}
    assert boxes == {"master", "worker", "submit"}
    assert arrows == {("worker", "master"), ("submit", "master")}
    assert "worker × 20" in svg(CONDOR) and "large" in svg(CONDOR)


def test_the_picture_escapes_labels():
    assert "<script>" not in svg([RoleShape("a", label="<script>")])
