"""Files: atomic writes, saving and loading models, exchange with PyTorch."""
