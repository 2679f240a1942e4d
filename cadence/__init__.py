"""The domain of 'het goede gesprek': pure Python, no I/O; `now` is always a parameter."""
