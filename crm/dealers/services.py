"""The dealer portal's operations in one place; each lives in the module named after its concern.

registrations.py  deal registrations (报备): submit, approve, reject, convert, the expiry job
reviewers.py      who reviews a registration (the one rule)
conflicts.py      conflicts with open deals and other dealers' registrations
rebates.py        rebate policies (返利) and accruals per node and period
performance.py    channel performance over each node's subtree
"""

from crm.dealers.performance import channel_performance, node_performance
from crm.dealers.rebates import accrue_rebates, confirm_rebate, pay_out_rebate, set_rebate_policy
from crm.dealers.registrations import (
    approve_registration,
    configure_registrations,
    convert_registration,
    expire_registrations,
    reject_registration,
    submit_registration,
)
from crm.dealers.reviewers import may_review, reviewers_of

__all__ = [
    "accrue_rebates",
    "approve_registration",
    "channel_performance",
    "configure_registrations",
    "confirm_rebate",
    "convert_registration",
    "expire_registrations",
    "may_review",
    "node_performance",
    "pay_out_rebate",
    "reject_registration",
    "reviewers_of",
    "set_rebate_policy",
    "submit_registration",
]
