"""Who may enter ``/manage/``: the tenant's admins, nobody else.

Anonymous visitors go to the login page; a signed-in member who is not an admin of this tenant gets
404 (the console does not exist for them, as with every page of another tenant).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = getattr(request, "membership", None)
        if membership is None:
            return redirect_to_login(request.get_full_path())
        if not membership.is_admin:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
