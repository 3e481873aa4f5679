"""One router per screen; the realtime views and streams of the screens that have one."""

from app.realtime.asgi import StreamRoute
from app.screens import tasks
from app.screens.tasks_feed import TaskListView

ROUTERS = [tasks.router]

# Realtime channels served by this app: one view per realtime store screen...
REALTIME_VIEWS = [TaskListView()]
# ...and the URL each page's @get stream opens.
STREAM_ROUTES = [StreamRoute("/tasks/stream", channel="tasks")]
