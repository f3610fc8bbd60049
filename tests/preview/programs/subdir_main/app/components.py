"""Same module name as the basic fixture's: the runs must not see each other's module."""

NAME_FILE = "name.txt"
