"""What the shipped roles may do before a tenant admin changes anything.

Letters per object: c(reate) r(ead) u(pdate) d(elete) e(xport). An ObjectPermission row for a
role and object replaces the entry here; a role the tenant made itself starts with nothing.

Custom objects ("custom.<name>") take the role's CUSTOM_OBJECTS entry until an admin sets their
own rows: staff work with them within their data level; dealers get none by default, because a
custom object may hold the brand's internal data and the portal must not reveal it unasked.
"""

CUSTOMERS = ("customers.account", "customers.contact", "customers.lead")
SELLING = ("sales.opportunity", "activities.followup", "activities.visitplan", "quotes.quote")
CONTRACTING = ("contracts.contract", "orders.order", "orders.delivery")
FINANCE = ("finance.paymentplan", "finance.payment", "finance.invoice")
SERVICE = ("service.case",)
DEALING = ("dealers.dealregistration",)
REBATES = ("dealers.rebateaccrual",)
# The product catalogue is shared by the whole tenant; everyone sells from it, admins keep it.
CATALOG = ("catalog.product",)
EVERYTHING = "*"
CUSTOM_OBJECTS = "custom.*"


def _grant(letters: str, *groups: tuple[str, ...]) -> dict[str, str]:
    return {key: letters for group in groups for key in group}


SYSTEM_ROLES: dict[str, dict[str, str]] = {
    "admin": {EVERYTHING: "crude"},
    "sales_manager": _grant("crude", CUSTOMERS, SELLING, CONTRACTING, SERVICE, DEALING, (CUSTOM_OBJECTS,))
    | _grant("re", FINANCE, REBATES, CATALOG),
    "sales_rep": _grant("cru", CUSTOMERS, SELLING, CONTRACTING, DEALING, (CUSTOM_OBJECTS,))
    | _grant("cr", SERVICE)
    | _grant("r", FINANCE, CATALOG),
    "finance": _grant("re", CUSTOMERS, SELLING, SERVICE, DEALING, (CUSTOM_OBJECTS,))
    | _grant("crue", CONTRACTING)
    | _grant("crude", FINANCE, REBATES)
    | _grant("r", CATALOG),
    "service": _grant("cru", SERVICE, ("activities.followup",))
    | _grant("r", CUSTOMERS, CONTRACTING, ("sales.opportunity",), (CUSTOM_OBJECTS,), CATALOG),
    "dealer_admin": _grant("crue", CUSTOMERS, ("sales.opportunity", "activities.followup", "orders.order"))
    | _grant("crue", DEALING, ("activities.visitplan",))
    | _grant("r", ("quotes.quote", "contracts.contract", "orders.delivery"), FINANCE, REBATES, CATALOG)
    | _grant("cr", SERVICE),
    "dealer_user": _grant("cru", CUSTOMERS, ("sales.opportunity", "activities.followup"), DEALING)
    | _grant("cr", ("orders.order",), SERVICE)
    | _grant("r", ("orders.delivery", "finance.payment", "finance.invoice"), CATALOG),
}

LETTERS = {"create": "c", "read": "r", "update": "u", "delete": "d", "export": "e"}


def default_allows(role_code: str | None, object_key: str, action: str) -> bool:
    """Whether a shipped role may `action` records of `object_key` when no row says otherwise."""
    grants = SYSTEM_ROLES.get(role_code or "", {})
    letters = grants.get(object_key)
    if letters is None and object_key.startswith("custom."):
        letters = grants.get(CUSTOM_OBJECTS)
    if letters is None:
        letters = grants.get(EVERYTHING, "")
    return LETTERS[action] in letters
