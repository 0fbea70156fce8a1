"""Labels stored per language (`{"en": ..., "zh-hans": ...}`), for rows tenants can rename."""

from django.utils import translation

FALLBACK_ORDER = ("zh-hans", "en")


class Labels(dict):
    def current(self) -> str:
        """The label in the active language, else the first one present."""
        language = (translation.get_language() or "").lower()
        for code in (language, language.split("-")[0], *FALLBACK_ORDER):
            if self.get(code):
                return self[code]
        return next(iter(self.values()), "")
