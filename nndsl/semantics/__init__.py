"""Checks on parsed programs: names, arguments, shapes. None of them imports TensorFlow."""
