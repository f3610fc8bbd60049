"""JSON Schemas of the offline engine's reports (a package so wheels ship the ``*.json``)."""
