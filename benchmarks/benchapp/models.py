from django.db import models


class BenchItem(models.Model):
    """A tenant table whose second migration (a field and an index) the deploy benchmark applies."""

    name = models.CharField(max_length=100)
    score = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["score"], name="benchapp_score_idx")]

    def __str__(self):
        return self.name
