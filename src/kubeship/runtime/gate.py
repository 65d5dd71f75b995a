"""The per-worker bound on requests in the app (`kubeship serve --max-concurrency`).

Under overload a queue forms and stands, and its oldest requests are the ones whose clients are
giving up (an ingress times out, a user leaves). Served in arrival order, every request then waits
about as long as clients wait, and almost none is answered in time (benchmarks/overload.py). So,
as Facebook's adaptive LIFO does, a queue that has stood for STANDING serves its newest request
first (answered while someone still waits for it), and a queued request listens for its client:
one that leaves is dropped from the queue, its slot never taken. A queue that comes and goes is
served in arrival order.

The server's own bound is not used: Granian's backpressure counts connections, so a proxy's idle
keep-alive connections hold its slots and the next connection, a kubelet probe's included, waits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from time import monotonic

from kubeship.runtime.types import Message, Receive

STANDING = 0.1  # s the queue has not emptied before the newest goes first (CoDel's interval)


class Gate:
    """At most `limit` requests in at once; the rest wait (see the module's docstring)."""

    __slots__ = ("free", "queue", "since")

    def __init__(self, limit: int) -> None:
        self.free = limit
        self.queue: deque[asyncio.Future[None]] = deque()
        self.since = 0.0  # when the queue last went from empty to waiting

    def try_enter(self) -> bool:
        if self.free and not self.queue:
            self.free -= 1
            return True
        return False

    def join(self) -> asyncio.Future[None]:
        """A place in the queue: resolved when the slot is handed over (cancel it to leave);
        resolved at once if a slot came free since `try_enter` (the request was read meanwhile, and
        nobody would hand that slot over: a closed-loop client then stalled the worker for good)."""
        turn = asyncio.get_running_loop().create_future()
        if self.try_enter():
            turn.set_result(None)
            return turn
        if not self.queue:
            self.since = monotonic()
        self.queue.append(turn)
        return turn

    def leave(self) -> None:
        """Hand the slot to a waiter still there, else free it."""
        queue = self.queue
        newest_first = queue and monotonic() - self.since > STANDING
        while queue:
            turn = queue.pop() if newest_first else queue.popleft()
            if not turn.done():  # a cancelled waiter left
                turn.set_result(None)
                return
        self.free += 1


async def wait_turn(gate: Gate, receive: Receive) -> Replay | None:
    """Wait for a slot of `gate`; → the `receive` to give the app (it replays what was read while
    waiting), or None when the client disconnected first (no slot held)."""
    first = await receive()
    if first["type"] == "http.disconnect":
        return None
    turn = gate.join()
    if first.get("more_body", False):  # an upload still arriving: the client is there
        await _hold(turn, gate)
        return Replay(first, None, receive)
    # The request is read whole, so the next receive() resolves only when the client disconnects:
    # then the place is given up (a turn already handed over stays so, passed on below). A callback
    # rather than asyncio.wait, which costs a queued request about twice as much (Granian's receive()
    # is a future already: no task either).
    gone = asyncio.ensure_future(receive())

    def left(_: object) -> None:
        turn.cancel()

    gone.add_done_callback(left)
    try:
        await turn
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if not (task is not None and task.cancelling()) and gone.done():
            return None  # the client left: nothing held
        _give_up(turn, gate)  # the request itself is cancelled (the server stops)
        gone.cancel()
        raise
    gone.remove_done_callback(left)
    if gone.done():  # left as the slot came: pass it on
        _give_up(turn, gate)
        return None
    return Replay(first, gone, receive)


async def _hold(turn: asyncio.Future[None], gate: Gate) -> None:
    try:
        await asyncio.shield(turn)
    except asyncio.CancelledError:
        _give_up(turn, gate)
        raise


def _give_up(turn: asyncio.Future[None], gate: Gate) -> None:
    if turn.done() and not turn.cancelled():
        gate.leave()  # handed over at the same moment: pass it on
    else:
        turn.cancel()


class Replay:
    """The app's receive: the message read while queued, then the pending read, then the server's."""

    __slots__ = ("first", "pending", "receive")

    def __init__(self, first: Message, pending: asyncio.Future[Message] | None, receive: Receive) -> None:
        self.first: Message | None = first
        self.pending = pending
        self.receive = receive

    async def __call__(self) -> Message:
        if (first := self.first) is not None:
            self.first = None
            return first
        if (pending := self.pending) is not None:
            self.pending = None
            return await pending
        return await self.receive()

    def close(self) -> None:
        """The app is done: a read it never awaited is not left waiting on the connection."""
        if self.pending is not None:
            self.pending.cancel()
