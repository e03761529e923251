"""A run's outcomes: sent = succeeded + failed + dead_lettered + in_flight, from the ledger for
async events, and what went wrong with the requests that failed."""

from __future__ import annotations

from orchestrator.load.collect import Snapshot
from tests.orchestrator.load.test_forecast import burst


def test_async_outcomes_come_from_the_ledger_and_add_up_to_what_was_sent() -> None:
    # Given 10 async events: 8 accepted, one never answered (the connection broke), one 500
    run = burst(10, 5.0)
    run.samples[8] = run.samples[8]._replace(status=0, error="BrokenPipeError")
    run.samples[9] = run.samples[9]._replace(status=500, error="HTTP 500")
    # And a ledger that, since the run began, accepted those 8: 6 succeeded, 1 dead-lettered,
    # 1 still in flight
    run.before = Snapshot(ledger={"f": {"accepted": 5, "succeeded": 5}})
    run.after = Snapshot(ledger={"f": {"accepted": 13, "succeeded": 11, "failed": 1,
                                       "in_flight": 1}})
    # When the outcomes are summed up
    summary = run.summary()
    # Then each event is counted once, where the ledger has it
    assert (summary["sent"], summary["succeeded"], summary["failed"], summary["dead_lettered"],
            summary["in_flight"]) == (10, 6, 2, 1, 1)
    # And the failed requests say what went wrong
    assert run.request_errors() == {"BrokenPipeError": 1, "HTTP 500": 1}


def test_when_others_invoked_the_function_too_each_event_is_told_by_its_records() -> None:
    # Given 10 async events: 7 ran ok (one of them answered with a broken connection after
    # it was queued, one failed once before: a retry), one ran with errors only, one accepted
    # and not run yet, one refused outright
    run = burst(10, 5.0)
    run.samples[5] = run.samples[5]._replace(status=0, error="RemoteDisconnected")
    run.samples[9] = run.samples[9]._replace(status=0, error="BrokenPipeError")
    by_event = dict(enumerate(run.records))
    by_event[6] = {**by_event[6], "status": "error"}
    del by_event[8], by_event[9]
    run.records = [*by_event.values(), {**by_event[7], "status": "error"}]
    # And a ledger that also counts someone else's 5 events, 2 of them still in flight
    run.after = Snapshot(ledger={"f": {"accepted": 14, "succeeded": 11, "in_flight": 3}})
    # When the outcomes are summed up
    outcomes = run.outcomes()
    # Then succeeded, failed and in flight are this run's events, told apart by their records;
    # the one that ran with errors only is in flight as far as the ledger has room for it
    assert outcomes == {"sent": 10, "succeeded": 7, "failed": 1, "dead_lettered": 0,
                        "in_flight": 2}
    # And with nothing left in flight, it was dead-lettered
    run.after = Snapshot(ledger={"f": {"accepted": 14, "succeeded": 12, "failed": 1,
                                       "in_flight": 1}})
    assert run.outcomes() == {"sent": 10, "succeeded": 7, "failed": 1, "dead_lettered": 1,
                              "in_flight": 1}


def test_a_run_where_all_went_well_has_no_request_errors() -> None:
    # Given 5 async events, all accepted and succeeded by the ledger
    run = burst(5, 5.0)
    run.after = Snapshot(ledger={"f": {"accepted": 5, "succeeded": 5}})
    # Then none failed and no error is named
    assert run.outcomes() == {"sent": 5, "succeeded": 5, "failed": 0, "dead_lettered": 0,
                              "in_flight": 0}
    assert run.request_errors() == {}


def test_request_errors_are_counted_most_frequent_first() -> None:
    # Given sync invokes: two throttled, three unhandled errors, one fine
    run = burst(6, 5.0, invocation_type="RequestResponse")
    run.asynchronous = False
    errors = ["Throttled", "Unhandled", "Unhandled", "Throttled", "Unhandled", ""]
    run.samples = [s._replace(error=e, status=429 if e == "Throttled" else 200)
                   for s, e in zip(run.samples, errors, strict=True)]
    # When summed up, Then the failures and throttles are counted, and named by frequency
    assert run.outcomes()["failed"] == 5 and run.summary()["throttled"] == 2
    assert list(run.request_errors().items()) == [("Unhandled", 3), ("Throttled", 2)]
