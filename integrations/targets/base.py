"""The base of every integration type: the check of its YAML keys (asked by the core
loader through `forms_engine.procedure_format.integration_types`) and its delivery."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from forms_engine.procedure_format.loader.checks import Entry
    from forms_engine.procedure_format.loader.pages import ProcedureCheck
    from forms_engine.procedure_format.yamlsource import Path as KeyPath
    from integrations.models import Delivery


class DeliveryError(Exception):
    """A delivery attempt that failed. `kind`: a short error kind for the attempt log (never
    personal data); `permanent`: no retry can help (the delivery is dead at once);
    `retry_after`: seconds the receiver asked us to wait (Retry-After)."""

    def __init__(
        self,
        kind: str,
        *,
        permanent: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(kind)
        self.kind = kind
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after


class IntegrationType:
    """One `type:` of `integrations:` entries."""

    key: ClassVar[str]
    required_keys: ClassVar[tuple[str, ...]] = ()
    optional_keys: ClassVar[tuple[str, ...]] = ()
    #: Delivered by a scheduled run (csv) rather than one send per submission: its
    #: Delivery rows stay pending until that run picks them up.
    scheduled: ClassVar[bool] = False

    def check_config(
        self, p: ProcedureCheck, entry: Entry, path: KeyPath, config: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    def scheduled_runs_due(self, now: datetime) -> list[int]:
        """For scheduled types: plan the runs whose schedule fired by `now` and return the
        ids of every run to write now (see `scheduled_run_write`)."""
        return []

    def scheduled_run_write(self, run_id: int) -> str:
        """For scheduled types: write one run (idempotently); its state afterwards."""
        raise NotImplementedError(f"{self.key} has no scheduled runs")

    def deliver(self, delivery: Delivery, config: dict[str, Any]) -> int | None:
        """Send one delivery (once; the caller retries). Returns the receiver's status code
        when there is one; raises DeliveryError on failure."""
        raise NotImplementedError(f"{self.key} deliveries are not sent one by one")
