from django.urls import path
from rest_framework import generics, serializers

from .models import Ticket


class TicketSerializer(serializers.ModelSerializer[Ticket]):
    class Meta:
        model = Ticket
        fields = ["id", "subject", "description", "severity", "organization", "requester_email"]


class TicketCreate(generics.CreateAPIView[Ticket]):
    serializer_class = TicketSerializer
    queryset = Ticket.objects.all()


urlpatterns = [path("api/tickets/", TicketCreate.as_view())]
