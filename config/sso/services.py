"""Signing a person in from checked ID token claims: their user (found by the (issuer, subject)
link, made on the first sign-in), their role groups (from the groups claim, every time), and the
audit entries for both."""

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from config import audit
from config.models import SsoIdentity
from config.roles import ROLES

USERNAME_MAX = 150
_NOT_IN_USERNAME = re.compile(r"[^\w.@+-]")


class SignInRefused(Exception):
    """The person may not use Vigil (a 403 to them); the message says why and what to ask for."""


def roles_for(claims: dict) -> list[str]:
    """The Vigil roles the groups claim grants, in ROLES order (OIDC_ROLE_MAP). A claim that is
    one string (some providers send a single group so) counts as a list of one."""
    groups = claims.get(settings.OIDC_GROUPS_CLAIM)
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return []
    granted = {
        role for group in groups if isinstance(group, str) for role in settings.OIDC_ROLE_MAP.get(group, ())
    }
    return [role for role in ROLES if role in granted]


def _username_base(claims: dict) -> str:
    for claim in ("preferred_username", "email"):
        value = claims.get(claim)
        if isinstance(value, str):
            cleaned = _NOT_IN_USERNAME.sub("", value.strip())
            if cleaned:
                return cleaned[: USERNAME_MAX - 4]
    return "sso-user"


def _user_create(claims: dict):
    """A new staff user with a free username (the claim's, or with -2, -3… when that is taken)
    and no usable password: they sign in through the provider only."""
    User = get_user_model()
    base = _username_base(claims)
    email = claims.get("email") if isinstance(claims.get("email"), str) else ""
    for number in range(1, 1000):
        username = base if number == 1 else f"{base}-{number}"
        if User.objects.filter(username__iexact=username).exists():
            continue
        user = User(
            username=username,
            email=email[:254],
            first_name=str(claims.get("given_name") or "")[:150],
            last_name=str(claims.get("family_name") or "")[:150],
            is_staff=True,
        )
        user.set_unusable_password()
        try:
            # A savepoint: another sign-in may take the same name at the same moment.
            with transaction.atomic():
                user.save()
        except IntegrityError:
            continue
        return user
    raise SignInRefused("No free username could be made for you; ask an administrator.")


def _roles_set(user, roles: list[str]) -> tuple[list[str], list[str]]:
    """Make the user's role groups exactly `roles`; other groups (custom roles made by hand) stay.
    Returns (before, after)."""
    before = sorted(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    wanted = sorted(roles)
    if before != wanted:
        user.groups.remove(*Group.objects.filter(name__in=set(before) - set(wanted)))
        user.groups.add(*Group.objects.filter(name__in=set(wanted) - set(before)))
    return before, wanted


def sso_sign_in(*, request: HttpRequest, issuer: str, claims: dict):
    """The user these claims sign in, with their role groups set from the claims. Raises
    SignInRefused (after taking away their role groups) when the groups map to no role."""
    roles = roles_for(claims)
    subject = claims["sub"]
    with transaction.atomic():
        identity = SsoIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
        created = identity is None
        if created:
            if not roles:
                # Nobody is made for a person who could not use Vigil anyway.
                raise SignInRefused(_no_role_message())
            user = _user_create(claims)
            try:
                with transaction.atomic():
                    identity = SsoIdentity.objects.create(user=user, issuer=issuer, subject=subject)
            except IntegrityError:
                # The same person's sign-in in another tab got there first: use theirs.
                user.delete()
                identity = SsoIdentity.objects.select_related("user").get(issuer=issuer, subject=subject)
                created = False
        user = identity.user
        if not user.is_active:
            raise SignInRefused("Your Vigil account is deactivated; ask an administrator.")
        before, after = _roles_set(user, roles)
        if roles and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        identity.last_sign_in_at = timezone.now()
        identity.save(update_fields=["last_sign_in_at"])
        if created:
            audit.entry_write(
                actor=user,
                request=request,
                instance=user,
                action="create",
                before=None,
                after={**audit.snapshot(user), "roles": after, "sso_issuer": issuer, "sso_subject": subject},
                changes={"roles": [None, after], "sso_subject": [None, subject]},
            )
        elif before != after:
            audit.entry_write(
                actor=user,
                request=request,
                instance=user,
                action="update",
                before={"roles": before},
                after={"roles": after},
                changes={"roles": [before, after]},
            )
    if not roles:
        raise SignInRefused(_no_role_message())
    return user


def _no_role_message() -> str:
    return (
        "Your account at the identity provider is in no group that has a role in Vigil. "
        "Ask an administrator to add you to one."
    )
