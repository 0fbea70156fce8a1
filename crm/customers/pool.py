"""The customer pool (公海): claiming, releasing, automatic returns, handing over a rep's book.

An account with no owner is in the pool. The tenant's PoolPolicy sets the caps (claims per rep
per day, accounts a rep may hold), the cooldown before a rep may reclaim an account they lost,
and the idle periods after which an account returns by itself. Every movement is a PoolEvent.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.customers.models import Account, PoolEvent, PoolPolicy
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.models import StandardRecord
from crm.records.services import get_for, remind
from crm.service.models import Case
from crm_platform.errors import Conflict, LimitReached

LOST = (PoolEvent.Action.RELEASE, PoolEvent.Action.RETURN)


def policy() -> PoolPolicy:
    """The tenant's policy row, created with the defaults on first use."""
    return PoolPolicy.objects.first() or PoolPolicy.objects.create()


def _log(account, action, user, actor, reason="", at=None) -> None:
    PoolEvent.objects.create(
        account=account, action=action, user=user, actor=actor, reason=reason, at=at or timezone.now()
    )


def _take(account: Account, owner, now) -> None:
    account.place(owner=owner, org_unit=getattr(owner, "org_unit", None), channel_node=account.channel_node)
    account.owned_since = now
    account.save()


def claim_from_pool(*, actor, account) -> Account:
    """`actor` takes an unowned account, within the daily cap, the holding cap and the cooldown.

    The rep's own row is locked first, so two claims by the same rep are counted one after the
    other; the account row is locked next, so two reps cannot both take it.
    """
    with transaction.atomic(), acting_as(actor):
        rules = policy()
        now = timezone.now()
        actor._meta.model.objects.select_for_update().filter(pk=actor.pk).first()
        account = get_for(actor, Account, pk_of(account), for_update=True)
        if not account.in_pool:
            raise Conflict(_("This customer already has an owner."))
        start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        claimed_today = PoolEvent.objects.filter(
            user=actor, action=PoolEvent.Action.CLAIM, at__gte=start_of_day
        ).count()
        if claimed_today >= rules.daily_claim_cap:
            raise LimitReached(
                _("You have claimed %(n)d customers today, the daily limit.") % {"n": claimed_today}
            )
        holding = Account.objects.filter(owner=actor).count()
        if holding >= rules.holding_cap:
            raise LimitReached(_("You hold %(n)d customers, the limit.") % {"n": holding})
        lost = (
            PoolEvent.objects.filter(account=account, user=actor, action__in=LOST)
            .order_by("-at")
            .values_list("at", flat=True)
            .first()
        )
        if lost and now < lost + timedelta(days=rules.cooldown_days):
            raise Conflict(
                _("You released this customer on %(day)s; you may claim it again from %(again)s.")
                % {
                    "day": timezone.localdate(lost).isoformat(),
                    "again": timezone.localdate(lost + timedelta(days=rules.cooldown_days)).isoformat(),
                }
            )
        _take(account, actor, now)
        _log(account, PoolEvent.Action.CLAIM, actor, actor, at=now)
        publish("account.claimed", account, owner=actor.pk)
        return account


def _to_pool(account: Account, action, actor, reason: str, now) -> None:
    previous = account.owner
    account.place(owner=None, org_unit=None, channel_node=account.channel_node)
    account.owned_since = None
    account.save()
    _log(account, action, previous, actor, reason, at=now)
    publish("account.pooled", account, previous_owner=getattr(previous, "pk", None), reason=reason)


def release_to_pool(*, actor, account, reason: str = "") -> Account:
    """The owner (or someone who may see the account) gives it back to the pool."""
    with transaction.atomic(), acting_as(actor):
        account = get_for(actor, Account, pk_of(account), for_update=True)
        if account.in_pool:
            raise Conflict(_("This customer is already in the pool."))
        _to_pool(account, PoolEvent.Action.RELEASE, actor, reason, timezone.now())
        return account


def assign(*, actor, account, owner, reason: str = "") -> Account:
    """A manager gives an account to `owner`, outside the claim caps."""
    with transaction.atomic(), acting_as(actor):
        account = get_for(actor, Account, pk_of(account), for_update=True)
        _take(account, owner, timezone.now())
        _log(account, PoolEvent.Action.ASSIGN, owner, actor, reason)
        publish("account.assigned", account, owner=owner.pk)
        return account


def _owned_children():
    """Standard records that hang off an account (opportunities, follow-ups, quotes...): they move
    with it. Found from the model graph, so apps added later are covered."""
    for relation in Account._meta.related_objects:
        model = relation.related_model
        if issubclass(model, StandardRecord) and not relation.many_to_many:
            yield model, relation.field.name


def transfer_accounts(*, actor, from_user, to_user, reason: str = "") -> int:
    """Hand a departing rep's whole book to another rep: accounts, the records under them that the
    departing rep owned, and the open service cases assigned to them. History stays with the
    records. Returns the accounts moved."""
    with transaction.atomic(), acting_as(actor, transfer_from=from_user.pk):
        accounts = list(Account.objects.select_for_update().filter(owner=from_user))
        now = timezone.now()
        for account in accounts:
            _take(account, to_user, now)
            _log(account, PoolEvent.Action.TRANSFER, to_user, actor, reason or str(from_user), at=now)
        for model, field in _owned_children():
            model.objects.filter(**{f"{field}__in": accounts, "owner": from_user}).update(
                owner=to_user,
                org_unit=to_user.org_unit,
                org_path=to_user.org_unit.path if to_user.org_unit else "",
            )
        Case.objects.filter(assignee=from_user, status__in=Case.OPEN_STATUSES).update(assignee=to_user)
        return len(accounts)


def touch_account_activity(account, at=None) -> None:
    """A follow-up was logged: the account is not idle. Called by the follow-up service."""
    at = at or timezone.now()
    Account.objects.filter(pk=pk_of(account)).filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at)
    ).update(last_activity_at=at)


def _held_since_before(at) -> Q:
    # Accounts created with an owner (imports, the demo) count from their creation.
    return Q(owned_since__lte=at) | Q(owned_since__isnull=True, created_at__lte=at)


def _idle(rules: PoolPolicy, at):
    """Owned accounts idle at `at`: no follow-up, or no deal, for longer than the policy allows.

    An account's clock starts when its owner took it, so a fresh claim is never returned at once.
    """
    no_follow_up = at - timedelta(days=rules.return_without_follow_up_days)
    no_deal = at - timedelta(days=rules.return_without_deal_days)
    follow_up_idle = _held_since_before(no_follow_up) & (
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lte=no_follow_up)
    )
    deal_idle = _held_since_before(no_deal) & (Q(last_deal_at__isnull=True) | Q(last_deal_at__lte=no_deal))
    return Account.objects.filter(owner__isnull=False).filter(follow_up_idle | deal_idle)


def _return_due(rules: PoolPolicy, account: Account):
    """When the account falls back to the pool if nothing happens: fixed for a given state."""
    held = account.owned_since or account.created_at
    follow_up = max(held, account.last_activity_at or held)
    deal = max(held, account.last_deal_at or held)
    return min(
        follow_up + timedelta(days=rules.return_without_follow_up_days),
        deal + timedelta(days=rules.return_without_deal_days),
    )


def return_idle_accounts(now=None) -> int:
    """Periodic job: return idle accounts to the pool, and warn owners of returns coming soon.

    Idempotent: a returned account has no owner, so a second run finds nothing more to do, and
    warnings are reminders keyed on their due time.
    """
    now = now or timezone.now()
    rules = policy()
    returned = 0
    with transaction.atomic(), acting_as(None, job="return_idle_accounts"):
        for account in _idle(rules, now).select_for_update(of=("self",)).select_related("owner"):
            _to_pool(account, PoolEvent.Action.RETURN, None, _("No follow-up or deal in time"), now)
            returned += 1
    warn_at = now + timedelta(days=rules.warn_days_before_return)
    for account in _idle(rules, warn_at).select_related("owner"):
        remind(
            account.owner,
            "pool_return_warning",
            account,
            _("%(name)s returns to the customer pool unless you follow up.") % {"name": account.name},
            _return_due(rules, account),
        )
    return returned
