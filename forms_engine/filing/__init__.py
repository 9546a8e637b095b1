"""The filing layer: a filing in progress as the resident sees it, and what a page does.

Pure logic over specs and answer dicts; the database is touched by forms_engine.services,
HTTP by forms_engine.views.

- `conditions`: which fields and pages the answers make visible;
- `steps`: `FilingView` (the pinned specs of a draft with its answers) and its `Step`s;
- `pages`: reading and validating a posted page (`process_page`);
- `rendering`: the HTML of a page's fields and of the confirmation rows;
- `fees`: the fee items that apply;
- `actions`: the page's buttons besides Next, Back and save (add or remove a group entry,
  fill the address from the postal code, remove a file), so they work without JavaScript.

Callers import from `forms_engine.filing`: every name is re-exported here.
"""

from .actions import ActionOutcome, page_action
from .conditions import condition_json, entry_env, eval_env, hidden_among, holds
from .fees import FEE_LIMIT, fee_lines
from .pages import PageResult, field_name, process_page, raw_from_answers, storable
from .rendering import display_group, display_rows, render_fields, render_group
from .steps import FilingView, Step

__all__ = [
    "FEE_LIMIT",
    "ActionOutcome",
    "FilingView",
    "PageResult",
    "Step",
    "condition_json",
    "display_group",
    "display_rows",
    "entry_env",
    "eval_env",
    "fee_lines",
    "field_name",
    "hidden_among",
    "holds",
    "page_action",
    "process_page",
    "raw_from_answers",
    "render_fields",
    "render_group",
    "storable",
]
