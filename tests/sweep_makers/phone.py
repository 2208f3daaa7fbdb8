"""Sweep makers of the phone channel. Its routes take no URL kwargs (``/phone/``,
``/agent/phone/``, ``/manage/phone/``, ``/api/v1/phone/verify/``): they are swept as lists,
each answering another tenant's admin 200 with none of alpha's rows. Nothing to make here;
the module states that on purpose so a future route with a kwarg lands next to it."""

from __future__ import annotations

from typing import Any

KWARG_MAKERS: dict[str, Any] = {}
