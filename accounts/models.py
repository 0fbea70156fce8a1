import pghistory
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.stamp import decides_access
from crm.records.audit import tracked
from crm_platform.i18n import Labels


@decides_access
@tracked
class Role(models.Model):
    """What a group of users may do. Object permissions and data scopes hang off this row."""

    class DataLevel(models.TextChoices):
        OWN = "own", _("Own records")
        UNIT = "unit", _("My unit")
        SUBTREE = "subtree", _("My unit and below")
        ALL = "all", _("All records")

    code = models.SlugField(max_length=50, unique=True)
    labels = models.JSONField(
        help_text="Display name per language, e.g. {'en': 'Finance', 'zh-hans': '财务'}"
    )
    data_level = models.CharField(max_length=10, choices=DataLevel.choices, default=DataLevel.OWN)
    is_portal = models.BooleanField(default=False, help_text="Dealer roles log into the channel portal.")
    is_system = models.BooleanField(default=False, help_text="Shipped with every tenant; cannot be deleted.")
    max_discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return Labels(self.labels).current() or self.code


@decides_access
class OrgUnit(models.Model):
    """A department or team in the company's org tree. `path` is materialised like the channel tree's."""

    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=500, db_index=True, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        indexes = [models.Index(fields=["path"], name="orgunit_path_prefix", opclasses=["text_pattern_ops"])]

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("A user needs an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


# Only the columns that decide access are audited: a login must not write an event.
@pghistory.track(
    pghistory.InsertEvent("created"),
    pghistory.UpdateEvent("updated"),
    fields=["role", "org_unit", "manager", "is_active"],
    model_name="UserAccessEvent",
)
class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. The table exists per schema, so an account never spans tenants."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    language = models.CharField(max_length=10, default="zh-hans")
    role = models.ForeignKey(Role, null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    org_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    # For approval routing ("the submitter's manager, N levels up") and the departing-rep handover.
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    is_active = models.BooleanField(default=True)
    # In the public schema: platform staff who may use the admin. In a tenant: unused.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name
