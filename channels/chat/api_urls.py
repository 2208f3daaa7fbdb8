"""/api/v1/ routes of the chat channel (included from helpdesk.api.urls)."""

from django.urls import path

from . import api

urlpatterns = [
    path("chats/", api.ChatListView.as_view(), name="api-chats"),
    path("chats/<int:pk>/", api.ChatDetailView.as_view(), name="api-chat"),
    path("chats/<int:pk>/messages/", api.ChatMessagesView.as_view(), name="api-chat-messages"),
]
