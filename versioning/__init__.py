"""The content repository through GitPython: files at a ref, changes between commits, bootstrap."""

from versioning.bootstrap import create_repo_from_folder, create_repo_from_history
from versioning.gitoutput import Change, ChangeKind, Revision
from versioning.refs import InvalidPath, InvalidRef, validate_path, validate_ref
from versioning.replay import HistoryError
from versioning.repo import CommitInfo, ContentRepo, GitFile, RepositoryError, UnknownRef

__all__ = [
    "Change",
    "ChangeKind",
    "CommitInfo",
    "ContentRepo",
    "GitFile",
    "HistoryError",
    "InvalidPath",
    "InvalidRef",
    "RepositoryError",
    "Revision",
    "UnknownRef",
    "create_repo_from_folder",
    "create_repo_from_history",
    "validate_path",
    "validate_ref",
]
