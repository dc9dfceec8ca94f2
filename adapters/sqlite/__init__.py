"""SQLite stores: one module per port, sharing a `SqliteDatabase`."""
