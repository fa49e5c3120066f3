"""Pictures of the graph: `draw_dot`, the backprop stepper page, the training-loop page, `explain`."""
