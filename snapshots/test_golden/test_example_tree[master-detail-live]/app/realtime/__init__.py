"""Realtime plumbing for stores marked `realtime: true`.

    write ──trigger──▶ realtime_events (+ xid8, NOTIFY wake-up, same transaction)
                            │
    Listener (1 per process, LISTEN) ──reads what its snapshot did not see──▶ Hub
                                                                               │
                                            Feed per channel: coalesce, re-read rows,
                                            render once (ChannelView)
                                                                               ▼
                                  Subscriber (bounded queue) per stream ──▶ EventStream (SSE)

Store-specific code lives in a `ChannelView` (one per realtime screen, listed in
`app.screens.REALTIME_VIEWS`); everything
in this package is generic.
"""

from app.realtime.events import Change, Kind, NetChanges, Op, net_changes, snapshot
from app.realtime.hub import STATUS_SIGNAL, ChannelView, Feed, Hub
from app.realtime.listener import Listener
from app.realtime.runtime import Realtime, get_realtime
from app.realtime.subscriber import State, Subscriber

__all__ = [
    "STATUS_SIGNAL",
    "Change",
    "ChannelView",
    "Feed",
    "Hub",
    "Kind",
    "Listener",
    "NetChanges",
    "Op",
    "Realtime",
    "State",
    "Subscriber",
    "get_realtime",
    "net_changes",
    "snapshot",
]
