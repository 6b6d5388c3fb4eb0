"""Generated catalogues of the names nndsl knows, shipped as package data.

``keras.json`` lists every public Keras name of each kind with its parameter schema, so
programs can be checked without importing TensorFlow. Regenerate it with
``python -m nndsl.tools.gen_catalogue`` after a Keras upgrade.
"""
