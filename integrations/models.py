"""Models of the integrations room, one module per concern."""

from integrations.api.models import ApiToken, FeedEntry

__all__ = ["ApiToken", "FeedEntry"]
