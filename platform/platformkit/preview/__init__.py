"""The offline engine: run a Pulumi Python program under Pulumi's mock runtime and record it.

Modules, in the order data flows through them:

- ``project``: ``Pulumi.yaml`` and the stack files (``main``, ``runtime``).
- ``stack_config``: the stack's config checked against ``Pulumi.yaml``'s declarations.
- ``program``: runs the entry point in-process (``runpy``) and restores the interpreter.
- ``recording`` / ``wire``: the mock monitor recording every registration, decoding what the
  SDK sends as the engine would (references flattened, never rebuilt), bounded by
  ``watchdog``.
- ``fake_cloud``: the provider fakes: ``aws_models`` (per-type outputs), ``synthesize`` /
  ``sdk_schema`` / ``arns`` (outputs derived from the provider SDK's declared types),
  ``lookups`` (invokes), ``identity``; ``answers`` is the user's answers file and
  ``secret_values`` the stand-ins for secrets.
- ``result``: ``run_preview`` and the ``PreviewResult`` handed to every reporter.
- ``report_text`` / ``report_json`` (schema in ``schema/preview-v1.json``).
- ``errors``: the user-facing failures and their exit codes.

Nothing is imported here, so ``platformkit.preview.errors`` stays cheap to import.
"""
