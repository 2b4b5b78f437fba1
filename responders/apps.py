from django.apps import AppConfig


class RespondersConfig(AppConfig):
    name = "responders"
    verbose_name = "Responders and units"

    def ready(self) -> None:
        # Connect the receiver that counts an IdP's multi-factor sign-in as a second factor.
        from django.core.checks import register

        from responders import sso

        register(sso.check_settings)
        sso.connect_receivers()
