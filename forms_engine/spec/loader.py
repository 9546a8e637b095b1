"""Placeholder: replaced by the real loader."""
from .model import ProcedureTree


def load_tree(root):
    return ProcedureTree(root=str(root))
