"""From checked programs to Keras objects."""
