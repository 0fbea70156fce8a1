"""Notifications: an in-app row per user, written in the deciding transaction, and an e-mail sent
once after it commits (a Celery task that carries its tenant; `emailed_at` is claimed by a
conditional update, so a redelivered task sends nothing twice)."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from workflows.models import Notification

logger = logging.getLogger(__name__)


def notify(users, kind: str, request, subject: str, body: str = "") -> list[Notification]:
    rows = Notification.objects.bulk_create(
        [
            Notification(user=user, kind=kind, request=request, subject=subject[:300], body=body)
            for user in users
        ]
    )
    ids, schema = [row.pk for row in rows], connection.schema_name
    if ids:
        transaction.on_commit(lambda: _queue(schema, ids))
    return rows


def _queue(schema: str, ids: list[int]) -> None:
    from workflows.tasks import email_notifications

    try:
        email_notifications.delay(schema, ids)
    except Exception:  # the rows stay un-e-mailed; the deadline sweep picks them up
        logger.warning("could not queue notification e-mails %s", ids, exc_info=True)


def email(ids: list[int]) -> int:
    """Send the e-mail of each notification not yet e-mailed; returns how many were sent."""
    sent = 0
    for notification in Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).select_related(
        "user"
    ):
        claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed or not notification.user.email:
            continue
        send_mail(
            notification.subject,
            notification.body or notification.subject,
            settings.DEFAULT_FROM_EMAIL,
            [notification.user.email],
        )
        sent += 1
    return sent


def email_unsent(limit: int = 500) -> int:
    """The sweep: e-mail notifications whose task was lost (older than a minute)."""
    stale = timezone.now() - timezone.timedelta(minutes=1)
    ids = list(
        Notification.objects.filter(emailed_at__isnull=True, created_at__lt=stale).values_list(
            "pk", flat=True
        )[:limit]
    )
    return email(ids)
