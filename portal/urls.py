from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from portal import inbox, locality, two_factor_views, views
from portal.two_factor import two_factor_exempt

urlpatterns = [
    path("", views.home, name="home"),
    path("account/", views.account, name="account"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/notifications/", inbox.preferences, name="notification_preferences"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:pk>/", inbox.inbox_message, name="inbox_message"),
    path("inbox/read-all/", inbox.inbox_mark_all_read, name="inbox_mark_all_read"),
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-in/unlock/<str:token>/", views.unlock_account, name="unlock_account"),
    path("account/recovery-codes/", two_factor_views.new_recovery_codes, name="recovery_codes_new"),
    path("sign-in/two-factor/", two_factor_views.verify, name="two_factor_verify"),
    path("sign-in/two-factor/set-up/", two_factor_views.setup, name="two_factor_setup"),
    path(
        "sign-in/two-factor/recovery-code/", two_factor_views.recovery, name="two_factor_recovery"
    ),
    path("sign-out/", two_factor_exempt(auth_views.LogoutView.as_view()), name="logout"),
    path(
        "password-reset/",
        login_not_required(views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        login_not_required(
            auth_views.PasswordResetDoneView.as_view(
                template_name="registration/password_reset_done.html"
            )
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        login_not_required(views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        login_not_required(
            auth_views.PasswordResetCompleteView.as_view(
                template_name="registration/password_reset_complete.html"
            )
        ),
        name="password_reset_complete",
    ),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("cpv/", include("cpv.urls")),
    path("suppliers/", include("suppliers.officer_urls")),
    path("council/locality/", locality.locality, name="locality"),
    path("audit/", include("transparency.urls")),
    path("spending/", include("ledger.urls")),
    path("", include("suppliers.urls")),
    # Tenders' pages under opportunities/ and council/policy/, as tenders:<name>.
    path("", include("tenders.urls")),
]
