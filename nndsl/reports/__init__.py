"""Reports people look at: evaluation pictures of a ``test`` step, and a run's page as one HTML file."""
