"""A policy pack whose program raises before it serves anything."""

raise RuntimeError("this pack is broken on purpose")
