from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


class ListenerManager(UserManager):
    def get_by_natural_key(self, username: str):
        # Sign-in is case-insensitive (the constraints below keep that unambiguous).
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A listener (any active user); staff users are the catalog's curators.

    Usernames and e-mail addresses are unique regardless of case.
    """

    email = models.EmailField("e-mail address", blank=True)

    objects = ListenerManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with that e-mail address already exists.",
            ),
        ]
