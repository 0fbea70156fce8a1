"""What a sign-up must satisfy, field by field. Messages are translatable; codes are stable for clients."""

import re

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from tenants.models import Tenant

SUBDOMAIN_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")

# Names that would shadow the platform's own hosts, or mislead users into trusting a tenant.
RESERVED_SUBDOMAINS = frozenset(
    [
        "admin",
        "api",
        "app",
        "apps",
        "auth",
        "billing",
        "blog",
        "cdn",
        "dashboard",
        "dev",
        "docs",
        "email",
        "ftp",
        "graphql",
        "help",
        "id",
        "imap",
        "internal",
        "login",
        "mail",
        "media",
        "mx",
        "ns",
        "ns1",
        "ns2",
        "pop",
        "portal",
        "public",
        "root",
        "security",
        "signup",
        "smtp",
        "sso",
        "staging",
        "static",
        "status",
        "support",
        "system",
        "template",
        "tenant",
        "test",
        "www",
        "www1",
        "www2",
    ]
)


def schema_name_for(slug: str) -> str:
    # Subdomains hold no underscore, so this mapping cannot collide.
    return "t_" + slug.replace("-", "_")


def subdomain_errors(slug: str) -> list[ValidationError]:
    if not slug:
        return [ValidationError(_("Choose a subdomain."), code="required")]
    if not SUBDOMAIN_PATTERN.match(slug) or "--" in slug:
        return [
            ValidationError(
                _(
                    "Use 3 to 40 lower-case letters, digits or single hyphens, "
                    "starting and ending with a letter or digit."
                ),
                code="invalid",
            )
        ]
    if slug in RESERVED_SUBDOMAINS or slug.startswith(("xn--", "tenant-")):
        return [ValidationError(_("This subdomain is reserved."), code="reserved")]
    if Tenant.objects.filter(slug=slug).exists():
        return [ValidationError(_("This subdomain is already taken."), code="taken")]
    return []


def check_sign_up(*, company_name: str, slug: str, admin_name: str, email: str, password: str) -> None:
    """Raise one ValidationError listing every field that is wrong."""
    errors: dict[str, list[ValidationError]] = {}
    if not company_name.strip():
        errors["company_name"] = [ValidationError(_("Enter your company name."), code="required")]
    elif len(company_name) > 200:
        errors["company_name"] = [ValidationError(_("At most 200 characters."), code="max_length")]
    if slug_errors := subdomain_errors(slug):
        errors["slug"] = slug_errors
    if not admin_name.strip():
        errors["admin_name"] = [ValidationError(_("Enter your name."), code="required")]
    elif len(admin_name) > 150:
        errors["admin_name"] = [ValidationError(_("At most 150 characters."), code="max_length")]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [ValidationError(_("Enter a valid e-mail address."), code="invalid")]
    try:
        from accounts.models import User

        password_validation.validate_password(password, User(email=email, full_name=admin_name))
    except ValidationError as exc:
        errors["password"] = exc.error_list
    if errors:
        raise ValidationError(errors)
