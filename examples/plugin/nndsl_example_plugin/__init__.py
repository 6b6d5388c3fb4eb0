"""An example nndsl plugin. Importing it imports nothing heavy: Keras loads with the code modules."""
