"""Load a procedures directory into typed specs, reporting every error at once.

Layout: `<root>/<org-slug>/organization.yaml`, `<proc-slug>.yaml`,
`<bundle-slug>.bundle.yaml`. Each problem becomes a `LoadError(file, line, path, message)`
that prints as `sample-city/dog-registration.yaml:41 pages[1].fields[3].show_if: ...`.
A file with any error is listed in `tree.broken_files` and never yields a spec: a broken
file must not replace the version that is live.

Rules this loader adds where the format page leaves a choice:

- Scope of conditions. A field inside a group has one value per entry, so a condition
  outside the group cannot name it (it may name the group itself: `len(kids) > 0`). A
  `show_if` on a field inside a group may name its siblings (evaluated per entry), its
  own group, and fields outside groups.
- Order of conditions. A page's `show_if` may only name fields of earlier pages: the
  decision to show or skip a page is taken before its fields are answered. A field's
  `show_if` may name fields of its own page or earlier pages, never a later page (not
  answered yet) nor itself, and conditions on one page must not depend on each other in
  a circle. Fee `when`/`quantity` run after the last page and may name any field
  outside groups.
- Scalars where the format wants text are taken as written: YAML 1.1 reads `yes`, `no`,
  `on`, `off` as booleans, so `{value: yes}` is the option value "yes" and
  `{ja: いいえ, en: No}` keeps "No". Keys that want a boolean (`required`, `era`,
  `integer`) accept true/false and the YAML 1.1 words.
- Unknown keys anywhere are errors, with a "did you mean" hint, so that `showif:` does
  not silently leave a field always visible.
- Defaults filled in `FieldSpec.params`: file `accept` (every kind), `max_size` (10 MB),
  `max_files` (1), `resize_images` (None); name `kana` ("none"); number `integer`
  (True); date `era` (False); group `repeat_min` (0), `repeat_max` (10). A fee without
  `methods` offers card and konbini. A csv integration without `encoding` gets utf-8.
- Ids: field ids follow the page id pattern `[a-z][a-z0-9_]*`, since conditions name
  them, and may not be a keyword of the condition language (`and`, `true`, ...).
- A profile key is not used inside a group (a group has many entries, a profile one
  value); several fields may share one. A postal code `fills` an address field of its
  own scope (both outside groups, or both in the same group).
- Files of an organization whose organization.yaml is missing or broken are refused,
  but still checked, so that their own errors are reported in the same run.

The package, by concern: `checks` (reading a file's YAML, typed values, keys, errors),
`organizations` and `bundles`, `procedures` (the top level of a procedure file) with
`pages` (pages and fields), `field_types` and `field_params` (what each field type
takes), `conditions` (scope, types and circles of conditions), `references` (fills,
contact_email), `accepting`, `fees`, `integrations` and `cron`, and `tree` (the
directory walk).
"""

from .bundles import parse_bundle
from .checks import TRUSTED, SourceTrust, org_env_prefix, parse_size, suggest
from .cron import check_cron
from .organizations import parse_organization
from .procedures import parse_procedure
from .tree import load_tree

__all__ = [
    "TRUSTED",
    "SourceTrust",
    "org_env_prefix",
    "check_cron",
    "load_tree",
    "parse_bundle",
    "parse_organization",
    "parse_procedure",
    "parse_size",
    "suggest",
]
