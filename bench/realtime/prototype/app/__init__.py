"""A demo app whose `tasks` store is realtime: every open list page follows every write."""
