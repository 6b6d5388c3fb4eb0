"""Plugin registries: every nameable thing in a .nn file comes from one (see ``nndsl.plugins.registry``)."""
