"""MongoDB stores: one module per port, sharing a `MongoDatabase`."""
