import pytest

from ledger.spendfile import tidy_postcode
from portal.postcodes import (
    AREAS,
    InvalidPostcode,
    is_district,
    normalise_postcode,
    outward_code,
    parse_districts,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("bd1 1hy", "BD1 1HY"),
        ("BD11HY", "BD1 1HY"),
        ("  ls29 8de ", "LS29 8DE"),
        ("M1 3GL", "M1 3GL"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("GIR 0AA", "GIR 0AA"),
    ],
)
def test_real_postcodes_are_normalised(raw, expected):
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize("raw", ["", "BD1", "12345", "BD1 1CI", "BDD1 1HY", "BD1 1H"])
def test_a_postcode_that_is_not_one_is_refused_with_its_text(raw):
    with pytest.raises(InvalidPostcode, match="Enter a real UK postcode"):
        normalise_postcode(raw)


def test_outward_code_is_the_district():
    assert outward_code("bd18 3hn") == "BD18"


def test_district_ranges_expand_within_an_area():
    districts = parse_districts("BD1-BD24, BD97–BD99; LS29")
    assert districts[:3] == ["BD1", "BD2", "BD3"]
    assert "BD24" in districts and "BD25" not in districts
    assert districts[-4:] == ["BD97", "BD98", "BD99", "LS29"]
    assert len(districts) == 24 + 3 + 1


def test_district_list_without_repeats_keeps_order():
    assert parse_districts("bd3, BD1, bd3") == ["BD3", "BD1"]


@pytest.mark.parametrize("bad", ["BD24-BD1", "Bradford", "BD1-", "1BD", "BD1-LS5"])
def test_bad_district_lists_name_the_part(bad):
    with pytest.raises(ValueError, match=r"BD|Bradford|1BD"):
        parse_districts(bad)


def test_there_are_the_uks_124_postcode_areas():
    # 121 in Great Britain and Northern Ireland, and GY, JE and IM.
    assert len(AREAS) == 124
    assert {"BD", "LS", "B", "E", "EC", "W", "ZE", "BT", "GY", "JE", "IM"} <= AREAS
    assert not AREAS & {"ZZ", "QQ", "Q", "BF", "BX", "GIR"}


@pytest.mark.parametrize(
    ("raw", "area"), [("ZZ99 9ZZ", "ZZ"), ("QQ1 1AA", "QQ"), ("q1 1aa", "Q"), ("XY10 2AB", "XY")]
)
def test_a_postcode_outside_the_uks_areas_is_refused_naming_the_area(raw, area):
    with pytest.raises(InvalidPostcode, match=f"{area} is not a UK postcode area"):
        normalise_postcode(raw)
    assert tidy_postcode(raw) == ""  # a spending file's payee: the same rule


def test_spaces_between_a_districts_area_and_number_mean_nothing():
    assert parse_districts("BD 1, bd 97, BD 2 - BD 4") == ["BD1", "BD97", "BD2", "BD3", "BD4"]


@pytest.mark.parametrize(
    ("text", "area"), [("ZZ99", "ZZ"), ("QQ1", "QQ"), ("Q5", "Q"), ("QQ1-QQ5", "QQ")]
)
def test_a_district_outside_the_uks_areas_is_refused_naming_the_area(text, area):
    with pytest.raises(ValueError, match=f"“{text}” is not a postcode district: {area} is not"):
        parse_districts(text)
    assert not is_district(text.split("-")[0])


def test_a_space_after_the_number_is_not_ignored():
    """ "BD1 4" is part of a postcode, not BD14."""
    with pytest.raises(ValueError, match="is not a postcode district or range"):
        parse_districts("BD1 4")
