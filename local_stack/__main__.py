"""python -m local_stack serve | invoke | token | openapi | reset
(the Makefile's run, invoke, token, openapi, reset)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from local_stack import ROOT, dynamodb, state, tokens
from local_stack.tables import ensure_tables


def reset() -> int:
    """Wipe the persistent local store, unless a stack is serving it (it would answer 503 ever after).
    It holds the store's lock while it wipes, so no stack starts on half a store."""
    import shutil

    try:
        lock = dynamodb.DataLock().acquire()
    except dynamodb.StoreBusy as error:
        print(f"{error}: stop it (Ctrl-C) before `make reset`", file=sys.stderr)
        return 1
    try:
        shutil.rmtree(dynamodb.DATA_DIR, ignore_errors=True)
        local = ROOT / ".local"
        for leftover in (local / "demo-ids.json", local / "stream-checkpoints.json", local / "schedules.json"):
            leftover.unlink(missing_ok=True)
    finally:
        lock.release()
    print(
        "local data wiped (with stream positions and schedules); the next 'make run' starts empty and seeds demo data"
    )
    return 0


def serve(args: argparse.Namespace) -> int:
    from local_stack import ROOT, seed
    from local_stack import template as tpl
    from local_stack.async_invoke import AsyncInvoker
    from local_stack.dead_letters import DeadLetters
    from local_stack.eventbus import EventBus
    from local_stack.functions import Functions, service_endpoints
    from local_stack.gateway import Console, Gateway
    from local_stack.metrics import LocalMetrics
    from local_stack.scheduler import Scheduler
    from local_stack.streams import Streams

    started = time.monotonic()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    if args.port and not dynamodb.port_is_free(args.port):
        print(
            f"port {args.port} is taken (another make run?): choose another, e.g. PORT=3100 make run", file=sys.stderr
        )
        return 1
    try:
        store = dynamodb.start(port=args.dynamodb_port, in_memory=args.in_memory)
    except dynamodb.PortTaken as error:
        print(
            f"could not start DynamoDB: {error}, and this stack uses no store it did not start. Free the port, "
            "choose another LOCAL_DYNAMODB_PORT, or leave it unset for a free port",
            file=sys.stderr,
        )
        return 1
    except dynamodb.StoreBusy as error:
        print(
            f"could not start DynamoDB: {error}: stop it first, or run in memory (make run IN_MEMORY=1)",
            file=sys.stderr,
        )
        return 1
    except (RuntimeError, OSError) as error:
        print(f"could not start DynamoDB: {error}", file=sys.stderr)
        return 1
    console = Console(stream=None if args.quiet else sys.stdout, log_file=os.environ.get("LOCAL_LOG_FILE"))
    local_metrics = LocalMetrics()
    console.listeners.append(local_metrics)  # EMF lines and access logs → /_local/metrics
    # Kept across restarts only when the data is (see local_stack/streams.py and scheduler.py).
    persistent = ROOT / ".local" if store.persistent else None
    functions = gateway = invoker = scheduler = streams = None
    try:
        created = ensure_tables(store.client())
        functions = Functions(store.endpoint, console)
        dead_letters = DeadLetters()
        invoker = AsyncInvoker(
            functions, console, dead_letters, {f.logical_id: f.async_config for f in tpl.functions()}
        )
        bus = EventBus(invoker, console)
        scheduler = Scheduler(invoker, console, persistent / "schedules.json" if persistent else None)
        gateway = Gateway(
            functions,
            console,
            port=args.port,
            local_metrics=local_metrics,
            aws_services={"/_aws/events": bus.handle_http, "/_aws/scheduler": scheduler.handle_http},
            local_views={
                "/_local/events": bus.json,
                "/_local/dead-letters": lambda _q: dead_letters.json(),
                "/_local/schedules": lambda _q: scheduler.json(),
            },
        )
        functions.services.update(service_endpoints(gateway.url))  # before any worker starts
        if os.environ.get("LOCAL_WARM", "1") != "0":  # one worker per function, in the background
            functions.warm()
        streams = Streams(
            store.endpoint,
            functions,
            console,
            dead_letters,
            persistent / "stream-checkpoints.json" if persistent else None,
        )
        streams.start()  # after the tables exist, before anything can write to them
        scheduler.start()
        threading.Thread(target=gateway.serve_forever, daemon=True, name="gateway").start()
        state.write(args.state_file, gateway.url, store.endpoint)  # where `make invoke` finds this stack
        fresh = any(t.name in created for t in tpl.tables() if t.logical_id == "PatientsTable")
        demo = None
        if fresh and os.environ.get("SEED", "1") != "0":
            demo = seed.seed(gateway.url)
        elif not args.in_memory:
            demo = seed.saved_ids()
        banner(gateway.url, store, demo, time.monotonic() - started, background(streams, bus, scheduler))
        stop.wait()
        print("\nshutting down…", file=sys.stderr)
    except tpl.TemplateError as error:
        print(f"{tpl.TEMPLATE.name}: {error}", file=sys.stderr)
        return 1
    finally:
        if streams:
            streams.stop()
        if scheduler:
            scheduler.stop()
        if invoker:
            invoker.stop()
        if gateway:
            gateway.shutdown()
        if functions:
            functions.close()
        store.stop()
        console.close()
        state.clear(args.state_file)
    return 0


def background(streams, bus, scheduler) -> str | None:
    """One line on what runs besides the API, when the template declares any of it."""
    consumers = len(streams.running)
    rules = len(bus.rules)
    schedules = sum(1 for e in scheduler.entries.values() if e.origin == "template")
    if not (consumers or rules or schedules or len(streams.consumers)):
        return None
    skipped = len(streams.consumers) - consumers
    return (
        f"{consumers} stream consumer(s){f' ({skipped} not running: no streams in this store)' if skipped else ''}"
        f" · {rules} rule(s) · {schedules} schedule(s)"
    )


def banner(url: str, store: dynamodb.Store, demo: dict | None, seconds: float, background: str | None = None) -> None:
    lines = [
        "",
        f"  Clinic appointments API  {url}   (ready in {seconds:.1f} s)",
        f"  DynamoDB   {store.endpoint}  — {store.mode}",
        f"  Docs       {url}/docs   ·   {url}/openapi.json",
        f"  App        {url}/app/   (front desk, patients, doctors; sign in with the local sign-in page)",
        f"  Metrics    {url}/_local/metrics   ·   {url}/_local/metrics.json",
        f"  Events     {url}/_local/events   ·   {url}/_local/dead-letters   ·   {url}/_local/schedules",
        "  Token      TOKEN=$(make -s token ROLE=staff)      # or ROLE=doctor|patient ID=<id>",
        f'  Try        curl -H "Authorization: Bearer $TOKEN" {url}/doctors',
    ]
    if background:
        lines.append(f"  Background {background}")
    if demo:
        lines.append(f"  Demo       doctors  {' '.join(demo.get('doctors', []))}")
        lines.append(f"             patients {' '.join(demo.get('patients', []))}")
    lines += ["  Stop       Ctrl-C", ""]
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the API locally")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")), help="0: a free one")
    run.add_argument(
        "--dynamodb-port",
        type=int,
        default=os.environ.get("LOCAL_DYNAMODB_PORT") or None,
        help="DynamoDB Local's port, refused if taken (default LOCAL_DYNAMODB_PORT, else a free one)",
    )
    run.add_argument("--in-memory", action="store_true", help="keep no data across restarts (make run IN_MEMORY=1)")
    run.add_argument("--state-file", type=Path, default=state.STATE_FILE, help="where to say where this stack is")
    run.add_argument("--quiet", action="store_true", help="logs only to LOCAL_LOG_FILE, not the terminal")
    call = commands.add_parser("invoke", help="run one function on one event file")
    call.add_argument("function")
    call.add_argument("event")
    token = commands.add_parser("token", help="print a local bearer token")
    token.add_argument("--role", default="staff", choices=sorted(tokens.ROLES))
    token.add_argument("--id", default=None)
    token.add_argument("--ttl", type=int, default=12 * 3600)
    document = commands.add_parser("openapi", help="write the OpenAPI document")
    document.add_argument("--out", default=None)
    commands.add_parser("reset", help="wipe the local DynamoDB data")
    args = parser.parse_args(argv)

    if args.command == "reset":
        return reset()
    if args.command == "serve":
        return serve(args)
    if args.command == "invoke":
        from local_stack.invoke import invoke

        return invoke(args.function, args.event)
    if args.command == "token":
        try:
            print(tokens.mint(args.role, args.id, ttl_seconds=args.ttl))
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
        return 0
    from local_stack.openapi import main as write_openapi

    write_openapi(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
