"""System check: the procedures directory must load without errors."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_procedures(app_configs, **kwargs):
    from .spec.loader import load_tree

    root = settings.PROCEDURES_DIR
    if not root.exists():
        return [Error(f"PROCEDURES_DIR {root} does not exist", id="forms_engine.E001")]
    tree = load_tree(root, integration_types=tuple(settings.INTEGRATION_TARGETS))
    return [Error(str(e), id="forms_engine.E002") for e in tree.errors]
