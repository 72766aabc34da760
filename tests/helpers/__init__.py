"""Code the tests share: test modules and conftest files import from here, never each other."""
