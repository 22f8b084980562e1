"""`make bench`: every speed target measured as a ratio to a floor measured in the same run."""
