"""nndsl's built-in plugins. Registered through entry points like any third-party plugin."""
