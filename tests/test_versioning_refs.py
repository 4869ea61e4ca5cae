"""The ref and path allow-lists that stand between callers and git."""

from __future__ import annotations

import pytest

from versioning.refs import MAX_REF_LENGTH, InvalidPath, InvalidRef, validate_path, validate_ref


@pytest.mark.parametrize(
    "ref",
    [
        "0123456789abcdef0123456789abcdef01234567",
        "0123abc",
        "ABCDEF12",
        "main",
        "HEAD",
        "feature/new-login",
        "release_2026.11",
        "v1.2.0",
        "refs/heads/main",
        "x",
    ],
)
def test_shas_and_ordinary_branch_and_tag_names_are_accepted(ref: str) -> None:
    assert validate_ref(ref) == ref


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("--upload-pack=touch /tmp/pwned", "only letters"),
        ("-x", "starts with '-'"),
        ("--output=/tmp/x", "only letters"),
        ("HEAD..main", "'..'"),
        ("a b", "only letters"),
        ("main@{1}", "@{"),
        ("HEAD~1", "only letters"),
        ("main^", "only letters"),
        (":README.md", "only letters"),
        ("/main", "starts with '/'"),
        ("feature//x", "'//'"),
        ("main/", "ends with"),
        ("main.", "ends with"),
        ("main.lock", ".lock"),
        ("feature/.hidden", "starts with '.'"),
        ("", "empty"),
        ("main\n", "only letters"),
        ("main\0", "only letters"),
    ],
)
def test_option_like_and_revision_syntax_refs_are_rejected_with_the_reason(ref: str, why: str) -> None:
    with pytest.raises(InvalidRef) as caught:
        validate_ref(ref)
    assert repr(ref) in str(caught.value)
    assert why in str(caught.value)


def test_ref_length_is_capped() -> None:
    assert validate_ref("b" * MAX_REF_LENGTH)
    with pytest.raises(InvalidRef, match="longer than"):
        validate_ref("b" * (MAX_REF_LENGTH + 1))


def test_invalid_ref_and_invalid_path_are_value_errors() -> None:
    assert issubclass(InvalidRef, ValueError)
    assert issubclass(InvalidPath, ValueError)


@pytest.mark.parametrize(
    "path", ["README.md", "en/account/reset-password.md", ".kb/access.yml", "a..b.md", "ja/パスワード.md"]
)
def test_repository_relative_paths_are_accepted(path: str) -> None:
    assert validate_path(path) == path


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../secrets.md", "'..'"),
        ("en/../../etc/passwd", "'..'"),
        ("en/..", "'..'"),
        ("/etc/passwd", "absolute"),
        ("\\server\\share", "absolute"),
        ("en/a.md\0.png", "NUL"),
        ("--output=x", "starts with '-'"),
        ("", "empty"),
    ],
)
def test_unsafe_paths_are_rejected_with_the_reason(path: str, why: str) -> None:
    with pytest.raises(InvalidPath) as caught:
        validate_path(path)
    assert repr(path) in str(caught.value)
    assert why in str(caught.value)
