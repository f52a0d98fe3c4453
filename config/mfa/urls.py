from django.urls import path

from config.mfa import views

urlpatterns = [
    path("admin/login/verify/", views.verify_view, name="two-factor-verify"),
    path(
        "admin/login/verify/webauthn/options",
        views.verify_webauthn_options_view,
        name="two-factor-verify-webauthn-options",
    ),
    path("admin/login/verify/webauthn", views.verify_webauthn_view, name="two-factor-verify-webauthn"),
    path("admin/two-factor/", views.devices_view, name="two-factor"),
    path("admin/two-factor/totp/add", views.totp_add_view, name="two-factor-totp-add"),
    path("admin/two-factor/totp/<int:pk>/confirm", views.totp_confirm_view, name="two-factor-totp-confirm"),
    path("admin/two-factor/recovery-codes", views.recovery_codes_view, name="two-factor-recovery-codes"),
    path(
        "admin/two-factor/webauthn/options", views.webauthn_options_view, name="two-factor-webauthn-options"
    ),
    path(
        "admin/two-factor/webauthn/register",
        views.webauthn_register_view,
        name="two-factor-webauthn-register",
    ),
    path(
        "admin/two-factor/<str:kind>/<int:pk>/remove",
        views.device_remove_view,
        name="two-factor-device-remove",
    ),
]
