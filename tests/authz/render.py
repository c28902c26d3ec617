"""Writes docs/authorization.md from tests/authz/matrix.yaml."""

from tests.authz import matrix

if __name__ == "__main__":
    matrix.DOC.write_text(matrix.render(matrix.load()), encoding="utf-8")
    print(f"wrote {matrix.DOC}")
