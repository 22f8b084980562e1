"""A request's reads share one transaction (authentication, then a handoff's check), which
a write of the request ends, so that what it reads afterwards includes what it wrote."""

from sqlalchemy import func, select

from exchange import runtime
from exchange.storage.models import Organisation


def organisations(session) -> int:
    return session.scalar(select(func.count()).select_from(Organisation))


def test_the_reads_of_a_request_share_one_transaction(app):
    with app.test_request_context("/"):
        with runtime.read() as first:
            organisations(first)
            connection = first.connection()
        with runtime.read() as second:
            assert second is first
            assert second.connection() is connection
    assert not first.in_transaction()  # closed when the request ended


def test_a_write_ends_the_read_so_later_reads_see_it(app, clock):
    with app.test_request_context("/"):
        with runtime.read() as session:
            before = organisations(session)  # the snapshot of SQLite's read begins here
        with runtime.write() as session:
            session.add(Organisation(id="metro", kind="agency", name="Metro", created_at=clock()))
        with runtime.read() as session:
            assert organisations(session) == before + 1


def test_an_error_inside_a_read_ends_its_transaction(app):
    with app.test_request_context("/"):
        try:
            with runtime.read() as session:
                organisations(session)
                raise LookupError("a service's own error")
        except LookupError:
            pass
        assert not session.in_transaction()


def test_outside_a_request_each_read_is_a_transaction_of_its_own(app):
    with app.app_context():
        with runtime.read() as first:
            organisations(first)
        with runtime.read() as second:
            assert second is not first
        assert not first.in_transaction()
