from xinfang.petitions.models import Petition

from ..factories import register


def test_register_and_scope(world):
    # given a petition registered by county A's office
    reg = register(world.a.office, world.intake_a, world.a.township)
    # then county A sees it and county B does not
    assert reg.petition.number.startswith("XF-990101-")
    assert Petition.objects.restrict(world.intake_a).filter(pk=reg.petition.pk).exists()
    assert not Petition.objects.restrict(world.handler_b).filter(pk=reg.petition.pk).exists()
    assert Petition.objects.restrict(world.city_supervisor).count() == 1
    assert Petition.objects.restrict(world.sysadmin).count() == 0
