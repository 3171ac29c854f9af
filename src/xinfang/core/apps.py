from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "xinfang.core"
    label = "core"
    verbose_name = "Xinfang core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from . import filemodes, jobs

        # Owner-only modes on the SQLite files and the media directory (issue #7 point 24).
        connection_created.connect(filemodes.protect_database_files, dispatch_uid="xinfang_db_modes")
        filemodes.protect_media_root()
        # The periodic jobs (core/schedule.py) into django_q's schedule table after every migrate.
        post_migrate.connect(jobs.sync_schedules_after_migrate, sender=self, dispatch_uid="xinfang_schedules")
