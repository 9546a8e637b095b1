"""System check: the procedures directory loads without errors."""

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_procedures(app_configs, **kwargs):
    from .procedure_format.loader import load_tree

    root = settings.PROCEDURES_DIR
    if not root.exists():
        return [Error(f"PROCEDURES_DIR {root} does not exist", id="forms_engine.E001")]
    tree = load_tree(root, integration_types=tuple(settings.INTEGRATION_TARGETS))
    # A warning, not an error: a broken file never replaces the live version, so the
    # service keeps serving the procedures that loaded (`manage.py check --fail-level
    # WARNING` or `validate_procedures` gate a deployment).
    return [
        Warning(str(e), hint="fix the file; its live version stays", id="forms_engine.W002")
        for e in tree.errors
    ]
