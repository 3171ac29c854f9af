from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and benchmark data (``xinfang seed``).  The top floor: it may import every app."""

    name = "xinfang.demo"
    label = "demo"
    verbose_name = "Demo data"
