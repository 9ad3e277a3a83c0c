"""What talks SQL: models, engine and migrations, the repository, the seed's service API."""
