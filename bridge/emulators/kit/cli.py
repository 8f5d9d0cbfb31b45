"""The click options every ``soapbridge emulate <crm>`` command shares, and its serve loop.

Each emulator command declares only what is its own (credentials, quirks, limits of its
CRM); :func:`emulator_command` adds the rest alike for all: where to listen (``--port``,
``--threads``), what to seed (``--records``, ``--seed``) and the faults to inject
(``--latency``, ``--fail-rate``, ``--throttle-rate``, ``--retry-after``), handed to the
command as one :class:`EmulatorRun`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from bridge.emulators.kit.server import (
    EmulatorServer,
    Faults,
    Stats,
    WSGIApp,
    print_connection_table,
    with_admin,
)

TABLE_LINE = "The first line on stdout is a JSON connection table for [connections.<name>]."


@dataclass(frozen=True, slots=True)
class EmulatorRun:
    """The shared options of one ``soapbridge emulate`` command, as given."""

    port: int
    records: int
    seed: int
    threads: int
    faults: Faults
    stats: Stats = field(default_factory=Stats)

    def serve(
        self,
        app: WSGIApp,
        table: Callable[[Any, str], dict[str, Any]],
        *,
        on_exit: Callable[[], None] | None = None,
    ) -> None:
        """Serve ``app`` in the foreground; the first stdout line is its connection table.

        ``/_emulator/stats`` shows the run's ``stats`` (an app given them counts there too).
        """
        server = EmulatorServer(
            with_admin(app, self.stats), port=self.port, threads=self.threads, faults=self.faults
        )
        print_connection_table(table(app, server.url))
        with contextlib.ExitStack() as cleanup:
            if on_exit is not None:
                cleanup.callback(on_exit)
            server.serve_forever()


def _option(flag: str, default: Any, help: str) -> click.Option:
    return click.Option([flag], default=default, show_default=True, help=help)


def _head(seeded: str) -> list[click.Option]:
    return [
        _option("--port", 0, "Port on 127.0.0.1 (0 picks a free one)."),
        _option("--records", 250, f"{seeded} to seed (0 starts empty)."),
        _option("--seed", 42, "Seed for generated data."),
    ]


def _tail(calls: str, failure: str) -> list[click.Option]:
    return [
        _option(
            "--throttle-rate",
            0.0,
            f"Fraction of {calls} refused with 429 and Retry-After regardless of counts.",
        ),
        _option(
            "--retry-after",
            1.0,
            "Seconds a random 429 (--throttle-rate) asks the client to wait "
            "(rounded up to whole seconds).",
        ),
        _option("--fail-rate", 0.0, f"Fraction of {calls} answered {failure} (retryable)."),
        _option("--latency", 0.0, f"Seconds added to every one of the {calls}."),
        _option(
            "--threads",
            8,
            "Threads answering calls while --latency is injected (without it, one thread "
            "answers every call: the cheapest way through).",
        ),
    ]


def emulator_command(
    name: str, *, seeded: str = "Contacts", calls: str = "API calls", failure: str
) -> Callable[[Callable[..., None]], click.Command]:
    """Make ``soapbridge emulate <name>`` from a function of ``(run, **own_options)``.

    ``seeded`` names what ``--records`` seeds, ``calls`` what the faults hit and
    ``failure`` the answer ``--fail-rate`` gives, for the help texts.
    """

    def decorate(function: Callable[..., None]) -> click.Command:
        @functools.wraps(function)
        def command(
            port: int,
            records: int,
            seed: int,
            throttle_rate: float,
            retry_after: float,
            fail_rate: float,
            latency: float,
            threads: int,
            **own: Any,
        ) -> None:
            faults = Faults(latency, fail_rate, seed, throttle_rate, retry_after)
            function(EmulatorRun(port, records, seed, threads, faults), **own)

        # click lists the options a function's decorators attached bottom-up.
        own_options: list[click.Parameter] = list(getattr(function, "__click_params__", []))
        params = [*_head(seeded), *reversed(own_options), *_tail(calls, failure)]
        help = f"{inspect.cleandoc(function.__doc__ or '')}\n\n{TABLE_LINE}".strip()
        return click.Command(name, callback=command, params=params, help=help)

    return decorate


def option(flag: str, default: Any, help: str, **kwargs: Any) -> Callable[[Any], Any]:
    """A click option shown with its default (click takes the type from the default)."""
    return click.option(flag, default=default, show_default=True, help=help, **kwargs)
