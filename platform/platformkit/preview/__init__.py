"""The offline engine: run a Pulumi Python program under Pulumi's mock runtime and record it.

Modules, in the order data flows through them:

- ``project``: ``Pulumi.yaml`` and the stack files (``main``, ``runtime``).
- ``stack_config``: the stack's config checked against ``Pulumi.yaml``'s declarations.
- ``program``: runs the entry point in-process (``runpy``) and restores the interpreter.
- ``recording`` / ``fake_cloud``: the mock monitor recording every registration, and the
  provider fakes answering with realistic ids, ARNs and look-ups.
- ``result``: ``run_preview`` and the ``PreviewResult`` handed to every reporter.
- ``report_text`` / ``report_json`` (schema in ``schema/preview-v1.json``).
- ``errors``: the user-facing failures and their exit codes.

Nothing is imported here, so ``platformkit.preview.errors`` stays cheap to import.
"""
