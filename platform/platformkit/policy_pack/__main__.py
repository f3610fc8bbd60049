"""Entry point of the shipped ``platformkit-aws`` pack (``platformkit policy-pack-path``).

The Pulumi CLI runs this directory with the Python on ``PATH`` (no ``virtualenv`` option: the
pack lives inside the environment platformkit is installed in). Waivers come from the file
``$PLATFORMKIT_WAIVERS`` names; none when it is unset. See docs/policies.md.
"""

from platformkit.policy.pack import serve

serve(waivers_file=None)
