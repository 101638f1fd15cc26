"""Where a login, sign-up or confirmed address leads (`next`): a page of ours, or the studio."""

from __future__ import annotations

import pytest

from beatbun.web.account import AFTER_LOGIN, return_page
from beatbun.web.security import MAX_LOCAL_PATH, local_path


@pytest.mark.parametrize(
    "path",
    [
        "/studio",
        "/tracks?sort=name&page=2",
        "/account/api-keys",
        "/billing/return?session_id=cs_test_1",
        "/tracks/%2F%2Fevil.example",  # encoded slashes stay part of the path
        "/privacy/choices#history",
    ],
)
def test_local_path_keeps_a_page_of_ours(path: str) -> None:
    assert local_path(path) == path
    assert return_page(path) == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "studio",  # relative: resolved against whatever page the form was on
        "https://evil.example/",
        "javascript:alert(1)",
        "//evil.example",  # scheme-relative: another host
        "///evil.example",
        "/\\evil.example",  # browsers read a backslash as a slash: //evil.example
        "\\\\evil.example",
        "/tracks\\..\\..\\evil",
        "/\t/evil.example",  # the URL parser drops tabs and newlines: //evil.example
        "/\n/evil.example",
        "/\r/evil.example",
        " /studio",  # leading space, which the parser strips as well
        "/studio\x00",
        "/studio\x7f",
        "/stüdio",  # not ASCII: a real link would percent-encode it
        "/\u2028/evil.example",
        "/" + "a" * MAX_LOCAL_PATH,
    ],
)
def test_local_path_refuses_anything_that_could_leave_the_site(path: str) -> None:
    assert local_path(path) is None
    assert return_page(path) == AFTER_LOGIN


@pytest.mark.parametrize(
    "path",
    ["/login", "/login?next=/pricing", "/signup", "/verify-email?token=x", "/reset-password"],
)
def test_return_page_never_starts_over_at_a_sign_in_page(path: str) -> None:
    assert return_page(path) == AFTER_LOGIN
