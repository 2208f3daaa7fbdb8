"""``/profile/``: what a member sets for themselves — their name and the time zone every time on
the desk is shown in (blank: the browser's zone, then the tenant's)."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from .models import User


@cache
def _zone_choices() -> list[tuple[str, str | Promise]]:
    names = sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")
    return [("", gettext_lazy("Automatic (this browser's zone)")), *((z, z) for z in names)]


class ProfileForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        required=False,
        help_text=gettext_lazy("Every date and time on the desk is shown in this zone."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["time_zone"].choices = _zone_choices()  # type: ignore[attr-defined]


def user_profile_update(*, user: User, name: str, time_zone: str) -> User:
    """Set the user's own name and time zone (blank: automatic). The zone must be an IANA name."""
    if time_zone:
        try:
            zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"time_zone": _("Unknown time zone.")}) from exc
    user.name = name.strip()
    user.time_zone = time_zone
    with transaction.atomic():
        user.save(update_fields=["name", "time_zone"])
    return user


@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    membership = getattr(request, "membership", None)
    if membership is None:
        return redirect_to_login(request.get_full_path())
    user = request.user
    assert isinstance(user, User)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                user_profile_update(
                    user=user,
                    name=form.cleaned_data["name"],
                    time_zone=form.cleaned_data["time_zone"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, _("Your profile is saved."))
                return HttpResponseRedirect(request.path)
        return render(request, "profile.html", {"form": form}, status=400)
    form = ProfileForm(initial={"name": user.name, "time_zone": user.time_zone})
    return render(request, "profile.html", {"form": form})
