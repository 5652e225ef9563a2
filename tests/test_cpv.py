"""CPV 2008 codes: the list, its hierarchy, looking codes up and searching them.

The real list (cpv/data/cpv2008.csv, 9,454 codes) is loaded once for this
module through the loader, inside a transaction that is rolled back after the
module's last test; each test runs in a savepoint within it.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cpv import rules, selectors
from cpv.forms import CpvCodeField, CpvCodesField
from cpv.models import CpvCode
from cpv.services import CpvLoadError, LoadResult, cpv_load
from tests.conftest import empty_inside_transaction

TOTAL = 9454

# One worker loads the real list once for the whole module (`make test` runs
# the suite in several processes: see the Makefile).
pytestmark = pytest.mark.xdist_group("cpv-first-load")


@pytest.fixture(scope="module")
def first_load(django_db_setup, django_db_blocker) -> Iterator[tuple[LoadResult, float]]:
    """The first load of the real list in this module, and how long it took."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        empty_inside_transaction()  # as a fresh database has it, without the demo seed
        started = time.perf_counter()
        result = cpv_load()
        seconds = time.perf_counter() - started
    try:
        yield result, seconds
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def cpv_codes(first_load, db) -> LoadResult:
    return first_load[0]


def weighted_check_digit(digits: str) -> str:
    """The best formula found (3,7,1,… mod 10). Used only to show that real
    codes break it: the portal never computes check digits."""
    return str(sum(w * int(d) for w, d in zip((3, 7, 1, 3, 7, 1, 3, 7), digits, strict=True)) % 10)


def message_of(error: ValidationError) -> list[str]:
    return list(error.messages)


# --- rules: shape and hierarchy, no database -----------------------------------------


@pytest.mark.parametrize(
    ("text", "digits", "check"),
    [
        ("45000000-7", "45000000", "7"),
        ("45000000 7", "45000000", "7"),
        ("45000000", "45000000", None),
        ("  90910000-9 ", "90910000", "9"),
        ("90910000 – 9", "90910000", "9"),
    ],
)
def test_parse_accepts_a_code_with_or_without_its_check_digit(text, digits, check):
    parsed = rules.parse(text)
    assert (parsed.digits, parsed.check_digit) == (digits, check)


@pytest.mark.parametrize(
    "text", ["", "4500000", "450000007", "45000000-", "45000000-77", "AA01-1", "cleaning"]
)
def test_parse_refuses_text_not_shaped_like_a_code(text):
    with pytest.raises(rules.InvalidCpvCode):
        rules.parse(text)


@pytest.mark.parametrize(
    ("digits", "prefix", "level"),
    [
        ("30000000", "30", 2),  # never below the 2-digit division
        ("03000000", "03", 2),
        ("45200000", "452", 3),
        ("45210000", "4521", 4),
        ("45213000", "45213", 5),
        ("30192121", "30192121", 8),
        ("45010000", "4501", 4),  # a zero inside the significant digits stays
    ],
)
def test_prefix_strips_trailing_zeros_from_digits_3_to_8(digits, prefix, level):
    assert rules.significant_prefix(digits) == prefix
    assert rules.level(digits) == level


def test_level_names_follow_the_hierarchy():
    assert [rules.level_name(n) for n in range(2, 9)] == [
        "Division",
        "Group",
        "Class",
        "Category",
        "Subcategory",
        "Subcategory",
        "Subcategory",
    ]


def test_category_key_is_the_first_n_digits_default_three():
    assert rules.category_key("45213100") == "452"
    assert rules.category_key("45213100-4", 2) == "45"
    assert rules.category_key("45213100", 5) == "45213"
    for wrong in (1, 9):
        with pytest.raises(ValueError, match="2 to 8 digits"):
            rules.category_key("45213100", wrong)


def test_ancestors_zero_the_last_significant_digit_again_and_again():
    assert rules.ancestors("30192121") == [
        "30192120",
        "30192100",
        "30192000",
        "30190000",
        "30100000",
        "30000000",
    ]
    assert rules.ancestors("45010000") == ["45000000"]
    assert rules.ancestors("45000000") == []


def test_parent_skips_a_level_the_list_does_not_have():
    known = {"30000000", "30100000", "30190000", "30192100", "30192121"}
    assert rules.parent_digits("30192121", known=known) == "30192100"
    assert rules.parent_digits("30000000", known=known) is None


@pytest.mark.parametrize(
    ("code", "ancestor", "expected"),
    [
        ("45210000-2", "45200000", True),
        ("45300000", "45200000", False),
        ("45200000", "45200000-9", True),  # a code is its own descendant
        ("45200000", "45210000", False),  # an ancestor is not a descendant
        ("30192121", "30000000", True),
        ("03000000", "30000000", False),
    ],
)
def test_a_code_matches_its_descendants_by_prefix(code, ancestor, expected):
    assert rules.is_descendant_or_self(code, ancestor) is expected


# --- loading the list ---------------------------------------------------------------


def test_all_9454_codes_load_and_a_second_load_changes_nothing(first_load, db):
    result, _ = first_load
    assert (result.created, result.updated, result.unchanged) == (TOTAL, 0, 0)
    assert CpvCode.objects.count() == TOTAL

    again = cpv_load()
    assert (again.created, again.updated, again.unchanged) == (0, 0, TOTAL)
    assert again.not_in_file == []


def test_levels_have_the_counts_the_data_readme_gives(cpv_codes):
    counts = [CpvCode.objects.filter(level=n).count() for n in range(2, 9)]
    assert counts == [45, 272, 1002, 2379, 3140, 1811, 805]


def test_the_load_command_says_what_it_did(cpv_codes):
    out = io.StringIO()
    call_command("load_cpv", stdout=out)
    assert "All 9,454 CPV codes already loaded; nothing changed." in out.getvalue()

    CpvCode.objects.filter(code="90910000-9").update(description="Tidying")
    out = io.StringIO()
    call_command("load_cpv", stdout=out)
    assert "Loaded 9,454 CPV codes: 0 new, 1 updated, 9,453 unchanged" in out.getvalue()
    assert CpvCode.objects.get(code="90910000-9").description == "Cleaning services"


def test_the_loader_refuses_a_code_stored_with_another_check_digit(cpv_codes, tmp_path):
    other = tmp_path / "cpv.csv"
    other.write_text("code,description\n45000000-3,Construction work\n", encoding="utf-8")
    with pytest.raises(CpvLoadError, match=r"45000000-7 \(the file has 45000000-3\)"):
        cpv_load(path=other)


def test_the_loader_names_the_line_of_a_malformed_code(db, tmp_path):
    bad = tmp_path / "cpv.csv"
    bad.write_text("code,description\n45000000-7,Construction work\n4500000-7,Oops\n")
    with pytest.raises(CpvLoadError, match="line 3: “4500000-7” is not like 45000000-7"):
        cpv_load(path=bad)


@pytest.mark.parametrize(
    ("code", "parent"),
    [
        ("30192121-5", "30192100-2"),  # 30192120 is not in the list
        ("34511100-3", "34510000-5"),  # 34511000 is not in the list
        ("45210000-2", "45200000-9"),
        ("45200000-9", "45000000-7"),
        ("45000000-7", None),
    ],
)
def test_parents_follow_the_data_readme(cpv_codes, code, parent):
    assert CpvCode.objects.get(code=code).parent_id == parent


def test_every_code_below_division_level_has_a_parent_35_after_two_steps(cpv_codes):
    assert not CpvCode.objects.filter(level__gt=2, parent__isnull=True).exists()
    assert not CpvCode.objects.filter(level=2, parent__isnull=False).exists()
    rows = CpvCode.objects.filter(level__gt=2).values_list("digits", "parent__digits")
    two_steps = [d for d, parent in rows if parent != rules.ancestors(d)[0]]
    assert len(two_steps) == 35
    assert all(parent == rules.ancestors(d)[1] for d, parent in rows if d in two_steps)


def test_prefix_descendants_are_exactly_the_parent_chain_descendants(cpv_codes):
    parent_of = dict(CpvCode.objects.values_list("digits", "parent__digits"))
    by_chain: dict[str, set[str]] = {d: {d} for d in parent_of}
    for digits in parent_of:
        above = parent_of[digits]
        while above:
            by_chain[above].add(digits)
            above = parent_of[above]
    starting_with: dict[str, set[str]] = {}
    for digits in parent_of:
        for length in range(2, 9):
            starting_with.setdefault(digits[:length], set()).add(digits)
    for ancestor, prefix in CpvCode.objects.values_list("digits", "prefix"):
        assert starting_with[prefix] == by_chain[ancestor], ancestor


def test_descendants_filter_matches_by_prefix_in_the_database(cpv_codes):
    group = CpvCode.objects.get(code="45200000-9")
    under = CpvCode.objects.filter(selectors.descendants_filter(group, field="digits"))
    assert under.filter(code="45210000-2").exists()
    assert under.filter(code="45200000-9").exists()
    assert not under.filter(code="45300000-0").exists()
    by_prefix = CpvCode.objects.filter(selectors.descendants_filter("45200000", field="prefix"))
    assert set(by_prefix) == set(under)
    assert under.count() == 614


def test_the_database_refuses_a_code_below_division_level_without_a_parent(cpv_codes):
    with pytest.raises(IntegrityError), transaction.atomic():
        CpvCode.objects.create(
            code="45999999-1", digits="45999999", description="Made up", level=8, prefix="45999999"
        )


# --- looking up what someone typed --------------------------------------------------


@pytest.mark.parametrize("text", ["45000000-7", "45000000 7", "45000000", " 45000000-7 "])
def test_a_listed_code_is_accepted_in_each_input_form(cpv_codes, text):
    code = selectors.get_code(text)
    assert code.code == "45000000-7"
    assert code.description == "Construction work"


@pytest.mark.parametrize("text", ["", "4500", "45000000-", "cleaning", "AA01-1"])
def test_text_not_shaped_like_a_code_is_refused(cpv_codes, text):
    with pytest.raises(ValidationError) as refused:
        selectors.get_code(text)
    assert message_of(refused.value) == ["Enter a CPV code like 45000000-7"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "45000001-3",
            "45000001-3 is not a CPV 2008 code. Search for the right one by words, like ‘cleaning’",
        ),
        (
            "45000001",
            "45000001 is not a CPV 2008 code. Search for the right one by words, like ‘cleaning’",
        ),
    ],
)
def test_a_code_not_in_the_list_is_refused(cpv_codes, text, message):
    with pytest.raises(ValidationError) as refused:
        selectors.get_code(text)
    assert message_of(refused.value) == [message]


def test_a_wrong_check_digit_is_refused_with_the_listed_one(cpv_codes):
    with pytest.raises(ValidationError) as refused:
        selectors.get_code("90910000-3")
    assert message_of(refused.value) == ["The check digit of 90910000 is 9, not 3"]


@pytest.mark.parametrize("code", ["03300000-2", "51000000-9", "42100000-0", "72212100-0"])
def test_listed_codes_that_break_the_weighted_formula_are_accepted(cpv_codes, code):
    digits, listed = code.split("-")
    computed = weighted_check_digit(digits)
    assert computed != listed  # an exception to the formula …
    assert selectors.get_code(code).code == code  # … accepted as listed
    with pytest.raises(ValidationError, match=f"is {listed}, not {computed}"):
        selectors.get_code(f"{digits}-{computed}")  # the formula's digit is the wrong one


def test_no_check_digit_is_computed_for_the_532_exceptions(cpv_codes):
    breaking = [
        code
        for code in CpvCode.objects.values_list("code", flat=True)
        if weighted_check_digit(code[:8]) != code[-1]
    ]
    assert len(breaking) == 532
    assert len(selectors.get_codes(breaking)) == 532


# --- form fields ---------------------------------------------------------------------


class CodesForm(forms.Form):
    main = CpvCodeField()
    extra = CpvCodeField(required=False)
    categories = CpvCodesField(required=False)


def test_the_code_field_cleans_to_the_listed_code(cpv_codes):
    form = CodesForm({"main": "90910000", "extra": "", "categories": ""})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["main"] == CpvCode.objects.get(code="90910000-9")
    assert form.cleaned_data["extra"] is None
    assert form.cleaned_data["categories"] == []


def test_the_code_field_explains_each_refusal(cpv_codes):
    form = CodesForm({"main": "", "extra": "90910000-3"})
    assert not form.is_valid()
    assert form.errors["main"] == ["Enter a CPV code like 45000000-7"]
    assert form.errors["extra"] == ["The check digit of 90910000 is 9, not 3"]


def test_several_codes_are_split_checked_in_one_query_and_deduplicated(
    cpv_codes, django_assert_num_queries
):
    field = CpvCodesField()
    with django_assert_num_queries(1):
        codes = field.clean("45000000-7, 90910000\n45000000 7;\n03300000-2\n")
    assert [c.code for c in codes] == ["45000000-7", "90910000-9", "03300000-2"]


def test_several_codes_name_every_bad_one(cpv_codes):
    with pytest.raises(ValidationError) as refused:
        CpvCodesField().clean("45000000-7, 4500\n45000001-3, 90910000-3")
    assert message_of(refused.value) == [
        "“4500” is not a CPV code. Enter codes like 45000000-7, separated by commas or on "
        "separate lines",
        "45000001-3 is not a CPV 2008 code. Search for the right one by words, like ‘cleaning’",
        "The check digit of 90910000 is 9, not 3",
    ]


def test_several_codes_required_means_at_least_one(cpv_codes):
    with pytest.raises(ValidationError, match="Enter at least one CPV code"):
        CpvCodesField().clean(" ,\n ")


# --- search --------------------------------------------------------------------------


def test_search_by_words_finds_cleaning_services_first(cpv_codes):
    results = selectors.search("cleaning services")
    assert results[0].code == "90910000-9"
    assert len(results) == 20


def test_search_by_words_needs_every_word(cpv_codes):
    results = selectors.search("beach cleaning")
    assert "90680000-7" in {c.code for c in results}
    for code in results:
        text = code.description.lower()
        assert "beach" in text and "clean" in text


def test_search_by_code_prefix_finds_that_part_of_the_tree_top_first(cpv_codes):
    results = selectors.search("4521")
    assert results[0].code == "45210000-2"
    assert all(c.digits.startswith("4521") for c in results)
    assert [c.level for c in results] == sorted(c.level for c in results)


def test_search_by_a_whole_code_finds_it_and_its_descendants(cpv_codes):
    matching = selectors.codes_matching("45200000-9")
    assert matching[0].code == "45200000-9"
    assert matching.filter(code="45210000-2").exists()
    assert not matching.filter(code="45300000-0").exists()


@pytest.mark.parametrize("query", ["", "   ", "!!!"])
def test_search_without_words_or_digits_finds_nothing(cpv_codes, query):
    assert selectors.search(query) == []


# --- pages ---------------------------------------------------------------------------


def test_the_json_search_is_public_for_suppliers_registering(client, cpv_codes):
    # The vocabulary is public data, and people registering are not signed in yet.
    response = client.get(reverse("cpv:search"), {"q": "cleaning services"})
    assert response.status_code == 200
    assert json.loads(response.content)["results"][0]["code"] == "90910000-9"


def test_the_json_search_returns_codes_for_a_signed_in_officer(client, officer, cpv_codes):
    client.force_login(officer)
    response = client.get(reverse("cpv:search"), {"q": "cleaning services"})
    assert response.status_code == 200
    results = json.loads(response.content)["results"]
    assert results[0] == {"code": "90910000-9", "description": "Cleaning services"}
    assert len(results) == 20
    by_code = json.loads(client.get(reverse("cpv:search"), {"q": "4521"}).content)
    assert by_code["results"][0]["code"] == "45210000-2"
    assert json.loads(client.get(reverse("cpv:search")).content) == {"results": []}


def test_the_find_page_lists_25_results_a_page(client, officer, cpv_codes):
    client.force_login(officer)
    page = client.get(reverse("cpv:find"), {"q": "construction"}).content.decode()
    assert "Find a CPV code" in page
    assert page.count('<tr class="govuk-table__row">') == 1 + 25  # header row + 25 codes
    assert "govuk-pagination" in page and 'aria-label="Page 2"' in page
    second = client.get(reverse("cpv:find"), {"q": "construction", "page": 2}).content.decode()
    assert 'aria-current="page">2<' in second
    assert "© European Union" in page


def test_the_find_page_without_a_search_lists_the_divisions(client, officer, cpv_codes):
    client.force_login(officer)
    page = client.get(reverse("cpv:find")).content.decode()
    assert "Divisions: the top of the list" in page
    assert "45000000-7" in page and "Construction work" in page


def test_the_find_page_says_when_nothing_matches(client, officer, cpv_codes):
    client.force_login(officer)
    page = client.get(reverse("cpv:find"), {"q": "zzzzqqq"}).content.decode()
    assert "No CPV codes found for ‘zzzzqqq’" in page


def test_the_find_page_explains_a_search_that_is_too_long(client, officer, cpv_codes):
    client.force_login(officer)
    page = client.get(reverse("cpv:find"), {"q": "x" * 201}).content.decode()
    assert "<title>Error: " in page
    assert "govuk-error-summary" in page
    assert "Search text must be 200 characters or fewer" in page


def test_the_find_page_is_public(client, cpv_codes):
    page = client.get(reverse("cpv:find"), {"q": "cleaning"}).content.decode()
    assert "90910000-9" in page


def test_the_find_page_runs_the_same_queries_whatever_it_lists(
    client, officer, cpv_codes, django_assert_num_queries
):
    client.force_login(officer)
    url = reverse("cpv:find")
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as one_result:
        assert client.get(url, {"q": "pâté"}).status_code == 200
    on_cpv = [q for q in one_result.captured_queries if "cpv_cpvcode" in q["sql"]]
    assert len(on_cpv) == 1  # the page's rows with their count
    for query in ({"q": "construction"}, {"q": "construction", "page": 3}, {"q": "45"}, {}):
        with django_assert_num_queries(len(one_result)):
            assert client.get(url, query).status_code == 200


# --- synonyms and descendants: finding what people type -------------------------------


@pytest.fixture
def synonyms(cpv_codes):
    from cpv.services import synonyms_load

    return synonyms_load()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("grass cutting", "77314000-4"),  # Grounds maintenance services
        ("Cutting the GRASS", "77314000-4"),  # any order, any case, filler words
        ("grass-cutting services", "77314000-4"),
        ("grounds maintenance", "77314000-4"),
        ("home care", "85312000-9"),  # Social work services without accommodation
        ("domiciliary care", "85312000-9"),
        ("gritting", "90630000-2"),  # Ice-clearing services
        ("pothole repairs", "45233142-6"),  # Road-repair works
        ("potholes", "45233142-6"),
        ("school meals", "55523100-3"),  # School-meal services
        ("street cleaning", "90610000-6"),
        ("waste collection", "90511000-2"),  # Refuse collection services
        ("bin collections", "90511000-2"),
        ("IT support", "72610000-9"),  # Computer support services
        ("cleaning", "90910000-9"),
        ("catering", "55520000-1"),
        ("taxi", "60120000-5"),
        ("legal services", "79100000-5"),
        ("security guards", "79713000-5"),  # Guard services
    ],
)
def test_everyday_words_find_the_right_code_among_the_first(synonyms, query, expected):
    results = selectors.search(query)
    assert expected in [c.code for c in results[:5]], [c.code for c in results]
    assert results[0].tier == 0  # a synonym's code comes first


def test_a_synonym_offers_all_its_codes_before_description_matches_then_descendants(synonyms):
    found = list(selectors.codes_matching("catering"))
    codes = [c.code for c in found]
    # The synonym's codes, most general first …
    assert codes[:4] == ["55500000-5", "55520000-1", "55523000-2", "55524000-9"]
    assert [c.tier for c in found[:4]] == [0, 0, 0, 0]
    # … then descriptions with the word, then codes below any of those.
    assert "39222000-4" in codes  # Catering supplies (description)
    assert "55521100-9" in codes  # Meals-on-wheels services (below 55520000-1)
    assert codes.index("39222000-4") < codes.index("55521100-9")
    assert [c.tier for c in found] == sorted(c.tier for c in found)
    assert {c.tier for c in found} == {0, 1, 2}


def test_a_search_offers_the_descendants_of_what_it_finds(synonyms):
    found = {c.code: c for c in selectors.codes_matching("green areas")}
    codes = list(found)
    # 77310000-6 Planting and maintenance services of green areas, and below it:
    assert found["77310000-6"].tier == 1
    for child in ("77311000-3", "77312100-1", "77313000-7", "77314100-5"):
        assert found[child].tier == 2
        assert codes.index(child) > codes.index("77310000-6")
    assert "77320000-9" not in codes  # a sibling is not a descendant


def test_plurals_and_punctuation_are_ignored_in_descriptions(synonyms):
    assert "45233142-6" in {c.code for c in selectors.search("road repairs!")}
    assert "90911300-9" in {c.code for c in selectors.search("Windows, cleaning")}


def test_a_councils_own_synonym_is_searched_by_that_council_only(
    synonyms, officer, other_officer, client
):
    from cpv.models import CpvSynonym

    CpvSynonym.objects.create(
        buyer=officer.buyer, term="Grot spots", code=CpvCode.objects.get(code="90611000-3")
    )
    assert selectors.search("grot spot", buyer_id=officer.buyer_id)[0].code == "90611000-3"
    assert selectors.search("grot spot") == []
    assert selectors.search("grot spot", buyer_id=other_officer.buyer_id) == []

    url = reverse("cpv:search")
    client.force_login(officer)
    assert json.loads(client.get(url, {"q": "grot spots"}).content)["results"][0] == {
        "code": "90611000-3",
        "description": "Street-cleaning services",
    }
    assert "90611000-3" in client.get(reverse("cpv:find"), {"q": "grot"}).content.decode()
    client.force_login(other_officer)
    assert json.loads(client.get(url, {"q": "grot spots"}).content)["results"] == []


def test_loading_synonyms_again_changes_nothing_and_leaves_councils_own(synonyms, council):
    from cpv.models import CpvSynonym
    from cpv.services import synonyms_load

    assert synonyms.created > 50 and synonyms.removed == 0
    own = CpvSynonym.objects.create(
        buyer=council, term="cutting grass", code=CpvCode.objects.get(code="77314000-4")
    )
    stale = CpvSynonym.objects.create(term="old words", code=own.code)
    again = synonyms_load()
    assert (again.created, again.removed, again.unchanged) == (0, 1, synonyms.created)
    assert CpvSynonym.objects.filter(pk=own.pk).exists()
    assert not CpvSynonym.objects.filter(pk=stale.pk).exists()
    out = io.StringIO()
    call_command("load_cpv", stdout=out)
    assert "Synonyms from synonyms.csv: 0 added, 0 removed" in out.getvalue()


def test_a_synonym_file_with_a_code_not_in_the_list_is_refused(cpv_codes, tmp_path):
    from cpv.services import synonyms_load

    bad = tmp_path / "synonyms.csv"
    bad.write_text("# notes\nterm,codes\ngrass cutting,77314000-4 77314000-1\n", encoding="utf-8")
    with pytest.raises(CpvLoadError, match="not CPV 2008 codes: 77314000-1"):
        synonyms_load(path=bad)
    bad.write_text("term,codes\ngrass cutting,7731\n", encoding="utf-8")
    with pytest.raises(CpvLoadError, match="line 2: “7731” is not like 45000000-7"):
        synonyms_load(path=bad)


def test_every_shipped_synonym_names_a_listed_code(cpv_codes):
    from cpv.services import read_synonyms

    pairs = read_synonyms()
    assert len({term for term, _ in pairs}) >= 30
    assert len(selectors.get_codes([code for _, code in pairs])) == len({c for _, c in pairs})


def test_a_word_search_is_one_query_on_the_whole_list(synonyms, django_assert_num_queries):
    # (Its time is measured by ``bench pages``, "CPV finder, everyday words".)
    for query in ("services", "grounds maintenance", "equipment parts"):
        with django_assert_num_queries(1):
            results = selectors.search(query)
        assert results


@pytest.mark.parametrize(
    "query",
    ["cleaning services", "grounds maintenance", "equipment parts", "services", "grot", "4521"],
)
def test_the_finders_page_is_what_the_search_finds_in_its_order_in_one_query(
    synonyms, officer, query, django_assert_num_queries
):
    """On PostgreSQL a word search's page is a plain statement (ADR 10): the
    same codes, in the same order and count, as ``codes_matching``; a council's
    own synonyms included for its people only."""
    from cpv.models import CpvSynonym

    CpvSynonym.objects.create(
        buyer=officer.buyer, term="Grot spots", code=CpvCode.objects.get(code="90611000-3")
    )
    for buyer_id in (None, officer.buyer_id):
        found = [c.code for c in selectors.codes_matching(query, buyer_id=buyer_id)]
        with django_assert_num_queries(1):
            selectors.search_page(query, 1, 25, buyer_id=buyer_id)
        for number in (1, 2, 99):  # past the end: the last page, as Paginator.get_page
            page = selectors.search_page(query, number, 25, buyer_id=buyer_id)
            assert page.paginator.count == len(found)
            start = (page.number - 1) * 25
            assert [c.code for c in page.object_list] == found[start : start + 25]
            assert all(c.description for c in page.object_list)
