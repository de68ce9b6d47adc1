"""Business flows of the CCW procedure, built from page-object calls only."""
