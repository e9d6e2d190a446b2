"""Reference solutions of the capstone projects (graded by tests/test_projects.py; not shipped)."""
