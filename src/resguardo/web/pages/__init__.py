"""Each module adds its pages to the interface's router with ``register(router, site)``."""
