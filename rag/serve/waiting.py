"""Waiting on work for a client that may go away: the work is cancelled when it does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import Request

from rag.errors import RagError

T = TypeVar("T")


class ClientGone(RagError):
    """The client closed the connection before its answer was ready."""


async def _disconnected(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def until_gone(request: Request, work: Awaitable[T]) -> T:
    """The result of `work`, or ClientGone (and `work` cancelled: its place in line is given up) as soon as
    the client disconnects."""
    task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait([task, watch], return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not task.done():
            task.cancel()
    if not task.done() or task.cancelled():
        raise ClientGone("the client went away")
    return task.result()
