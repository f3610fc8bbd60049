"""The offline engine: run a Pulumi Python program under Pulumi's mock runtime and record it.

Modules, in the order data flows through them:

- ``project``: ``Pulumi.yaml`` and the stack files (``main``, ``runtime``).
- ``stack_config``: the stack's config checked against ``Pulumi.yaml``'s declarations;
  ``esc_environments`` the ESC environments a stack file imports, opened from local files.
- ``answers``: the user's answers file (what cannot be derived offline), joined by
  ``stack_outputs`` (other stacks' outputs for ``StackReference``); ``secret_values`` the
  stand-ins for secrets.
- ``program``: runs the entry point in-process (``runpy``) and restores the interpreter.
- ``recording`` / ``wire``: the mock monitor recording every registration, decoding what the
  SDK sends as the engine would (references flattened, never rebuilt), bounded by
  ``watchdog``.
- ``fake_cloud``: the provider fakes: ``aws_models`` (per-type outputs), ``resource_ids``
  (ids shaped as the provider shapes them), ``synthesize`` / ``sdk_schema`` / ``arns``
  (outputs derived from the provider SDK's declared types), ``lookups`` (invokes),
  ``identity`` (region, account, seeded values), ``aws_region`` (the region pulumi-aws would
  find, or its error).
- ``result``: ``run_preview`` and the ``PreviewResult`` handed to every reporter.
- The policy gate: ``pack_launch`` (how the CLI starts a Python or Node.js pack),
  ``analyzer`` (a pack process spoken to over the analyzer protocol), ``policy_gate`` (pack
  configs, ``Analyze`` / ``AnalyzeStack``, ``run_policy_preview``) and ``verdicts`` (the
  ``GateReport`` stored as ``PreviewResult.policy``).
- Reporters, each reading only a ``PreviewResult``: ``report_text``, ``report_json`` (schema
  in ``schema/preview-v1.json``), ``report_sarif``, ``report_junit``, ``report_dot``,
  ``report_html`` (the stack page, with ``assets/``) and ``terraform`` (the Terraform-plan
  export and ``platformkit checkov``).
- ``errors``: the user-facing failures and their exit codes.

Nothing is imported here, so ``platformkit.preview.errors`` stays cheap to import.
"""
