"""glassgrad: a glass-box autograd engine, from micrograd's Value to a numpy Tensor."""

from glassgrad.autograd import detect_anomaly, enable_grad, no_grad
from glassgrad.engine import Value

__all__ = ["Value", "detect_anomaly", "enable_grad", "no_grad"]
__version__ = "0.1.0"
