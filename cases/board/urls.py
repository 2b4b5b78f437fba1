"""The operations board, under /board/ (acs/urls.py)."""

from django.urls import path

from cases.board import views

app_name = "board"

urlpatterns = [
    path("", views.board, name="page"),
    path("data", views.board_data, name="data"),
]
