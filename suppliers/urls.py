from django.urls import path

from suppliers import views

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/check-email/", views.register_check_email, name="register_check_email"),
    path("register/check-email/resend/", views.register_resend, name="register_resend"),
    path("register/confirm/<str:token>/", views.verify_email, name="verify_email"),
    path(
        "register/confirm/<str:token>/resend/",
        views.resend_verification,
        name="resend_verification",
    ),
    path("register/join/<str:token>/", views.join, name="join"),
    path("organisation/", views.organisation, name="organisation"),
    path("organisation/edit/", views.organisation_edit, name="organisation_edit"),
    path("organisation/export.json", views.organisation_export, name="organisation_export"),
    path("organisation/addresses/add/", views.site_add, name="site_add"),
    path("organisation/addresses/<int:pk>/edit/", views.site_edit, name="site_edit"),
    path("organisation/addresses/<int:pk>/remove/", views.site_remove, name="site_remove"),
    path("organisation/people/", views.people, name="people"),
    path("organisation/people/invite/", views.person_invite, name="person_invite"),
    path("organisation/people/<int:pk>/role/", views.person_role, name="person_role"),
    path("organisation/people/<int:pk>/remove/", views.person_remove, name="person_remove"),
    path("organisation/people/<int:pk>/unlock/", views.person_unlock, name="person_unlock"),
]
