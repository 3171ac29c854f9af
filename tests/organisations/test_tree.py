"""The organisation tree: materialised paths, depth, subtrees (organisations/models.py, services.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from xinfang.audit.models import AuditEvent
from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.models import PATH_STEP, Organisation
from xinfang.organisations.services import create_organisation, update_organisation


def test_root_gets_its_own_path_and_depth_zero(db):
    """A root's path is its zero-padded id followed by "/"; its depth is 0."""
    root = create_organisation(
        name=" 东海省 ", kind=OrganisationKind.GOVERNMENT, level=Level.PROVINCE, code=" 880000 "
    )
    root.refresh_from_db()
    assert root.path == f"{root.pk:0{PATH_STEP}d}/"
    assert root.depth == 0
    assert root.parent is None
    assert (root.name, root.code) == ("东海省", "880000")  # trimmed


def test_children_extend_the_parent_path(world):
    """Each level appends its own zero-padded id to the parent's path and is one deeper."""
    # given the county government under the city under the province
    gov = world.a.government
    town = world.a.township

    # when a village is added under the township
    village = create_organisation(
        name="幸福村", kind=OrganisationKind.GOVERNMENT, level=Level.VILLAGE, parent=town
    )

    # then the paths nest and the depths count the levels
    assert world.province.path.count("/") == 1
    assert world.city.path == world.province.path + f"{world.city.pk:08d}/"
    assert gov.path == world.city.path + f"{gov.pk:08d}/"
    assert town.path == gov.path + f"{town.pk:08d}/"
    assert village.path == town.path + f"{village.pk:08d}/"
    assert [world.province.depth, world.city.depth, gov.depth, town.depth, village.depth] == [0, 1, 2, 3, 4]


def test_creation_is_audited(world):
    """Creating an organisation writes an audit event naming it and its parent."""
    dept = create_organisation(
        name="甲县水利局",
        kind=OrganisationKind.DEPARTMENT,
        level=Level.COUNTY,
        parent=world.a.government,
        actor=world.sysadmin,
    )
    event = AuditEvent.objects.get(action="organisation.create", object_id=str(dept.pk))
    assert event.actor == world.sysadmin
    assert event.data == {"parent": world.a.government.pk}


def test_subtree_is_the_organisation_and_everything_below(world):
    """``subtree`` returns the organisation and all its descendants, and nothing beside them."""
    a, b = world.a, world.b
    assert set(Organisation.objects.subtree(a.government)) == {
        a.government,
        a.office,
        a.department,
        a.township,
    }
    assert set(Organisation.objects.subtree(a.township)) == {a.township}
    city_tree = set(Organisation.objects.subtree(world.city))
    assert {
        a.government,
        b.government,
        a.township,
        b.department,
        world.city_supervisor.organisation,
    } <= city_tree
    assert world.province not in city_tree


def test_subtree_does_not_match_a_sibling_whose_id_shares_a_prefix(world):
    """Paths are fixed-width with a separator, so organisation 1 is not a prefix of organisation 10."""
    # given many siblings, so that ids of different lengths exist under one parent
    siblings = [
        create_organisation(
            name=f"部门{i}", kind=OrganisationKind.DEPARTMENT, level=Level.COUNTY, parent=world.a.government
        )
        for i in range(12)
    ]
    # then each sibling's subtree is itself only
    for sibling in siblings:
        assert list(Organisation.objects.subtree(sibling)) == [sibling]


def test_is_within_and_ancestors(world):
    """``is_within`` follows the tree; ``ancestors`` lists the line from the root down, itself included."""
    town = world.a.township
    assert town.is_within(world.a.government)
    assert town.is_within(world.province)
    assert town.is_within(town)
    assert not town.is_within(world.b.government)
    assert not world.a.government.is_within(town)
    assert list(town.ancestors()) == [world.province, world.city, world.a.government, town]


def test_same_name_under_one_parent_is_refused(world):
    """Two organisations of one parent cannot share a name; under another parent they can."""
    with pytest.raises(ValidationError) as refused:
        create_organisation(
            name="甲县人社局", kind=OrganisationKind.DEPARTMENT, level=Level.COUNTY, parent=world.a.government
        )
    assert "同一上级下已有同名机构。" in refused.value.messages
    # the same name under county B is fine
    create_organisation(
        name="甲县人社局", kind=OrganisationKind.DEPARTMENT, level=Level.COUNTY, parent=world.b.government
    )


@pytest.mark.parametrize(
    ("kind", "level", "field"),
    [("ministry", Level.COUNTY, "kind"), (OrganisationKind.DEPARTMENT, "district", "level")],
)
def test_unknown_kind_or_level_is_refused(world, kind, level, field):
    """Kind and level must be among the choices; nothing is created otherwise."""
    before = Organisation.objects.count()
    with pytest.raises(ValidationError) as refused:
        create_organisation(name="某机构", kind=kind, level=level, parent=world.a.government)
    assert field in refused.value.message_dict
    assert Organisation.objects.count() == before


def test_update_renames_and_audits_but_never_moves(world):
    """Renaming is audited with before and after; moving in the tree is not offered."""
    dept = update_organisation(org=world.a.department, actor=world.sysadmin, name="甲县人力资源和社会保障局")
    dept.refresh_from_db()
    assert dept.name == "甲县人力资源和社会保障局"
    event = AuditEvent.objects.get(action="organisation.change")
    assert event.data == {"before": {"name": "甲县人社局"}, "after": {"name": "甲县人力资源和社会保障局"}}
    with pytest.raises(ValueError):
        update_organisation(org=dept, actor=world.sysadmin, parent=world.b.government)
