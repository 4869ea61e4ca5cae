"""Search quality evaluation on BEIR-layout data sets, through the same pipeline the server uses."""
