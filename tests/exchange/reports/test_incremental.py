"""The report kept up to date as the log grows gives what the whole computation gives.

`LogVerifier` (the auditor core, resumed) against `verify_log` at every checkpoint of the
scripted history; `Histories` fed in steps against `compute` over every entry, for
periods, platforms and `as_of` times before, inside and after the history.
"""

from datetime import UTC, datetime
from itertools import product

import pytest
from sqlalchemy import select

from exchange import runtime
from exchange.auditor import (
    ExtraEntriesError,
    LogVerifier,
    RollbackError,
    SpentVerifierError,
    TreeMismatchError,
    verify_log,
)
from exchange.reports import Period, UnknownPlatformError, compute
from exchange.reports.incremental import Histories
from exchange.runtime import server_keys
from exchange.services import transparency
from exchange.storage.models.log import Checkpoint
from tests.exchange.reports.conftest import verified_from_database
from tests.exchange.reports.scripted import AS_OF, PERIOD
from tests.exchange.reports.test_six_months import run_history
from tests.helpers.world import standard_world


def _log(app):
    """Every entry's text, every checkpoint's note by size, the verifier keys, the origin."""
    with app.app_context():
        with runtime.read() as session:
            texts = [row.leaf for row in transparency.entries(session, 0, 10**6, 10**6)]
            notes = {c.size: c.note for c in session.scalars(select(Checkpoint))}
        keys = server_keys()
        return texts, dict(sorted(notes.items())), keys.log_verifier_keys, keys.log.name


def _essentials(report):
    return (
        report.checkpoint,
        report.note,
        report.entries,
        report.signatures,
        report.frontier,
        report.verifier_keys,
        report.learned_keys,
        report.changes,
    )


def test_the_resumed_audit_reports_what_the_whole_one_does_at_every_checkpoint(app, scripted):
    texts, notes, keys, origin = _log(app)
    assert len(notes) > 10
    assert max(notes) == len(texts)
    verifier = LogVerifier(keys, origin)
    previous = None
    for size, note in notes.items():
        resumed = verifier.extend(texts[verifier.size : size], note)
        assert _essentials(resumed) == _essentials(verify_log(texts[:size], note, keys, origin))
        assert resumed.previous_size == previous
        assert verifier.size == size
        previous = size
    # Nothing new: the same checkpoint verifies again, reading nothing.
    again = verifier.extend([], notes[len(texts)])
    assert again.entries == len(texts)


def test_an_entry_edited_after_the_verified_ones_is_named_and_spends_the_verifier(app, scripted):
    texts, notes, keys, origin = _log(app)
    sizes = list(notes)
    middle, last = sizes[len(sizes) // 2], sizes[-1]
    verifier = LogVerifier(keys, origin)
    verifier.extend(texts[:middle], notes[middle])
    edited = [*texts[middle:last]]
    edited[-1] = edited[-1].replace('"logged_at":"2026', '"logged_at":"2027', 1)
    assert edited[-1] != texts[last - 1]
    with pytest.raises(TreeMismatchError) as raised:
        verifier.extend(edited, notes[last])
    # The entries verified before agree with the log: the difference is after them.
    assert (raised.value.index, raised.value.end) == (middle, last)
    assert raised.value.reason == "the entries do not hash to the log's latest checkpoint"
    with pytest.raises(SpentVerifierError):
        verifier.extend(texts[middle:last], notes[last])


def test_a_checkpoint_older_than_the_verified_entries_is_a_rollback(app, scripted):
    texts, notes, keys, origin = _log(app)
    sizes = list(notes)
    verifier = LogVerifier(keys, origin)
    verifier.extend(texts, notes[sizes[-1]])
    with pytest.raises(RollbackError) as raised:
        verifier.extend([], notes[sizes[-2]])
    assert raised.value.reason == (
        f"the log has {sizes[-2]} entries, but you verified a checkpoint of {sizes[-1]}"
        f" before: entries from {sizes[-2]} on have vanished"
    )


def test_entries_beyond_the_checkpoint_are_refused_as_by_the_whole_audit(app, scripted):
    texts, notes, keys, origin = _log(app)
    sizes = list(notes)
    early, later = sizes[2], sizes[-2]
    verifier = LogVerifier(keys, origin)
    verifier.extend(texts[:early], notes[early])
    with pytest.raises(ExtraEntriesError) as resumed:
        verifier.extend(texts[early:], notes[later])
    with pytest.raises(ExtraEntriesError) as whole:
        verify_log(texts, notes[later], keys, origin)
    assert str(resumed.value) == str(whole.value)


AS_OFS = (
    AS_OF,
    datetime(2026, 3, 3, 8, 0, tzinfo=UTC),  # before any case
    datetime(2026, 3, 3, 11, 35, tzinfo=UTC),  # C withdrawn, its receipt not yet
    datetime(2026, 3, 3, 14, 45, tzinfo=UTC),  # B's ack overdue, breach logged
    datetime(2026, 3, 6, 12, 0, tzinfo=UTC),  # B's and E's action due, not yet swept
    datetime(2026, 3, 17, 9, 0, tzinfo=UTC),  # D's action falls due
)
PERIODS = (
    Period.parse(*PERIOD),
    Period.parse("2026-03-03T10:00:00Z", "2026-03-03T12:00:00Z"),  # B and C only
    Period.parse("2026-03-09", "2026-03-20"),  # D and F; the earlier ones may be overdue
)


def _figures(entries, checkpoint, period, now, platform):
    try:
        return compute(
            entries, checkpoint=checkpoint, period=period, now=now, platform=platform
        ).to_json()
    except UnknownPlatformError as exc:
        return str(exc)


def _kept(histories, checkpoint, period, now, platform):
    try:
        return histories.report(
            checkpoint=checkpoint, period=period, now=now, platform=platform
        ).to_json()
    except UnknownPlatformError as exc:
        return str(exc)


@pytest.mark.parametrize("step", [1, 4, 10**6])
def test_histories_kept_in_steps_give_the_figures_of_every_entry_at_once(app, scripted, step):
    verified = verified_from_database(app)
    entries, checkpoint = verified.entries, verified.checkpoint
    histories = Histories()
    for start in range(0, len(entries), step):
        histories.extend(entries[start : start + step])
        seen = entries[: start + step]
        assert histories.size == len(seen)
        for period, now, platform in product(PERIODS, AS_OFS, (None, "clipshare", "chatter")):
            kept = _kept(histories, checkpoint, period, now, platform)
            assert kept == _figures(seen, checkpoint, period, now, platform), (
                start,
                period,
                now,
                platform,
            )
    # The figures are not all empty: the comparison compared something.
    full = _kept(histories, checkpoint, PERIODS[0], AS_OF, None)
    assert full["totals"]["cases_received"] == 5
    assert full["totals"]["overdue"]["count"] == 2


def test_six_months_kept_in_steps_give_the_figures_of_every_entry_at_once(
    app, client, clock, runner
):
    world = standard_world(app, client, clock)
    run_history(world, runner, clock)
    verified = verified_from_database(app)
    entries, checkpoint = verified.entries, verified.checkpoint
    periods = (Period.parse("2026-03-09", "2026-09-06"), Period.parse("2026-05-01", "2026-06-01"))
    moments = (
        datetime(2026, 9, 7, 12, 0, tzinfo=UTC),
        datetime(2026, 4, 4, 9, 0, tzinfo=UTC),
        datetime(2026, 6, 2, 10, 0, tzinfo=UTC),
    )
    histories = Histories()
    for start in range(0, len(entries), 7):
        histories.extend(entries[start : start + 7])
        seen = entries[: start + 7]
        for period, now in product(periods, moments):
            kept = _kept(histories, checkpoint, period, now, "clipshare")
            assert kept == _figures(seen, checkpoint, period, now, "clipshare")
    assert (
        _kept(histories, checkpoint, periods[0], moments[0], None)["totals"]["cases_received"] == 5
    )
