"""学习规则: per-project rule sets as data, and the project's windows."""
