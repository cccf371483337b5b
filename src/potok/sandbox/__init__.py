"""The sandbox: fictitious but realistic data for trials, training and benchmarks."""
