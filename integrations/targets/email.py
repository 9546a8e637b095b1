"""`type: email`: a notice to the department's addresses that a submission arrived, with a
link to it in the staff inbox and no personal data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from forms_engine.procedure_format.loader.checks import EMAIL_RE
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .base import IntegrationType

if TYPE_CHECKING:
    from forms_engine.procedure_format.loader.checks import Entry
    from forms_engine.procedure_format.loader.pages import ProcedureCheck
    from integrations.models import Delivery


class EmailTarget(IntegrationType):
    key = "email"
    required_keys: ClassVar[tuple[str, ...]] = ("to",)

    def check_config(
        self, p: ProcedureCheck, entry: Entry, path: KeyPath, config: dict[str, Any]
    ) -> None:
        c = p.c
        if "to" in entry:
            recipients = []
            for index, item in enumerate(
                c.sequence(entry["to"], path + ("to",), "email addresses")
            ):
                item_path = path + ("to", index)
                address = c.string(item, item_path, "an email address")
                if address is None:
                    continue
                if p.env_reference(address, item_path):
                    recipients.append(address)
                elif not EMAIL_RE.match(address):
                    c.error(item_path, f"{address!r} is not an email address")
                else:
                    recipients.append(address)
            config["to"] = tuple(recipients)

    def deliver(self, delivery: Delivery, config: dict[str, Any]) -> int | None:
        from integrations.notices import delivery_notice_send

        delivery_notice_send(delivery, config)
        return None
