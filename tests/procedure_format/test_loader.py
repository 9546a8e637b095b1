"""The procedure loader: the samples load, and every broken file is refused with the right
file, line, key path and message."""

import hashlib
import io
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forms_engine.procedure_format.loader import (
    load_tree,
    parse_bundle,
    parse_organization,
    parse_procedure,
    parse_size,
)
from forms_engine.procedure_format.model import DateBound, LoadError

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_SAMPLES = REPO_ROOT / "procedures"
SHARED_SAMPLES = REPO_ROOT.parent / "shared" / "procedures"

DOG = "sample-city/dog-registration.yaml"
CHILD = "sample-city/child-allowance.yaml"
RECORDS = "osaka-pref/records-disclosure.yaml"
SEMINAR = "osaka-pref/dx-seminar.yaml"
BUNDLE = "sample-city/moving-in.bundle.yaml"
CITY_ORG = "sample-city/organization.yaml"


def copy_samples(tmp_path: Path) -> Path:
    root = tmp_path / "procedures"
    shutil.copytree(PROJECT_SAMPLES, root)
    return root


def edit(root: Path, rel_path: str, old: str, new: str) -> str:
    """Replace the one occurrence of `old` in a sample file; returns the new text."""
    path = root / rel_path
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel_path}"
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return text


def line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, f"{needle!r} occurs {text.count(needle)} times"
    return text[: text.index(needle)].count("\n") + 1


def broken_tree(tmp_path: Path, rel_path: str, old: str, new: str, needle: str | None = None):
    """Load the samples with one edit; returns (tree, line of `needle` or of `new`)."""
    root = copy_samples(tmp_path)
    text = edit(root, rel_path, old, new)
    tree = load_tree(root)
    return tree, line_of(text, needle or new)


def errors_of(tree, rel_path: str) -> list[str]:
    return [str(e) for e in tree.errors if e.file == rel_path]


def assert_refused(tree, rel_path: str, *expected: str) -> None:
    """`rel_path` is broken, not loaded, and its errors are exactly `expected`."""
    assert errors_of(tree, rel_path) == list(expected)
    assert rel_path in tree.broken_files
    org, _, name = rel_path.partition("/")
    assert (org, name.removesuffix(".yaml")) not in tree.procedures


# -- the samples -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "root",
    [
        pytest.param(PROJECT_SAMPLES, id="project"),
        pytest.param(
            SHARED_SAMPLES,
            id="shared",
            marks=pytest.mark.skipif(not SHARED_SAMPLES.is_dir(), reason="no ../shared here"),
        ),
    ],
)
def test_every_sample_loads_without_errors(root):
    tree = load_tree(root)

    assert tree.errors == []
    assert tree.broken_files == set()
    assert sorted(tree.organizations) == ["osaka-pref", "sample-city"]
    assert sorted(tree.procedures) == [
        ("osaka-pref", "dx-seminar"),
        ("osaka-pref", "records-disclosure"),
        ("sample-city", "child-allowance"),
        ("sample-city", "dog-registration"),
        ("sample-city", "resident-moving-in"),
    ]
    assert sorted(tree.bundles) == [("sample-city", "moving-in")]


def test_the_project_keeps_an_unchanged_copy_of_the_shared_samples():
    if not SHARED_SAMPLES.is_dir():
        pytest.skip("no ../shared here")
    shared = {p.relative_to(SHARED_SAMPLES): p.read_bytes() for p in SHARED_SAMPLES.rglob("*.yaml")}
    project = {
        p.relative_to(PROJECT_SAMPLES): p.read_bytes() for p in PROJECT_SAMPLES.rglob("*.yaml")
    }
    assert {k: v for k, v in project.items() if k in shared} == shared


def test_sample_values_are_converted():
    tree = load_tree(PROJECT_SAMPLES)
    dog = tree.procedures[("sample-city", "dog-registration")]

    certificate = dog.field("vaccination_certificate")
    assert certificate.params["max_size"] == 20 * 1024 * 1024
    assert certificate.params["max_files"] == 3
    assert certificate.params["resize_images"] == 2000
    assert certificate.params["accept"] == ("pdf", "jpeg", "png", "heic")
    assert certificate.show_if.names == {"vaccinated"}
    assert dog.field("birth_date").params["max"] == DateBound(kind="offset", amount=-18, unit="y")
    assert dog.field("name").params["kana"] == "required"
    assert [o.value for o in dog.field("breed").options][:2] == ["shiba", "toy-poodle"]
    assert dog.fee.items[0].amount == 3000
    assert dog.fee.methods == ("card", "konbini")
    assert dog.integrations[0].config == {
        "url": "env:ANIMAL_DB_URL",
        "secret": "env:ANIMAL_DB_SECRET",
    }
    assert dog.department == "environment"
    assert dog.contact_email == "email"
    assert dog.page_of("vaccinated").id == "dog"
    raw = (PROJECT_SAMPLES / DOG).read_bytes()
    assert dog.content_hash == hashlib.sha256(raw).hexdigest()
    assert dog.source_path == DOG

    seminar = tree.procedures[("osaka-pref", "dx-seminar")]
    assert seminar.accepting.capacity == 120
    assert seminar.accepting.opens.utcoffset() == timedelta(hours=9)
    assert seminar.accepting.opens < seminar.accepting.closes
    colleagues = seminar.field("colleagues")
    assert [c.id for c in colleagues.fields] == ["colleague_name", "colleague_email"]
    assert (colleagues.params["repeat_min"], colleagues.params["repeat_max"]) == (0, 4)

    records = tree.procedures[("osaka-pref", "records-disclosure")]
    assert records.retention_days == 3650
    assert records.fee.timing == "after_review"
    assert records.fee.items[0].when.names == {"methods"}
    assert records.integrations[0].config["encoding"] == "cp932"
    assert records.field("reference").params["max_size"] == 50 * 1024 * 1024

    # An unquoted comma in a flow mapping stays part of the text.
    commerce = tree.organizations["osaka-pref"].departments[2]
    assert commerce.name.get("en") == "Commerce, Industry and Labor Department"
    assert tree.bundles[("sample-city", "moving-in")].procedures == (
        "resident-moving-in",
        "child-allowance",
    )


# -- one test per kind of broken file ----------------------------------------------------


def test_an_unknown_field_in_a_condition_is_reported_at_the_show_if(tmp_path):
    tree, line = broken_tree(tmp_path, DOG, "show_if: vaccinated", "show_if: vacinated == true")

    assert_refused(
        tree,
        DOG,
        f"{DOG}:{line} pages[1].fields[6].show_if: unknown field 'vacinated' "
        "(did you mean 'vaccinated'?)",
    )


def test_an_unknown_department_lists_the_departments(tmp_path):
    tree, line = broken_tree(tmp_path, DOG, "department: environment", "department: zoo")

    assert_refused(
        tree,
        DOG,
        f"{DOG}:{line} department: unknown department 'zoo'; departments of sample-city: "
        "citizens, environment, child-care",
    )


def test_a_duplicate_field_id_names_the_first_use(tmp_path):
    first = line_of((PROJECT_SAMPLES / DOG).read_text(), "id: dog_name")
    tree, line = broken_tree(
        tmp_path,
        DOG,
        "id: breed_other",
        "id: dog_name",
        needle="id: dog_name\n        type: text\n        label: {ja: 犬種（その他）",
    )

    assert_refused(
        tree,
        DOG,
        f"{DOG}:{line} pages[1].fields[2].id: duplicate field id 'dog_name' (first used on "
        f"line {first}); field ids must be unique in the whole file",
    )


def test_a_duplicate_id_inside_a_group_is_caught_across_the_file(tmp_path):
    first = line_of((PROJECT_SAMPLES / CHILD).read_text(), "{id: name, type: name")
    tree, line = broken_tree(
        tmp_path,
        CHILD,
        "{id: kid_name, type: name",
        "{id: name, type: name",
        needle="{id: name, type: name, label: {ja: 氏名, en: Name}, kana: required, required: true}",
    )

    assert_refused(
        tree,
        CHILD,
        f"{CHILD}:{line} pages[1].fields[0].fields[0].id: duplicate field id 'name' (first used "
        f"on line {first}); field ids must be unique in the whole file",
    )


def test_an_unknown_field_type_lists_the_valid_types(tmp_path):
    tree, line = broken_tree(tmp_path, DOG, "type: yes_no", "type: boolean")

    [message] = errors_of(tree, DOG)
    assert message.startswith(
        f"{DOG}:{line} pages[1].fields[5].type: unknown field type 'boolean'; valid types: "
        "text, textarea, number,"
    )
    assert "yes_no" in message and message.endswith("static, group")


@pytest.mark.parametrize(
    "size, message",
    [
        ("20 MBs", "'20 MBs' is not a size: write e.g. 500KB, 20MB or 2GB"),
        ("-5MB", "'-5MB' is not a size: write e.g. 500KB, 20MB or 2GB"),
        ("twenty", "'twenty' is not a size: write e.g. 500KB, 20MB or 2GB"),
        ("0MB", "must be more than 0 bytes"),
        ("20", "20 needs a unit, e.g. 20MB"),
    ],
)
def test_a_bad_size_is_refused(tmp_path, size, message):
    tree, line = broken_tree(tmp_path, DOG, "max_size: 20MB", f"max_size: {size}")

    assert_refused(tree, DOG, f"{DOG}:{line} pages[1].fields[6].max_size: {message}")


def test_sizes_use_binary_units():
    assert parse_size("500KB") == 500 * 1024
    assert parse_size("20MB") == 20 * 1024 * 1024
    assert parse_size("2GB") == 2 * 1024**3
    assert parse_size("10 mb") == 10 * 1024 * 1024
    for bad in ("20 MBs", "-5MB", "twenty", "", "MB", "0MB", "1.5GB", "20", 20, True, None):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_a_negative_amount_is_refused(tmp_path):
    tree, line = broken_tree(tmp_path, DOG, "amount: 3000", "amount: -3000")

    assert_refused(tree, DOG, f"{DOG}:{line} fee.items[0].amount: amount must not be negative")


def test_an_amount_with_decimals_is_refused(tmp_path):
    tree, line = broken_tree(tmp_path, DOG, "amount: 3000", "amount: 10.5")

    assert_refused(
        tree,
        DOG,
        f"{DOG}:{line} fee.items[0].amount: must be a whole number of yen: JPY has no decimals",
    )


def test_a_yaml_syntax_error_names_its_line(tmp_path):
    root = copy_samples(tmp_path)
    text = edit(
        root,
        DOG,
        "    title: {ja: 犬の情報, en: About the dog}",
        "    title: {ja: 犬の情報, en: About",
    )

    tree = load_tree(root)

    [error] = [e for e in tree.errors if e.file == DOG]
    # The parser notices the unclosed mapping on the next line, where `fields:` starts.
    assert error.line == line_of(text, "    fields:\n      - id: dog_name\n")
    assert error.path == "(file)"
    assert error.message.startswith("invalid YAML: ")
    assert DOG in tree.broken_files


def test_an_unsafe_expression_is_a_load_error_not_code(tmp_path):
    tree, line = broken_tree(
        tmp_path,
        DOG,
        "show_if: breed == 'other'",
        "show_if: __import__('os').system('touch /tmp/pwned')",
    )

    [message] = errors_of(tree, DOG)
    assert message.startswith(f"{DOG}:{line} pages[1].fields[2].show_if: invalid condition: ")
    assert "'__import__'" in message


def test_an_unsafe_yaml_tag_is_refused_not_run(tmp_path):
    marker = tmp_path / "ran"
    tree, line = broken_tree(
        tmp_path,
        DOG,
        "retention_days: 1825",
        f'retention_days: !!python/object/apply:os.system ["touch {marker}"]',
    )

    assert not marker.exists()
    [message] = errors_of(tree, DOG)
    assert message.startswith(f"{DOG}:{line} retention_days: the YAML tag !!python/object/apply")


def test_a_literal_secret_is_refused(tmp_path):
    tree, line = broken_tree(
        tmp_path, DOG, "secret: env:ANIMAL_DB_SECRET", "secret: s3cr3t-in-the-yaml"
    )

    assert_refused(
        tree,
        DOG,
        f"{DOG}:{line} integrations[0].secret: secrets must come from the environment: "
        "write env:NAME",
    )


def test_contact_email_must_name_an_email_field(tmp_path):
    tree, line = broken_tree(tmp_path, DOG, "contact_email: email", "contact_email: phone")

    assert_refused(
        tree,
        DOG,
        f"{DOG}:{line} contact_email: 'phone' is a tel field; contact_email must name an "
        "email field",
    )


def test_contact_email_may_not_name_a_field_inside_a_group(tmp_path):
    tree, line = broken_tree(
        tmp_path, SEMINAR, "contact_email: email", "contact_email: colleague_email"
    )

    assert_refused(
        tree,
        SEMINAR,
        f"{SEMINAR}:{line} contact_email: 'colleague_email' is inside group 'colleagues'; "
        "contact_email must name an email field outside groups",
    )


def test_many_errors_in_one_file_are_all_reported(tmp_path):
    root = copy_samples(tmp_path)
    edit(root, DOG, "department: environment", "department: zoo")
    edit(root, DOG, "show_if: vaccinated", "show_if: vacinated")
    edit(root, DOG, "max_size: 20MB", "max_size: lots")
    edit(root, DOG, "amount: 3000", "amount: -1")
    text = edit(root, DOG, "secret: env:ANIMAL_DB_SECRET", "secret: plain")

    tree = load_tree(root)

    assert [(e.line, e.path) for e in tree.errors if e.file == DOG] == [
        (line_of(text, "department: zoo"), "department"),
        (line_of(text, "max_size: lots"), "pages[1].fields[6].max_size"),
        (line_of(text, "show_if: vacinated"), "pages[1].fields[6].show_if"),
        (line_of(text, "amount: -1"), "fee.items[0].amount"),
        (line_of(text, "secret: plain"), "integrations[0].secret"),
    ]
    # The other procedures of the organization still load.
    assert ("sample-city", "child-allowance") in tree.procedures


def test_a_duplicate_yaml_key_is_an_error(tmp_path):
    root = copy_samples(tmp_path)
    text = edit(
        root,
        DOG,
        "        required: true\n        show_if: vaccinated",
        "        required: true\n        required: false\n        show_if: vaccinated",
    )

    tree = load_tree(root)

    first = line_of(text, "        required: true\n        required: false\n")
    second = line_of(text, "        required: false\n")
    assert_refused(
        tree,
        DOG,
        f"{DOG}:{second} pages[1].fields[6].required: duplicate key 'required' (first written on "
        f"line {first})",
    )


def test_an_unknown_key_suggests_the_right_one(tmp_path):
    tree, line = broken_tree(
        tmp_path, DOG, "        show_if: breed == 'other'", "        showif: breed == 'other'"
    )

    assert_refused(
        tree,
        DOG,
        f"{DOG}:{line} pages[1].fields[2].showif: unknown key 'showif' (did you mean 'show_if'?)",
    )


def test_a_key_of_another_field_type_says_so(tmp_path):
    tree, line = broken_tree(
        tmp_path,
        DOG,
        "        max_length: 40\n        required: true\n      - id: breed\n",
        "        max_size: 40MB\n        required: true\n      - id: breed\n",
        needle="max_size: 40MB",
    )

    assert_refused(
        tree,
        DOG,
        f"{DOG}:{line} pages[1].fields[0].max_size: key 'max_size' does not apply to a text "
        "field (it is for file)",
    )


def test_a_missing_required_key_is_reported_at_its_parent(tmp_path):
    tree, line = broken_tree(
        tmp_path,
        DOG,
        "        type: text\n        label: {ja: 犬の名前, en: Dog's name}\n",
        "        type: text\n",
        needle="      - id: dog_name\n",
    )

    assert_refused(tree, DOG, f"{DOG}:{line} pages[1].fields[0].label: required key is missing")


def test_a_broken_organization_file_blocks_its_procedures(tmp_path):
    root = copy_samples(tmp_path)
    text = edit(root, CITY_ORG, "  - slug: environment", "  - slug: Environment")

    tree = load_tree(root)

    assert errors_of(tree, CITY_ORG) == [
        f"{CITY_ORG}:{line_of(text, 'slug: Environment')} departments[1].slug: 'Environment' is "
        "not a slug: use 3 to 64 lower-case letters, digits and hyphens"
    ]
    for rel in (CITY_ORG, DOG, CHILD, BUNDLE, "sample-city/resident-moving-in.yaml"):
        assert rel in tree.broken_files
    assert errors_of(tree, DOG) == [
        f"{DOG}:1 (file): not loaded: sample-city/organization.yaml has errors"
    ]
    assert "sample-city" not in tree.organizations
    assert not [key for key in tree.procedures if key[0] == "sample-city"]
    assert tree.bundles == {}
    # The other organization is not affected.
    assert ("osaka-pref", "dx-seminar") in tree.procedures


def test_a_folder_without_organization_file_is_an_error_for_each_file(tmp_path):
    root = copy_samples(tmp_path)
    (root / CITY_ORG).unlink()

    tree = load_tree(root)

    for rel in (DOG, CHILD, BUNDLE, "sample-city/resident-moving-in.yaml"):
        assert errors_of(tree, rel) == [
            f"{rel}:1 (file): not loaded: the folder sample-city has no organization.yaml"
        ]
        assert rel in tree.broken_files


def test_bad_folder_and_file_names_are_errors(tmp_path):
    root = copy_samples(tmp_path)
    (root / DOG).rename(root / "sample-city" / "Dog_Registration.yaml")
    shutil.copytree(root / "osaka-pref", root / "Osaka")

    tree = load_tree(root)

    assert errors_of(tree, "sample-city/Dog_Registration.yaml") == [
        "sample-city/Dog_Registration.yaml:1 (file): file name 'Dog_Registration' is not a "
        "valid slug: use 3 to 64 lower-case ASCII letters, digits and hyphens"
    ]
    assert "Osaka/organization.yaml" in tree.broken_files
    assert "Osaka/dx-seminar.yaml" in tree.broken_files
    assert "Osaka" not in tree.organizations
    assert ("osaka-pref", "dx-seminar") in tree.procedures


def test_a_bundle_naming_a_missing_procedure_is_refused(tmp_path):
    tree, line = broken_tree(
        tmp_path,
        BUNDLE,
        "[resident-moving-in, child-allowance]",
        "[resident-moving-in, dog-walking]",
    )

    assert_refused(
        tree, BUNDLE, f"{BUNDLE}:{line} procedures[1]: no procedure 'dog-walking' in sample-city"
    )
    assert tree.bundles == {}


def test_a_bundle_naming_a_broken_procedure_is_refused(tmp_path):
    root = copy_samples(tmp_path)
    edit(root, CHILD, "department: child-care", "department: nursery")

    tree = load_tree(root)

    [message] = errors_of(tree, BUNDLE)
    line = line_of((root / BUNDLE).read_text(), "procedures: [")
    assert message == (
        f"{BUNDLE}:{line} procedures[1]: procedure 'child-allowance' has errors, so the bundle "
        "cannot include it (see sample-city/child-allowance.yaml)"
    )


def test_a_bundle_from_another_organization_is_not_found(tmp_path):
    tree, line = broken_tree(
        tmp_path,
        BUNDLE,
        "[resident-moving-in, child-allowance]",
        "[resident-moving-in, dx-seminar]",
    )

    assert errors_of(tree, BUNDLE) == [
        f"{BUNDLE}:{line} procedures[1]: no procedure 'dx-seminar' in sample-city"
    ]


# -- conditions: scope and order -----------------------------------------------------------


def test_a_top_level_condition_cannot_name_a_field_inside_a_group(tmp_path):
    tree, line = broken_tree(
        tmp_path,
        CHILD,
        "      - {id: bank, type: bank_account,",
        "      - {id: bank, show_if: lives_together, type: bank_account,",
    )

    assert_refused(
        tree,
        CHILD,
        f"{CHILD}:{line} pages[2].fields[0].show_if: field 'lives_together' is inside group "
        "'kids', which has one value per entry: name the group instead, e.g. len(kids)",
    )


def test_a_field_in_a_group_may_name_its_siblings_and_the_group(tmp_path):
    root = copy_samples(tmp_path)
    edit(
        root,
        CHILD,
        "          - {id: lives_together, type: yes_no,",
        "          - {id: lives_together, show_if: kid_birth_date != null and len(kids) > 0 "
        "and name.kana_family != null, type: yes_no,",
    )

    tree = load_tree(root)

    assert tree.errors == []
    spec = tree.procedures[("sample-city", "child-allowance")]
    assert spec.field("lives_together").show_if.names == {"kid_birth_date", "kids", "name"}


def test_a_page_condition_may_only_name_fields_of_earlier_pages(tmp_path):
    root = copy_samples(tmp_path)
    text = edit(
        root,
        DOG,
        "    title: {ja: 犬の情報, en: About the dog}\n",
        "    title: {ja: 犬の情報, en: About the dog}\n    show_if: breed != null\n",
    )
    text = edit(
        root,
        DOG,
        "    title: {ja: 確認事項, en: Declaration}\n",
        "    title: {ja: 確認事項, en: Declaration}\n    show_if: name != null and breed != null\n",
    )

    tree = load_tree(root)

    assert errors_of(tree, DOG) == [
        f"{DOG}:{line_of(text, 'show_if: breed != null')} pages[1].show_if: a page's show_if "
        "cannot use field 'breed' of the same page: it is decided before the page is answered",
    ]


def test_a_field_condition_cannot_name_a_later_page_or_itself(tmp_path):
    root = copy_samples(tmp_path)
    edit(
        root,
        DOG,
        "        label: {ja: 電話番号, en: Phone number}\n",
        "        label: {ja: 電話番号, en: Phone number}\n        show_if: vaccinated\n",
    )
    text = edit(root, DOG, "show_if: breed == 'other'", "show_if: breed_other == 'x'")

    tree = load_tree(root)

    phone_condition = line_of(text, "Phone number}\n        show_if: vaccinated") + 1
    assert errors_of(tree, DOG) == [
        f"{DOG}:{phone_condition} pages[0].fields[4].show_if: field 'vaccinated' is on a later page ('dog'), so it "
        "has no answer yet",
        f"{DOG}:{line_of(text, 'show_if: breed_other')} pages[1].fields[2].show_if: a field's "
        "show_if cannot use the field itself",
    ]


def test_conditions_that_depend_on_each_other_in_a_circle_are_refused(tmp_path):
    root = copy_samples(tmp_path)
    text = edit(
        root,
        DOG,
        "        max_length: 40\n        required: true\n      - id: breed\n",
        "        max_length: 40\n        required: true\n        show_if: sex == 'male'\n      - id: breed\n",
    )
    text = edit(
        root,
        DOG,
        "        label: {ja: 性別, en: Sex}\n",
        "        label: {ja: 性別, en: Sex}\n        show_if: dog_name != null\n",
    )

    tree = load_tree(root)

    assert errors_of(tree, DOG) == [
        f"{DOG}:{line_of(text, 'show_if: sex')} pages[1].fields[0].show_if: conditions depend "
        "on each other in a circle: dog_name -> sex -> dog_name"
    ]


def test_a_type_mismatch_in_a_condition_is_a_load_error(tmp_path):
    tree, line = broken_tree(tmp_path, DOG, "show_if: vaccinated", "show_if: vaccinated > 3")

    [message] = errors_of(tree, DOG)
    assert message.startswith(f"{DOG}:{line} pages[1].fields[6].show_if: cannot order")


def test_a_fee_quantity_must_be_a_number(tmp_path):
    tree, line = broken_tree(
        tmp_path,
        RECORDS,
        "      amount: 10\n",
        "      amount: 10\n      quantity: requester_type\n",
        needle="quantity: requester_type",
    )

    assert_refused(
        tree,
        RECORDS,
        f"{RECORDS}:{line} fee.items[0].quantity: quantity must be a whole number (e.g. a number "
        "field or len(group)), but it gives text",
    )


# -- values ----------------------------------------------------------------------------------


def test_yaml_1_1_booleans_are_read_as_written_where_text_is_expected(tmp_path):
    root = copy_samples(tmp_path)
    edit(
        root,
        DOG,
        "          - {value: male, label: {ja: オス, en: Male}}\n",
        "          - {value: yes, label: {ja: はい, en: Yes}}\n"
        "          - {value: no, label: {ja: いいえ, en: No}}\n"
        "          - {value: 3, label: {ja: 三, en: 3}}\n",
    )
    edit(root, DOG, "show_if: breed == 'other'", "show_if: sex == 'yes'")

    tree = load_tree(root)

    assert tree.errors == []
    sex = tree.procedures[("sample-city", "dog-registration")].field("sex")
    assert [(o.value, o.label.get("en")) for o in sex.options] == [
        ("yes", "Yes"),
        ("no", "No"),
        ("3", "3"),
        ("female", "Female"),
    ]


def test_a_naive_datetime_is_refused(tmp_path):
    tree, line = broken_tree(
        tmp_path, SEMINAR, "opens: 2026-11-01T09:00:00+09:00", "opens: 2026-11-01T09:00:00"
    )

    assert_refused(
        tree,
        SEMINAR,
        f"{SEMINAR}:{line} accepting.opens: needs a UTC offset such as +09:00, e.g. "
        "2026-11-01T09:00:00+09:00",
    )


def test_closes_must_be_after_opens(tmp_path):
    tree, line = broken_tree(
        tmp_path, SEMINAR, "closes: 2027-01-31T17:00:00+09:00", "closes: 2026-01-31T17:00:00+09:00"
    )

    assert_refused(
        tree, SEMINAR, f"{SEMINAR}:{line} accepting.closes: closes must be later than opens"
    )


def test_an_unknown_integration_type_lists_the_known_ones(tmp_path):
    root = copy_samples(tmp_path)
    text = edit(root, DOG, "type: webhook", "type: sftp")

    tree = load_tree(root, integration_types=("webhook", "email"))

    assert errors_of(tree, DOG) == [
        f"{DOG}:{line_of(text, 'type: sftp')} integrations[0].type: unknown integration type "
        "'sftp'; known types: webhook, email"
    ]


def test_a_csv_column_must_be_a_field_or_a_known_column(tmp_path):
    tree, line = broken_tree(tmp_path, RECORDS, "documents, methods]", "documents, methodz]")

    assert_refused(
        tree,
        RECORDS,
        f"{RECORDS}:{line} integrations[0].columns[8]: unknown column 'methodz' (did you mean "
        "'methods'?): use a field id or one of receipt_number, submitted_at, status, "
        "procedure, version, department",
    )


def test_a_cron_schedule_is_checked(tmp_path):
    tree, line = broken_tree(tmp_path, RECORDS, 'schedule: "0 2 * * *"', 'schedule: "0 24 * * *"')

    assert_refused(
        tree,
        RECORDS,
        f"{RECORDS}:{line} integrations[0].schedule: hour field '24': 24 is outside 0-23",
    )


@pytest.mark.parametrize(
    "schedule, message",
    [
        # A superscript passes str.isdigit() but not int(): it must be an error, not a crash.
        ("² 2 * * *", "minute field '²': '²' is not a number, range or *"),
        # Celery has no 7 for Sunday: beat could never run this schedule.
        ("0 2 * * 7", "day of week field '7': 7 is outside 0-6 (Sunday is 0 or sun)"),
        ("*/ 2 * * *", "minute field '*/': step '' must be a whole number of 1 or more"),
        ("5/2 2 * * *", "minute field '5/2': a step goes after * or a range, e.g. */2"),
        # Celery's parser alone would read this as 1-5, and `jan` as Monday.
        ("1-5!! 2 * * *", "minute field '1-5!!': '1-5!!' is not a number, range or *"),
        ("0 2 * * jan", "day of week field 'jan': 'jan' is not a number, range or *"),
    ],
)
def test_a_cron_schedule_celery_cannot_run_as_written_is_refused(tmp_path, schedule, message):
    tree, line = broken_tree(tmp_path, RECORDS, 'schedule: "0 2 * * *"', f'schedule: "{schedule}"')

    assert_refused(tree, RECORDS, f"{RECORDS}:{line} integrations[0].schedule: {message}")


@pytest.mark.parametrize(
    "schedule, unit, expected",
    [
        ("0 22-2 * * *", "hour", {22, 23, 0, 1, 2}),  # past midnight, as Celery reads it
        ("0 9 * * sat-sun", "day_of_week", {6, 0}),
        ("*/15 9-17 * jan-mar 1-5", "month_of_year", {1, 2, 3}),
    ],
)
def test_a_cron_schedule_loads_as_celery_reads_it(tmp_path, schedule, unit, expected):
    from celery.schedules import crontab

    from forms_engine.procedure_format.loader.cron import crontab_kwargs

    root = copy_samples(tmp_path)
    edit(root, RECORDS, 'schedule: "0 2 * * *"', f'schedule: "{schedule}"')

    tree = load_tree(root)

    assert errors_of(tree, RECORDS) == []
    (integration,) = tree.procedures[("osaka-pref", "records-disclosure")].integrations
    assert integration.config["schedule"] == schedule
    assert getattr(crontab(**crontab_kwargs(schedule)), unit) == expected


def test_a_webhook_url_must_be_https(tmp_path):
    tree, line = broken_tree(
        tmp_path, DOG, "url: env:ANIMAL_DB_URL", "url: http://animals.example.jp/hook"
    )

    assert_refused(
        tree,
        DOG,
        f"{DOG}:{line} integrations[0].url: must use https:// (http:// only for localhost)",
    )


def test_parse_procedure_without_organization_skips_the_department_check():
    text = (
        (PROJECT_SAMPLES / DOG)
        .read_text()
        .replace("department: environment", "department: gone-since")
    )

    spec, errors = parse_procedure(
        text, organization=None, org_slug="sample-city", slug="dog-registration", rel_path=DOG
    )

    assert errors == []
    assert spec.department == "gone-since"
    assert spec.content_hash == hashlib.sha256(text.encode()).hexdigest()


def test_parse_organization_and_bundle_directly():
    org_text = "name: 町\ndepartments: []\n"
    org, errors = parse_organization(org_text, slug="a-town", rel_path="a-town/organization.yaml")
    assert org is None
    assert [str(e) for e in errors] == [
        f"a-town/organization.yaml:{line_of(org_text, 'departments:')} departments: must not be "
        "an empty list"
    ]

    bundle_text = "title: まとめて\nprocedures: [one-thing, one-thing]\n"
    bundle, errors = parse_bundle(
        bundle_text,
        organization_slug="a-town",
        slug="all",
        rel_path="a-town/all.bundle.yaml",
        procedure_slugs={"one-thing"},
    )
    assert bundle is None
    assert [str(e) for e in errors] == [
        f"a-town/all.bundle.yaml:{line_of(bundle_text, 'procedures:')} procedures[1]: procedure "
        "'one-thing' is listed twice"
    ]


# -- the management command ----------------------------------------------------------------


def test_validate_procedures_prints_each_error_and_fails(tmp_path):
    root = copy_samples(tmp_path)
    text = edit(root, DOG, "show_if: vaccinated", "show_if: vacinated")
    stderr = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("validate_procedures", str(root), stderr=stderr, stdout=io.StringIO())

    assert raised.value.returncode == 1
    assert str(raised.value) == "8 files checked, 1 error in 1 file"
    assert stderr.getvalue().splitlines() == [
        f"{DOG}:{line_of(text, 'vacinated')} pages[1].fields[6].show_if: unknown field "
        "'vacinated' (did you mean 'vaccinated'?)",
    ]


def test_validate_procedures_passes_on_the_samples():
    stdout = io.StringIO()

    call_command("validate_procedures", str(PROJECT_SAMPLES), stdout=stdout, stderr=io.StringIO())

    assert "8 files checked, no errors" in stdout.getvalue()


# -- robustness --------------------------------------------------------------------------------

_SAMPLE = (PROJECT_SAMPLES / DOG).read_text(encoding="utf-8")
_ORG_TEXT = (PROJECT_SAMPLES / CITY_ORG).read_text(encoding="utf-8")
_ORG, _ = parse_organization(_ORG_TEXT, slug="sample-city", rel_path=CITY_ORG)
# Single characters that matter to YAML, plus tokens that once broke a loader: an explicit
# tag on an empty value, aliases, a date that does not exist.
_CHARACTERS = list(":-{}[],'\"#&*!|>%@` \t\nayz0-9_\u3000é\x00") + [
    "",
    "  ",
    "- ",
    ": ",
    "!!int ",
    "&a ",
    "*a",
    "<<: ",
    "2026-13-01",
    "yes",
]


@st.composite
def mutated_sample(draw):
    lines = _SAMPLE.splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 3))):
        if len(lines) > 1:
            del lines[draw(st.integers(0, len(lines) - 1))]
    text = "".join(lines)
    for _ in range(draw(st.integers(0, 6))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.sampled_from(_CHARACTERS)) + text[at + 1 :]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_sample())
def test_loading_a_mutated_file_never_raises(text):
    spec, errors = parse_procedure(
        text, organization=_ORG, org_slug="sample-city", slug="dog-registration", rel_path=DOG
    )

    if spec is None:
        assert errors
    else:
        assert errors == []
    line_count = text.count("\n") + 1
    for error in errors:
        assert isinstance(error, LoadError)
        assert error.file == DOG
        assert 1 <= error.line <= line_count
        assert error.message
        assert str(error).startswith(f"{DOG}:{error.line} ")


def test_two_fields_may_share_a_profile_key(tmp_path):
    from forms_engine.procedure_format.loader import parse_procedure

    text = """
title: 連絡先
department: general
contact_email: email
pages:
  - id: p
    title: 連絡先
    fields:
      - {id: email, type: email, label: メール, profile: email}
      - {id: phone, type: tel, label: 電話, profile: phone}
      - {id: daytime_phone, type: tel, label: 日中の電話, profile: phone}
"""
    spec, errors = parse_procedure(
        text, organization=None, org_slug="test-town", slug="contact", rel_path="t/c.yaml"
    )
    assert errors == []
    assert [f.profile for f in spec.iter_fields()] == ["email", "phone", "phone"]
