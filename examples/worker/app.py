"""The seed's queue worker (section 4.3), in Python, on the kubeship runtime.

A consumer of a Redis Stream through a consumer group, served like the web
app: `kubeship serve app:app` gives it /healthz, /readyz, /metrics, the JSON
log, config reload and the drain. The ASGI app only answers those; the work
is a task started by its lifespan.

Delivery: each message is handled, then its result and its XACK are written
in one Lua script, and only if the message is still this consumer's (a slow
consumer's message may have been claimed by another): a message is either
done and acknowledged once, or neither.
On SIGTERM the worker stops reading (the drain flag, at once), finishes the
message in hand, acknowledges it and leaves the group when it holds nothing.
A consumer that crashed leaves its messages pending; the others XAUTOCLAIM
them once they have been idle for `claim-idle-ms`, as Redis Streams intend.

Metrics (the runtime's registry, so /metrics of every worker process):
  kubeship_worker_messages_total{stream,group,outcome}   handled (ok / failed)
  kubeship_worker_message_duration_seconds{stream,group} handling time
  kubeship_worker_backlog_messages{stream,group,state}   the group's lag and pending entries
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator

import redis.asyncio as redis
from prometheus_client import Counter, Gauge, Histogram
from redis.exceptions import RedisError, ResponseError
from starlette.applications import Starlette

from kubeship.runtime import DrainState, Runtime, app_config
from kubeship.runtime.log import writer

config = app_config(
    {
        "redis-url": "redis://127.0.0.1:6379/0",
        "stream": "orders",
        "group": "worker",
        "batch": "10",  # messages per read: small, so a drain never waits on many
        "work-ms": "20",  # the simulated work per message
        "claim-idle-ms": "30000",  # a pending message idle this long belongs to a dead consumer
    }
)
LABELS = ("stream", "group")
MESSAGES = Counter("kubeship_worker_messages_total", "Messages handled.", [*LABELS, "outcome"])
DURATION = Histogram(
    "kubeship_worker_message_duration_seconds",
    "Time to handle one message, result and ack written.",
    LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# Every process reports the same group-wide numbers: the live ones' maximum is the value.
BACKLOG = Gauge(
    "kubeship_worker_backlog_messages",
    "The consumer group's backlog: lag (not yet delivered) and pending (delivered, not acknowledged).",
    [*LABELS, "state"],
    multiprocess_mode="livemax",
)


# Result and ack in one atomic step, and only while the message is still ours: a consumer that was
# too slow (past claim-idle-ms) finds it claimed by another and writes nothing, so no result is
# written twice even when a live consumer's message is claimed.
COMMIT = """
local owner = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #owner == 0 or owner[1][2] ~= ARGV[3] then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


def consumer_name() -> str:
    """The pod (HOSTNAME in Kubernetes) and the process: unique per worker process."""
    return f"{os.environ.get('HOSTNAME') or socket.gethostname()}-{os.getpid()}"


class Worker:
    def __init__(self, drain: DrainState) -> None:
        self.drain = drain
        self.name = consumer_name()
        self.stream = str(config["stream"])
        self.group = str(config["group"])
        self.client: redis.Redis = redis.from_url(str(config["redis-url"]), decode_responses=True)
        self.connected = False
        self._commit = self.client.register_script(COMMIT)
        self._backlog_at = 0.0
        self._claim_at = 0.0
        self._claim_cursor = "0-0"

    async def run(self) -> None:
        """Consume until the drain starts (or the task is cancelled at shutdown), then leave."""
        while not self.drain.draining:
            try:
                await self._ensure_group()
                await self._step()
                self.connected = True
            except RedisError as exc:
                self.connected = False
                writer.event("warning", "redis unavailable; retrying", error=str(exc))
                await asyncio.sleep(1)
        await self._leave()

    async def _ensure_group(self) -> None:
        if self.connected:
            return
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _step(self) -> None:
        now = time.monotonic()
        if now >= self._backlog_at:
            self._backlog_at = now + 1
            await self._report_backlog()
        if now >= self._claim_at:
            self._claim_at = now + max(1.0, config.typed("claim-idle-ms", int, 30000) / 4000)
            claimed = await self._claim()
            if claimed:
                await self._handle_all(claimed)
                return
        batch = config.typed("batch", int, 10)
        # Our own pending entries first ("0"): a handling that failed is retried before new work.
        for start in ("0", ">"):
            reply = await self.client.xreadgroup(
                self.group, self.name, {self.stream: start}, count=batch, block=1000 if start == ">" else None
            )
            entries = reply[0][1] if reply else []
            if entries:
                await self._handle_all(entries)
                return

    async def _claim(self) -> list[tuple[str, dict[str, str]]]:
        """Messages a crashed consumer held: idle past claim-idle-ms, now ours."""
        idle = config.typed("claim-idle-ms", int, 30000)
        cursor, claimed, *_ = await self.client.xautoclaim(
            self.stream, self.group, self.name, min_idle_time=idle, start_id=self._claim_cursor, count=100
        )
        self._claim_cursor = cursor
        if claimed:
            writer.event("info", "claimed idle messages of another consumer", count=len(claimed))
        return [(i, f) for i, f in claimed if f is not None]

    async def _handle_all(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        for message_id, fields in entries:
            # The drain stops reading, not handling: what was read is finished and acknowledged.
            await self._handle(message_id, fields)

    async def _handle(self, message_id: str, fields: dict[str, str]) -> None:
        started = time.perf_counter()
        try:
            result = await process(fields)
            keys = [self.stream, f"{self.stream}:processed", f"{self.stream}:results"]
            done = await self._commit(keys=keys, args=[self.group, message_id, self.name, result])
        except RedisError:
            raise  # not handled: stays pending, retried by us or claimed by another
        except Exception as exc:
            MESSAGES.labels(self.stream, self.group, "failed").inc()
            writer.event("error", "message failed; left pending for a retry", id=message_id, error=repr(exc))
            return
        if not done:  # another consumer claimed it while we were slow: its result counts, not ours
            MESSAGES.labels(self.stream, self.group, "claimed_away").inc()
            writer.event("warning", "message claimed by another consumer; result dropped", id=message_id)
            return
        MESSAGES.labels(self.stream, self.group, "ok").inc()
        DURATION.labels(self.stream, self.group).observe(time.perf_counter() - started)

    async def _report_backlog(self) -> None:
        for group in await self.client.xinfo_groups(self.stream):
            if group["name"] == self.group:
                # `lag` is Redis 7's; None when Redis cannot tell (entries deleted mid-stream).
                lag = group.get("lag")
                if lag is not None:
                    BACKLOG.labels(self.stream, self.group, "lag").set(lag)
                BACKLOG.labels(self.stream, self.group, "pending").set(group["pending"])

    async def _leave(self) -> None:
        """Out of the group when we hold nothing (DELCONSUMER would drop what we hold)."""
        with contextlib.suppress(RedisError):
            mine = await self.client.xpending_range(
                self.stream, self.group, "-", "+", 1, consumername=self.name
            )
            if not mine:
                await self.client.xgroup_delconsumer(self.stream, self.group, self.name)
            writer.event("info", "drained: stopped reading, everything read is acknowledged", holds=len(mine))
        await self.client.aclose()

    def ready(self) -> bool:
        return self.connected


async def process(fields: dict[str, str]) -> str:
    """The business logic: here, wait `work-ms` (an I/O call) and total the order."""
    await asyncio.sleep(config.typed("work-ms", int, 20) / 1000)
    return str(int(fields.get("quantity", "1")) * int(fields.get("price", "0")))


drain = DrainState()
worker: Worker | None = None


@contextlib.asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global worker
    worker = Worker(drain)
    task = asyncio.create_task(worker.run())
    yield
    drain.start()  # a stop without SIGTERM (Ctrl-C, tests): stop reading all the same
    await task


def redis_ready() -> bool:
    return worker is not None and worker.ready()


app = Runtime(Starlette(lifespan=lifespan), readiness={"redis": redis_ready})
