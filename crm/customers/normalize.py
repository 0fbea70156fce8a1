"""Standard forms of what customers type: company names, phones, e-mails, credit codes.

The same functions feed storage and duplicate matching, so "杭州 数澜科技有限公司" and
"杭州数澜科技" meet, and so do "0571-8523 1107" and "+86 571 8523 1107".
"""

import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

# Longest first, so "股份有限公司" is dropped whole rather than leaving "股份".
LEGAL_SUFFIXES = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "有限公司",
        "集团公司",
        "集团",
        "公司",
        "分公司",
        "co.,ltd.",
        "co.,ltd",
        "co.ltd.",
        "co.ltd",
        "company limited",
        "limited",
        "ltd.",
        "ltd",
        "inc.",
        "inc",
        "corp.",
        "corp",
        "corporation",
        "llc",
        "gmbh",
    ],
    key=len,
    reverse=True,
)
# After NFKC, full-width brackets and commas are already half-width.
_NOISE = re.compile(r"[\s()\[\]【】·,.。'\"“”&-]+")


def company_key(name: str) -> str:
    """Half-width, lower case, no spaces or punctuation, no legal suffix."""
    text = unicodedata.normalize("NFKC", name or "").lower().strip()
    changed = True
    while changed:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].rstrip(" ,.")
                changed = True
    return _NOISE.sub("", text)


def phone(raw: str, field: str = "phone") -> str:
    """E.164 (+8657185231107), read in the tenant's default region; '' stays ''."""
    if not (raw or "").strip():
        return ""
    try:
        number = phonenumbers.parse(raw, settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ValidationError({field: [ValidationError(_("Not a valid phone number."), code="invalid")]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email(raw: str) -> str:
    return (raw or "").strip().lower()


def credit_code(raw: str, field: str = "credit_code") -> str:
    """The 18-character unified social credit code (统一社会信用代码), checksum verified."""
    if not (raw or "").strip():
        return ""
    try:
        return uscc.validate(raw)
    except StdnumError:
        raise ValidationError(
            {field: [ValidationError(_("Not a valid unified social credit code."), code="invalid")]}
        ) from None
