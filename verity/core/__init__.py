"""What every part of Verity may use and that imports no app: errors, the embedded services, the database backend."""
