"""The content repository through GitPython: files at a ref, changes between commits, bootstrap."""

from versioning.bootstrap import create_repo_from_folder
from versioning.gitoutput import Change, ChangeKind, Revision
from versioning.refs import InvalidPath, InvalidRef, validate_path, validate_ref
from versioning.repo import CommitInfo, ContentRepo, GitFile, RepositoryError, UnknownRef

__all__ = [
    "Change",
    "ChangeKind",
    "CommitInfo",
    "ContentRepo",
    "GitFile",
    "InvalidPath",
    "InvalidRef",
    "RepositoryError",
    "Revision",
    "UnknownRef",
    "create_repo_from_folder",
    "validate_path",
    "validate_ref",
]
