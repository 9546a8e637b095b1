"""`<slug>.bundle.yaml`: several procedures of one organization filed together."""

from __future__ import annotations

from forms_engine.procedure_format.model import BundleSpec, LoadError
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .checks import read_yaml, suggest

BUNDLE_SUFFIX = ".bundle.yaml"
BUNDLE_KEYS = ("title", "description", "procedures")


def parse_bundle(
    text: str | bytes,
    *,
    organization_slug: str,
    slug: str,
    rel_path: str,
    procedure_slugs: set[str] | None,
    broken_procedures: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[BundleSpec | None, list[LoadError]]:
    """`procedure_slugs`: procedures of the organization that loaded without errors
    (None: do not check, e.g. when the organization itself is broken)."""
    check, data, content_hash, errors = read_yaml(text, rel_path)
    if check is None:
        return None, errors
    if data is None:
        return None, check.result()
    check.check_keys(data, (), BUNDLE_KEYS, ("title", "procedures"))
    title = check.text(data["title"], ("title",)) if "title" in data else None
    description = (
        check.text(data["description"], ("description",)) if "description" in data else None
    )
    slugs: list[str] = []
    if "procedures" in data:
        seen: set[str] = set()
        entries = check.sequence(data["procedures"], ("procedures",), "procedure slugs")
        for index, entry in enumerate(entries):
            path: KeyPath = ("procedures", index)
            name = check.string(entry, path, "a procedure slug")
            if name is None:
                continue
            if name in seen:
                check.error(path, f"procedure {name!r} is listed twice")
                continue
            seen.add(name)
            if procedure_slugs is not None and name not in procedure_slugs:
                if name in broken_procedures:
                    check.error(
                        path,
                        f"procedure {name!r} has errors, so the bundle cannot include it "
                        f"(see {organization_slug}/{name}.yaml)",
                    )
                else:
                    check.error(
                        path,
                        f"no procedure {name!r} in {organization_slug}"
                        f"{suggest(name, procedure_slugs)}",
                    )
                continue
            slugs.append(name)
    if check.errors or title is None:
        return None, check.result()
    return (
        BundleSpec(
            organization=organization_slug,
            slug=slug,
            title=title,
            procedures=tuple(slugs),
            source_path=rel_path,
            content_hash=content_hash,
            description=description,
        ),
        [],
    )
