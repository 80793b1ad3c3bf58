"""Domain-free helpers: settings, database, errors, personal-data crypto, periods."""
