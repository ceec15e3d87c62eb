"""The sender lease: two instances on one database never both send; a dead holder is replaced."""

from __future__ import annotations

from datetime import timedelta

from briefing.service.lease import SENDER, SenderLease
from briefing.store import Store
from briefing.store.schema import utcnow

TTL = timedelta(seconds=60)


def test_only_one_of_two_instances_holds_the_lease(store: Store) -> None:
    other = Store.open(str(store.engine.url.render_as_string(hide_password=False)))  # a second process
    try:
        a, b = SenderLease(store, 60, holder="a"), SenderLease(other, 60, holder="b")
        assert a.hold() is True
        assert b.hold() is False  # a holds it: b must not send
        assert a.hold() is True  # renewing is not a takeover
        info = other.lease(SENDER)
        assert info is not None and info.holder == "a"
    finally:
        other.close()


def test_a_lease_that_is_not_renewed_is_taken_over_after_it_expires(store: Store) -> None:
    t0 = utcnow()
    assert store.acquire_lease(SENDER, "a", TTL, now=t0)
    assert not store.acquire_lease(SENDER, "b", TTL, now=t0 + timedelta(seconds=59))
    # a died: no renewal for longer than the lease
    assert store.acquire_lease(SENDER, "b", TTL, now=t0 + timedelta(seconds=61))
    # a wakes up (a laptop resumed): it has lost the lease and must not send
    assert not store.acquire_lease(SENDER, "a", TTL, now=t0 + timedelta(seconds=62))
    info = store.lease(SENDER)
    assert info is not None and info.holder == "b"


def test_a_clean_shutdown_hands_the_lease_over_at_once(store: Store) -> None:
    a, b = SenderLease(store, 60, holder="a"), SenderLease(store, 60, holder="b")
    assert a.hold() and not b.hold()
    a.release()
    assert b.hold()
    store.release_lease(SENDER, "a")  # releasing a lease one no longer holds takes nothing from b
    assert not a.hold()
