"""Importing organisations from CSV (services.import_organisations_csv): whole file or nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from xinfang.audit.models import AuditEvent
from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.models import Organisation
from xinfang.organisations.services import create_organisation, import_organisations_csv

HEADER = "name,code,kind,level,parent_code,parent_name\n"

VALID = HEADER + (
    # a county under the city, found by the city's code
    "丙县人民政府,990103,government,county,990100,\n"
    # its petition office, whose parent is the row above (by code)
    "丙县信访局,,petition_office,county,990103,\n"
    # a department found by its parent's name
    "丙县教育局,,department,county,,丙县人民政府\n"
    # a township by code, under a county that existed before the import
    "甲县新城街道,990101002,government,township,990101,\n"
)


def import_csv(text: str, actor=None, *, bom: bool = False):
    data = ("\ufeff" + text).encode("utf-8") if bom else text
    return import_organisations_csv(data=data, actor=actor)


@pytest.mark.parametrize("bom", [False, True], ids=["text", "utf8-bom-bytes"])
def test_valid_file_creates_the_tree(world, bom):
    """Every row is created under the parent it names, by code or by name, including rows of the file."""
    # when the file is imported (as text, or as the bytes Excel saves, with a BOM)
    result = import_csv(VALID, world.sysadmin, bom=bom)

    # then four organisations were created, each under its parent, with paths and audit events
    assert (result.created, result.skipped, result.errors) == (4, 0, [])
    county = Organisation.objects.get(name="丙县人民政府")
    office = Organisation.objects.get(name="丙县信访局")
    education = Organisation.objects.get(name="丙县教育局")
    street = Organisation.objects.get(name="甲县新城街道")
    assert county.parent == world.city and county.code == "990103"
    assert office.parent == county and office.kind == OrganisationKind.PETITION_OFFICE
    assert education.parent == county and education.level == Level.COUNTY
    assert street.parent == world.a.government
    for org in (county, office, education, street):
        assert org.path == org.parent.path + f"{org.pk:08d}/"
        assert org.depth == org.parent.depth + 1
    assert AuditEvent.objects.filter(action="organisation.create", actor=world.sysadmin).count() == 4


def test_bad_rows_abort_the_whole_file_with_line_numbers(world):
    """One bad row imports nothing; each error names its line (the header is line 1), in Chinese."""
    # given a file whose rows 3 to 6 are wrong, with a good row before and after them
    before_orgs = Organisation.objects.count()
    before_events = AuditEvent.objects.count()
    text = HEADER + (
        "丙县人民政府,990103,government,county,990100,\n"  # line 2: fine
        "丙县某局,,ministry,county,990103,\n"  # line 3: unknown kind
        "丙县某镇,,government,district,990103,\n"  # line 4: unknown level
        ",,department,county,990103,\n"  # line 5: no name
        "丁县教育局,,department,county,999999,\n"  # line 6: no such parent
        "丙县教育局,,department,county,,丙县人民政府\n"  # line 7: fine
    )

    # when it is imported
    result = import_csv(text, world.sysadmin)

    # then every error is listed by line, nothing is created, and no audit event remains
    assert result.errors == [
        "第3行：未知的机构类型 “ministry”",
        "第4行：未知的层级 “district”",
        "第5行：名称不能为空",
        "第6行：找不到唯一的上级机构（999999）",
    ]
    assert result.created == 0
    assert Organisation.objects.count() == before_orgs
    assert AuditEvent.objects.count() == before_events


def test_ambiguous_parent_name_is_an_error(world):
    """A parent name shared by two organisations is refused rather than guessed."""
    # given two departments named the same in two counties
    for county in (world.a, world.b):
        create_organisation(
            name="教育局", kind=OrganisationKind.DEPARTMENT, level=Level.COUNTY, parent=county.government
        )
    # when a row names that parent by name only
    result = import_csv(HEADER + "某学校,,other,county,,教育局\n")
    # then
    assert result.errors == ["第2行：找不到唯一的上级机构（教育局）"]
    assert not Organisation.objects.filter(name="某学校").exists()


def test_reimport_skips_existing_rows(world):
    """Importing the same file again creates nothing and counts every row as skipped."""
    import_csv(VALID, world.sysadmin)
    count = Organisation.objects.count()

    result = import_csv(VALID, world.sysadmin)

    assert (result.created, result.skipped, result.errors) == (0, 4, [])
    assert Organisation.objects.count() == count


def test_missing_columns_refuse_the_file(world):
    """A file without the required columns is refused as a whole, naming them."""
    with pytest.raises(ValidationError) as refused:
        import_csv("name,code\n某局,1\n")
    assert refused.value.messages == ["CSV 缺少列：kind、level"]


def test_header_only_file_imports_nothing(world):
    """An empty file (header only) is not an error."""
    result = import_csv(HEADER)
    assert (result.created, result.skipped, result.errors) == (0, 0, [])
