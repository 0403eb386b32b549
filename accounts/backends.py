from django.contrib.auth.backends import ModelBackend

from accounts.models import User
from accounts.selectors import listener_for_sign_in


class UsernameOrEmailBackend(ModelBackend):
    """Sign in with a username or an e-mail address, either in any case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        user = listener_for_sign_in(identifier=username)
        if user is None:
            # Run the hasher anyway so that timing does not reveal which accounts exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
