"""Read-side queries, one module per area. The analytics read rollups, never the raw orders;
``orders`` looks one order up by its id."""
