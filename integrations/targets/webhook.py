"""`type: webhook`: a signed POST of the submission's JSON payload to a back-office URL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .base import IntegrationType
from .yaml_checks import https_url

if TYPE_CHECKING:
    from forms_engine.procedure_format.loader.checks import Entry
    from forms_engine.procedure_format.loader.pages import ProcedureCheck
    from integrations.models import Delivery


class WebhookTarget(IntegrationType):
    key = "webhook"
    required_keys: ClassVar[tuple[str, ...]] = ("url", "secret")

    def check_config(
        self, p: ProcedureCheck, entry: Entry, path: KeyPath, config: dict[str, Any]
    ) -> None:
        if "url" in entry:
            url = https_url(p, entry["url"], path + ("url",))
            if url is not None:
                config["url"] = url
        if "secret" in entry:
            secret = p.secret(entry["secret"], path + ("secret",))
            if secret is not None:
                config["secret"] = secret

    def deliver(self, delivery: Delivery, config: dict[str, Any]) -> int | None:
        from integrations.webhooks.send import webhook_send

        return webhook_send(delivery, config)
