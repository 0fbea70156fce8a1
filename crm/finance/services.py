"""The finance app's operations in one place; each lives in the module named after its concern.

credit.py       credit profiles, the credit check, holds, releases and the credit log
payments.py     payment plans (分期回款), payments (回款) and their allocation to instalments
invoices.py     VAT invoices against orders
receivables.py  receivables per account, overdue figures, the aging report
reminders.py    periodic job: overdue instalment reminders
"""

from crm.finance.credit import (
    CREDIT_CONTROLLER_ROLES,
    CreditBlocked,
    check_account_credit,
    check_credit,
    release_credit_hold,
    request_credit_release_approval,
    set_credit_profile,
)
from crm.finance.invoices import issue_invoice, void_invoice
from crm.finance.payments import record_payment, reverse_payment, set_payment_plan
from crm.finance.receivables import account_receivables, aging_report
from crm.finance.reminders import remind_overdue_instalments

__all__ = [
    "CREDIT_CONTROLLER_ROLES",
    "CreditBlocked",
    "account_receivables",
    "aging_report",
    "check_account_credit",
    "check_credit",
    "issue_invoice",
    "record_payment",
    "release_credit_hold",
    "remind_overdue_instalments",
    "request_credit_release_approval",
    "reverse_payment",
    "set_credit_profile",
    "set_payment_plan",
    "void_invoice",
]
