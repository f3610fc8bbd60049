"""The preview graph as a Terraform plan, so scanners built for Terraform read Pulumi programs.

Modules, in the order data flows through them:

- ``names``: Pulumi type tokens and property names → Terraform resource types and attribute
  names (the provider's own mapping, vendored in ``aws_names.json``).
- ``values``: a resource's Pulumi inputs → Terraform attribute values (nested blocks as lists,
  maps kept as maps), shaped by the provider SDK's declared types.
- ``references``: which input came from which other resource → Terraform expressions
  (``references = ["aws_x.name.id", "aws_x.name"]``), so graph checks can follow them.
- ``plan``: assembles the plan document (``terraform show -json``'s shape).
- ``baseline``: the checked-in list of Checkov findings accepted per stack, each with a reason.
- ``checkov``: runs Checkov on a stack's export and applies the baseline (``platformkit checkov``).
- ``vendor``: regenerates ``aws_names.json`` from pulumi-aws's ``bridge-metadata.json``.

Only the ``aws`` provider is mapped; other resources (components, ``random``, ``awsx``) have no
Terraform equivalent a scanner knows and are left out.
"""
