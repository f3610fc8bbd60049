"""The service and preview benchmarks. ``bench_service.py`` (the service under load, run as a
script) is built from the modules here: ``workload`` (endpoints, ``Mode``), ``wrk_runner``,
``loopback`` (HTTP to 127.0.0.1), ``targets`` (databases), ``server`` (gunicorn), the phases
``reads``, ``ingest``, ``live`` (with the staleness ``probe``), and ``report``."""
