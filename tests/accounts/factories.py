"""Listener factories. Every test that needs an account builds it here."""

from __future__ import annotations

import factory

from accounts.models import User

PASSWORD = "pw-Listen-42"  # tests only


class UserFactory(factory.django.DjangoModelFactory):
    """A listener who can sign in with ``PASSWORD`` (override with ``password=``)."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"listener{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _saved(obj, create, extracted, **kwargs):  # noqa: N805  (factory_boy's signature)
        if create:
            obj.save()


class StaffFactory(UserFactory):
    """A curator: staff, but not a superuser (the admin's own permissions apply)."""

    username = factory.Sequence(lambda n: f"curator{n}")
    is_staff = True


class SuperuserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True
