"""Page objects: one per CCW screen, the only place that knows how controls are found."""
