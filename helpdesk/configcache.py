"""A tenant's configuration, read once per process while it is unchanged.

Every ticket created reads the same configuration: the severity and organization it names, the
custom fields, the priority matrix, the routing rules, the SLA package and its targets, the
webhook subscriptions. Those reads were most of the cost of a creation; within a request this
module answers them from memory, and is never wrong about them:

* **Stamp.** ``Tenant.config_stamp`` (a random UUID) changes in the same transaction as any
  change to the tenant's configuration. Configuration models register with :func:`watch` (their
  saves and deletes renew the stamp); code that writes them in bulk (``bulk_create``,
  ``QuerySet.update``) calls :func:`config_changed` itself.
* **Armed requests only.** ``TenantMiddleware`` reads the request's tenant afresh and arms the
  cache for that tenant and stamp (:func:`armed`). Entries are kept per stamp: a request that
  sees a new stamp starts from empty. Outside an armed request (Celery tasks, commands, services
  called directly, the rest of a request that changed configuration itself) every read goes to
  the database, exactly as without this module.
* **Read-only values.** Cached values are shared by every request of the process. Callers must
  not change them; :func:`cached_row` hands out a copy of a model instance, for values that go
  on into services.

Random stamps (rather than a counter) keep a tenant id reused after a rollback, or a tenant
deleted and made again, from meeting entries of its predecessor.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model
from django.db.models.signals import post_delete, post_save

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .models import Tenant

T = TypeVar("T")
M = TypeVar("M", bound=Model)

MAX_TENANTS = 256  # tenants whose entries one process keeps (least recently armed go first)
MAX_ENTRIES = 4096  # entries per tenant and stamp (then it starts again from empty)

_ARMED: ContextVar[tuple[int, uuid.UUID] | None] = ContextVar("helpdesk_config_armed", default=None)
_ENTRIES: OrderedDict[int, tuple[uuid.UUID, dict[Hashable, Any]]] = OrderedDict()
_LOCK = threading.Lock()
_WATCHED: set[type[Model]] = set()


@contextmanager
def armed(tenant: Tenant | None) -> Iterator[None]:
    """Serve cached configuration of ``tenant`` (just read from the database) until the block
    ends. ``None`` (no tenant) arms nothing."""
    if tenant is None:
        yield
        return
    token = _ARMED.set((tenant.pk, tenant.config_stamp))
    try:
        yield
    finally:
        _ARMED.reset(token)


def cached(tenant_id: int, key: Hashable, load: Callable[[], T]) -> T:
    """``load()``'s value for ``key`` in ``tenant_id``'s current configuration: from memory in
    an armed request, else read now. ``load`` must only read the tenant's configuration (the
    rows of watched models)."""
    arm = _ARMED.get()
    if arm is None or arm[0] != tenant_id:
        return load()
    stamp = arm[1]
    with _LOCK:
        held = _ENTRIES.get(tenant_id)
        if held is not None and held[0] == stamp and key in held[1]:
            return held[1][key]
    value = load()
    with _LOCK:
        held = _ENTRIES.get(tenant_id)
        if held is None or held[0] != stamp or len(held[1]) >= MAX_ENTRIES:
            held = (stamp, {})
        held[1][key] = value
        _ENTRIES[tenant_id] = held
        _ENTRIES.move_to_end(tenant_id)
        while len(_ENTRIES) > MAX_TENANTS:
            _ENTRIES.popitem(last=False)
    return value


def cached_row(tenant_id: int, key: Hashable, load: Callable[[], M | None]) -> M | None:
    """:func:`cached` for one model instance or None, handed out as a copy so that the caller
    may set attributes on it. (None is kept too: a row made later renews the stamp.)"""
    row = cached(tenant_id, key, load)
    return copy.copy(row) if row is not None else None


def config_changed(tenant_id: int) -> None:
    """``tenant_id``'s configuration changes in the current transaction: renew its stamp (other
    processes' entries stop being used once it commits), drop this process's entries, and stop
    serving cached values for the rest of the current request."""
    from .models import Tenant

    Tenant.objects.filter(pk=tenant_id).update(config_stamp=uuid.uuid4())
    with _LOCK:
        _ENTRIES.pop(tenant_id, None)
    arm = _ARMED.get()
    if arm is not None and arm[0] == tenant_id:
        _ARMED.set(None)


def watch(*models: type[Model], volatile: Iterable[str] = ()) -> None:
    """Saves and deletes of ``models`` (tenant-owned rows) change their tenant's configuration.
    ``volatile``: fields no cached read depends on (bookkeeping such as a round-robin pointer);
    a save of only those changes nothing."""
    from .models import Tenant

    ignored = frozenset(volatile)

    def changed(sender: type[Model], instance: Any, **kwargs: Any) -> None:
        fields = kwargs.get("update_fields")
        if fields and ignored and set(fields) <= ignored:
            return
        if kwargs.get("raw"):  # loading fixtures: no request can be armed for this tenant yet
            return
        if isinstance(kwargs.get("origin"), Tenant):  # the tenant itself goes
            return
        tenant_id = getattr(instance, "tenant_id", None)
        if tenant_id is not None:
            config_changed(tenant_id)

    for model in models:
        _WATCHED.add(model)
        uid = f"configcache:{model._meta.label}"
        post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid)
        post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid)


def is_watched(model: type[Model]) -> bool:
    return model in _WATCHED


def clear() -> None:
    """Forget every entry of this process (tests)."""
    with _LOCK:
        _ENTRIES.clear()
