"""HTTP fixtures: a scriptable feed server on 127.0.0.1."""
