"""Developer tools for maintaining nndsl; none of them is imported at run time."""
