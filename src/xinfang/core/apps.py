from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "xinfang.core"
    label = "core"
    verbose_name = "Xinfang core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from . import filemodes

        # Owner-only modes on the SQLite files and the media directory (issue #7 point 24).
        connection_created.connect(filemodes.protect_database_files, dispatch_uid="xinfang_db_modes")
        filemodes.protect_media_root()
