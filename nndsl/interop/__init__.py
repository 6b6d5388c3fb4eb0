"""Interoperability with plain Keras: eject a .nn file to Python, import a saved model as .nn."""
