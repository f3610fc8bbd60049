"""platformkit as a Pulumi component package, for programs in TypeScript, Go, YAML, C#, Java.

The components run in this Python process, hosted by the Pulumi SDK's component provider
(``pulumi.provider.experimental``), which infers the package schema from the types in
``platformkit.provider.args`` and ``platformkit.provider.schema_types`` and the output
annotations of the facades in ``platformkit.provider.components``. The plugin directory the
Pulumi CLI loads (``pulumi package add``) is ``provider/`` at the repository root; see
``docs/components.md``.

Modules: ``schema_types`` (the object types other languages pass and receive), ``args`` (the
component inputs), ``components`` (facades building the library components), ``host`` (the
provider process) and ``schema`` (the checked-in schema, regenerated and checked).
"""

PACKAGE_NAME = "platformkit"
"""The Pulumi package name: resource tokens are ``platformkit:index:<Component>``."""
