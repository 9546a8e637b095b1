"""The procedures directory: one folder per organization, walked into a ProcedureTree."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from forms_engine.procedure_format.model import LoadError, OrganizationSpec, ProcedureTree

from .bundles import BUNDLE_SUFFIX, parse_bundle
from .checks import FILE_PATH
from .integrations import known_integration_types
from .organizations import ORGANIZATION_FILE, SLUG_RE, parse_organization
from .procedures import parse_procedure


def _read_bytes(path: Path, rel_path: str) -> tuple[bytes | None, list[LoadError]]:
    try:
        return path.read_bytes(), []
    except OSError as exc:
        return None, [LoadError(rel_path, 1, FILE_PATH, f"cannot be read: {exc.strerror or exc}")]


def _slug_problem(name: str, what: str) -> str | None:
    if SLUG_RE.match(name):
        return None
    return (
        f"{what} {name!r} is not a valid slug: use 3 to 64 lower-case ASCII letters, digits "
        "and hyphens"
    )


def load_tree(root: str | Path, integration_types: Iterable[str] | None = None) -> ProcedureTree:
    """`integration_types`: the types accepted; None for every registered one."""
    root = Path(root)
    integration_types = known_integration_types(
        None if integration_types is None else tuple(integration_types)
    )
    tree = ProcedureTree(root=str(root))

    def fail(errors: list[LoadError], rel_path: str) -> None:
        tree.errors.extend(errors)
        tree.broken_files.add(rel_path)

    if not root.is_dir():
        tree.errors.append(
            LoadError(str(root), 1, FILE_PATH, "the procedures directory does not exist")
        )
        return tree

    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file():
            if entry.suffix in (".yaml", ".yml"):
                fail(
                    [
                        LoadError(
                            entry.name,
                            1,
                            FILE_PATH,
                            "files belong in an organization folder: "
                            f"<organization-slug>/{entry.name}",
                        )
                    ],
                    entry.name,
                )
            continue
        if entry.is_dir():
            _load_organization_folder(tree, entry, integration_types, fail)
    return tree


def _load_organization_folder(
    tree: ProcedureTree,
    folder: Path,
    integration_types: tuple[str, ...],
    fail: Callable[[list[LoadError], str], None],
) -> None:
    org_slug = folder.name
    procedure_files: list[tuple[str, Path]] = []
    bundle_files: list[tuple[str, Path]] = []
    for path in sorted(folder.iterdir()):
        rel = f"{org_slug}/{path.name}"
        if path.name.startswith(".") or path.name == ORGANIZATION_FILE:
            continue
        if path.is_dir():
            if any(path.rglob("*.yaml")) or any(path.rglob("*.yml")):
                fail(
                    [LoadError(rel, 1, FILE_PATH, "sub-folders are not loaded: move the files up")],
                    rel,
                )
            continue
        if path.suffix == ".yml":
            fail([LoadError(rel, 1, FILE_PATH, "use the extension .yaml, not .yml")], rel)
            continue
        if path.suffix != ".yaml":
            continue
        if path.name.endswith(BUNDLE_SUFFIX):
            bundle_files.append((path.name[: -len(BUNDLE_SUFFIX)], path))
        else:
            procedure_files.append((path.name[: -len(".yaml")], path))

    # Why the files of this folder cannot be loaded, if they cannot.
    blocked: str | None = None
    organization: OrganizationSpec | None = None
    slug_problem = _slug_problem(org_slug, "organization folder name")
    org_path = folder / ORGANIZATION_FILE
    org_rel = f"{org_slug}/{ORGANIZATION_FILE}"
    if slug_problem:
        blocked = f"not loaded: {slug_problem}"
    if org_path.is_file():
        raw, errors = _read_bytes(org_path, org_rel)
        if raw is not None:
            organization, errors = parse_organization(raw, slug=org_slug, rel_path=org_rel)
        if slug_problem:
            errors = [LoadError(org_rel, 1, FILE_PATH, slug_problem), *errors]
            organization = None
        if organization is None:
            fail(errors, org_rel)
            blocked = blocked or f"not loaded: {org_rel} has errors"
        else:
            tree.organizations[org_slug] = organization
    else:
        blocked = blocked or f"not loaded: the folder {org_slug} has no {ORGANIZATION_FILE}"

    ok_procedures: set[str] = set()
    broken_procedures: set[str] = set()
    for slug, path in procedure_files:
        rel = f"{org_slug}/{path.name}"
        errors = []
        if blocked:
            errors.append(LoadError(rel, 1, FILE_PATH, blocked))
        problem = _slug_problem(slug, "file name")
        if problem:
            errors.append(LoadError(rel, 1, FILE_PATH, problem))
        raw, read_errors = _read_bytes(path, rel)
        errors.extend(read_errors)
        spec = None
        if raw is not None:
            spec, parse_errors = parse_procedure(
                raw,
                organization=organization,
                org_slug=org_slug,
                slug=slug,
                rel_path=rel,
                integration_types=integration_types,
            )
            errors.extend(parse_errors)
        if errors or spec is None:
            fail(errors, rel)
            broken_procedures.add(slug)
        else:
            tree.procedures[(org_slug, slug)] = spec
            ok_procedures.add(slug)

    for slug, path in bundle_files:
        rel = f"{org_slug}/{path.name}"
        errors = []
        if blocked:
            errors.append(LoadError(rel, 1, FILE_PATH, blocked))
        problem = _slug_problem(slug, "bundle file name")
        if problem:
            errors.append(LoadError(rel, 1, FILE_PATH, problem))
        raw, read_errors = _read_bytes(path, rel)
        errors.extend(read_errors)
        bundle = None
        if raw is not None:
            bundle, parse_errors = parse_bundle(
                raw,
                organization_slug=org_slug,
                slug=slug,
                rel_path=rel,
                procedure_slugs=None if blocked else ok_procedures,
                broken_procedures=broken_procedures,
            )
            errors.extend(parse_errors)
        if errors or bundle is None:
            fail(errors, rel)
        else:
            tree.bundles[(org_slug, slug)] = bundle
