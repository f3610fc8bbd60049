"""Read-side queries, one module per area; all read rollups, never the raw orders."""
