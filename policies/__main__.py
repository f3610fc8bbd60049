"""This repository's policy pack: platformkit's ``platformkit-aws`` pack with its own waivers.

The same pack as the one installed with the distribution (``platformkit.policy.pack``); this
directory adds what belongs to the repository: ``PulumiPolicy.yaml`` pointing at its ``.venv``,
and ``waivers.yaml``. The Pulumi CLI runs this file with ``policies/`` as ``sys.path[0]``, hence
no generic module names here.
"""

from pathlib import Path

from platformkit.policy.pack import serve

serve(waivers_file=Path(__file__).resolve().parent / "waivers.yaml")
