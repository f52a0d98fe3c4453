from django.urls import path

from statuspage import subscriber_views as views

app_name = "subscribers"

urlpatterns = [
    path("api/status/subscribe", views.subscribe, name="subscribe"),
    path("api/status/confirm/<str:token>", views.confirm, name="confirm"),
    path("api/status/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("api/status/manage/<str:token>", views.manage, name="manage"),
]
