"""The local development stack behind `make run` and `make test`: PostgreSQL (given, local or
embedded), the embedded Tansu broker, migrations, demo data and the process runner."""
