"""学时认定: completions become counted hours; evaluating a teacher against the project's rules."""
