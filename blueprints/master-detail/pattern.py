"""The master-detail pattern's own Python (loaded by dsgen's blueprint registry)."""


def record_route(screen):
    """A master-detail screen shows one record of its store at <route>/<id>: ref fields of
    other screens link there."""
    return screen.route if screen.store is not None else None
