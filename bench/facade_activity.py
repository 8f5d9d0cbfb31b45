"""CPU cost of the console's facade hook (``bridge.facade.activity``) per SOAP call.

The same 100-record ContactList_Retrieve is answered through the facade's WSGI app bare
and wrapped by :func:`record_activity` (tallies written to a SQLite store once a second),
in the same process and run, alternating rounds; CPU seconds (``time.process_time``) per
call are compared. On a shared machine that difference is noise-sized, so the hook is also
timed alone, around an app that answers at once: its cost over a bare facade call is the
figure checked (under 5 %).
Run: python bench/facade_activity.py [--calls N] [--rounds R] [--check]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from facade_encode import REQUEST, facade_handler, page_contacts

from bridge.facade.activity import ActivityRecorder, record_activity
from bridge.store import Store
from bridge.wsdl import NAMESPACE

LIMIT = 0.05


def call(app: Any) -> None:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/CatalystWebService/CatalystCRMWebservice.asmx",
        "CONTENT_TYPE": "text/xml; charset=utf-8",
        "CONTENT_LENGTH": str(len(REQUEST)),
        "HTTP_SOAPACTION": f'"{NAMESPACE}/ContactList_Retrieve"',
        "wsgi.input": io.BytesIO(REQUEST),
    }
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"], body[:300]


def instant_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
    return [b"<answer/>"]


def cpu_per_call(app: Any, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        call(app)
    return (time.process_time() - started) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--check", action="store_true", help=f"exit 1 above {LIMIT:.0%}")
    args = parser.parse_args()
    # The benchmark of the encoder builds the facade over an in-memory connector; its
    # closure holds the FacadeApp, which is what ``soapbridge serve`` mounts.
    cells = facade_handler(page_contacts()).__closure__ or ()
    app = next(c.cell_contents for c in cells if hasattr(c.cell_contents, "handle"))
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'bench.db'}")
        store.migrate()
        recorder = ActivityRecorder(store)
        wrapped = record_activity(app, recorder)
        call(app), call(wrapped)  # warm up both
        hook_alone = record_activity(instant_app, recorder)
        bare_times: list[float] = []
        hooked_times: list[float] = []
        instant_times: list[float] = []
        alone_times: list[float] = []
        for i in range(args.rounds):
            instant_times.append(cpu_per_call(instant_app, args.calls * 10))
            alone_times.append(cpu_per_call(hook_alone, args.calls * 10))
            # Alternate which goes first, so a warming cache or a busy neighbour is shared.
            order = [(app, bare_times), (wrapped, hooked_times)]
            for target, times in order if i % 2 == 0 else order[::-1]:
                times.append(cpu_per_call(target, args.calls))
        recorder.close()
        calls = store.facade_activity.sites()[0].calls
        store.dispose()
    bare, hooked = statistics.median(bare_times), statistics.median(hooked_times)
    hook = statistics.median(alone_times) - statistics.median(instant_times)
    overhead = hook / bare
    print(f"calls recorded in the store: {calls}")
    print(
        f"bare facade:   {bare * 1e6:8.0f} us CPU per call, {1 / bare:6.0f} calls/s per core "
        f"(median of {args.rounds} rounds)"
    )
    print(f"with the hook: {hooked * 1e6:8.0f} us CPU per call, {1 / hooked:6.0f} calls/s per core")
    print(f"ratio hooked/bare: {hooked / bare:.3f} (whole calls: noise-sized on a busy machine)")
    print(
        f"the hook alone: {hook * 1e6:.1f} us CPU per call = {overhead:.2%} of a bare call "
        f"(limit {LIMIT:.0%})"
    )
    return 1 if args.check and overhead > LIMIT else 0


if __name__ == "__main__":
    sys.exit(main())
