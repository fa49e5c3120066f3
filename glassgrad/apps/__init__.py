"""What the `glassgrad` command runs: the training runs, their plots, and the command line itself."""
