from django.db import models


class Ticket(models.Model):
    subject = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    severity = models.IntegerField()
    organization = models.IntegerField()
    requester_email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.subject
