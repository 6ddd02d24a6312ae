from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        # Logins are the one kind of event recorded through signals: Django's login view, the
        # signup page and the admin all log in through django.contrib.auth, which sends them.
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from audit import record

        user_logged_in.connect(record.login_succeeded, dispatch_uid="audit-login")
        user_login_failed.connect(record.login_failed, dispatch_uid="audit-login-failed")
