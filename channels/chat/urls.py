"""Pages of the chat channel (included at the tenant host's root): the customer's (or anonymous
visitor's) chat and its message feed, the embeddable script, the agents' chat console and the
admins' chat settings."""

from django.urls import path

from . import views, views_agent, views_console, views_visitor

urlpatterns = [
    path("chat/", views.chat_home, name="chat-home"),
    path("chat/embed.js", views.embed_js, name="chat-embed-js"),
    path("chat/<int:chat_id>/", views.chat_session, name="chat-session"),
    path("chat/<int:chat_id>/messages/", views_visitor.chat_messages, name="chat-messages"),
    path("agent/chat/", views_agent.console, name="agent-chat"),
    path("agent/chat/<int:chat_id>/", views_agent.session_page, name="agent-chat-session"),
    path("manage/chat/", views_console.chat_settings, name="console-chat"),
]
