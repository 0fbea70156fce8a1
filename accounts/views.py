from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    """The tenant's landing page until the single-page app takes over."""
    return render(request, "accounts/home.html", {"tenant": request.tenant})
