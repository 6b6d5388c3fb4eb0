"""Running programs: steps, data, progress, artefacts. The only part of nndsl that loads Keras."""
