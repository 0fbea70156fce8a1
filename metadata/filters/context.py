"""What a filter's variables and relative dates are resolved against: who acts, when, where."""

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection
from django.utils import timezone


@dataclass(frozen=True)
class FilterContext:
    """`user` answers {"var": "me"} and {"var": "my_org_unit"}; `now` pins the clock (default:
    django.utils.timezone.now()); days are the tenant's (its time zone, else settings.TIME_ZONE)."""

    user: Any = None
    now: datetime | None = None
    timezone: tzinfo | None = None

    def zone(self) -> tzinfo:
        if self.timezone is not None:
            return self.timezone
        name = getattr(getattr(connection, "tenant", None), "time_zone", None) or settings.TIME_ZONE
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(settings.TIME_ZONE)

    def clock(self) -> datetime:
        return self.now or timezone.now()

    def today(self) -> date:
        return self.clock().astimezone(self.zone()).date()

    def variable(self, name: str):
        """The variable's value, or None when the context has none (no user, a user without a unit)."""
        if name == "me":
            return getattr(self.user, "pk", None)
        if name == "my_org_unit":
            return getattr(self.user, "org_unit_id", None)
        if name == "today":
            return self.today()
        return self.clock()
